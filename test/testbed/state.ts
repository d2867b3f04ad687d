import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

export type Component =
  | 'etcd'
  | 'kube-apiserver'
  | 'kube-controller-manager'
  | 'kubelet-sim'
  | 'fedmesh-server'
  | 'fedmesh-webhooks'
  | 'netns-relay'
  | 'fedmesh-agent';

/** A process the testbed started and must stop. */
export interface ProcessRecord {
  readonly cluster: string | null;
  readonly component: Component;
  readonly pid: number;
  readonly port: number | null;
  readonly version: string;
  readonly argv: readonly string[];
  readonly log: string;
  readonly startedAt: string;
}

export interface ClusterRecord {
  readonly name: string;
  readonly apiPort: number;
  readonly server: string;
  readonly kubeconfig: string;
  readonly etcdPrefix: string;
  readonly serviceCidr: string;
}

/** Everything `down` and `status` need, in .testbed/state.json. */
export interface TestbedState {
  readonly dir: string;
  readonly cache: string;
  readonly createdAt: string;
  clusters: ClusterRecord[];
  processes: ProcessRecord[];
}

/** `${FEDMESH_TESTBED_DIR}` or ./.testbed (git-ignored). */
export function testbedDir(env: NodeJS.ProcessEnv = process.env): string {
  return resolve(env.FEDMESH_TESTBED_DIR || '.testbed');
}

function statePath(dir: string): string {
  return join(dir, 'state.json');
}

export function readState(dir: string): TestbedState | undefined {
  if (!existsSync(statePath(dir))) return undefined;
  return JSON.parse(readFileSync(statePath(dir), 'utf8')) as TestbedState;
}

/** Written atomically after every process start, so that a crash mid-`up` still leaves `down` a full list. */
export function writeState(state: TestbedState): void {
  mkdirSync(state.dir, { recursive: true });
  const p = statePath(state.dir);
  writeFileSync(`${p}.tmp`, `${JSON.stringify(state, null, 2)}\n`);
  renameSync(`${p}.tmp`, p);
}
