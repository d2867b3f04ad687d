import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { KubeRestClient } from '../../core/kube/rest-client.js';
import { binaryPath } from './build.js';
import { killAllSync } from './processes.js';
import { type CommandResult, runCommand } from './run-command.js';
import type { Scenario } from './scenario.js';
import { type SeedResult, seed } from './seed.js';
import { readState, type TestbedState } from './state.js';
import { down, up } from './up.js';

/**
 * What an end-to-end test gets: running clusters, their kubeconfigs, a REST client and the real kubectl.
 * The testbed is torn down by `down()` (call it in `after`), and killed on process exit even if a test
 * failed or the runner timed out.
 */
export interface TestCluster {
  readonly name: string;
  readonly kubeconfig: string;
  readonly server: string;
  readonly client: KubeRestClient;
  /** Runs the real kubectl (the servers' version) against this cluster. */
  kubectl(args: readonly string[], input?: string): Promise<CommandResult>;
  /** Like kubectl, but throws with kubectl's stderr unless it exits 0; returns stdout. */
  kubectlOk(args: readonly string[], input?: string): Promise<string>;
  seed(scenario: Scenario): Promise<SeedResult>;
}

export interface Testbed {
  readonly dir: string;
  readonly state: TestbedState;
  readonly kubectlPath: string;
  readonly helmPath: string;
  readonly clusters: ReadonlyMap<string, TestCluster>;
  cluster(name: string): TestCluster;
  down(): Promise<void>;
}

export const repoRoot = join(fileURLToPath(import.meta.url), '..', '..', '..', '..');

const live = new Set<string>();
let hooked = false;
function killLeftovers(): void {
  for (const dir of live) killAllSync(readState(dir)?.processes ?? []);
}
function hookExit(): void {
  if (hooked) return;
  hooked = true;
  process.on('exit', killLeftovers);
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.once(sig, () => {
      killLeftovers();
      process.exit(130);
    });
  }
}

export async function startTestbed(opts: {
  name: string;
  clusters: readonly string[];
  apiserverArgs?: readonly string[];
}): Promise<Testbed> {
  const dir = join(repoRoot, '.testbed', 'e2e', `${opts.name}-${process.pid}`);
  mkdirSync(dir, { recursive: true });
  hookExit();
  live.add(dir);
  const state = await up({
    clusters: opts.clusters,
    dir,
    ...(opts.apiserverArgs ? { apiserverArgs: opts.apiserverArgs } : {}),
    report: (m) => console.error(`[testbed ${opts.name}] ${m}`),
  });
  const kubectlPath = binaryPath('kubectl', state.cache);
  const clusters = new Map<string, TestCluster>();
  for (const c of state.clusters) {
    const client = await KubeRestClient.fromKubeconfigFile(c.kubeconfig, 48);
    const kubectl = (args: readonly string[], input?: string) =>
      runCommand(kubectlPath, args, {
        env: { ...process.env, KUBECONFIG: c.kubeconfig },
        ...(input === undefined ? {} : { input }),
      });
    clusters.set(c.name, {
      name: c.name,
      kubeconfig: c.kubeconfig,
      server: c.server,
      client,
      kubectl,
      async kubectlOk(args, input) {
        const r = await kubectl(args, input);
        if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')} (${c.name}) exited ${r.code}: ${r.stderr.trim()}`);
        return r.stdout;
      },
      seed: (scenario) => seed(client, scenario),
    });
  }
  return {
    dir,
    state,
    kubectlPath,
    helmPath: binaryPath('helm', state.cache),
    clusters,
    cluster(name) {
      const c = clusters.get(name);
      if (!c) throw new Error(`no cluster ${name} in this testbed`);
      return c;
    },
    async down() {
      for (const c of clusters.values()) c.client.close();
      await down({ dir, report: () => {} });
      live.delete(dir);
    },
  };
}

/** Retries `fn` until it stops throwing or `timeoutMs` passes; then throws its last error. */
export async function eventually<T>(fn: () => Promise<T>, timeoutMs = 30_000, intervalMs = 250): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await fn();
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, intervalMs));
    }
  }
}
