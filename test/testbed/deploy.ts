import type { TestbedState } from './state.js';

// Placeholder until the federation core lands (issue 4): runs a fedmesh server per testbed cluster.
export async function deployFedmesh(_state: TestbedState, _report: (msg: string) => void): Promise<void> {
  throw new Error('fedmesh testbed deploy: not built yet');
}
