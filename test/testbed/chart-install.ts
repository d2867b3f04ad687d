// The testbed installs fedmesh with the Helm chart itself (charts/fedmesh), so that the CRDs, RBAC, APIService,
// Services and remote access the demo and the end-to-end tests run against are the ones users install. The fedmesh
// processes run on the host, so the chart is told so (externalProcessHost): its Services point at 127.0.0.1 and it
// renders no Deployments.

import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { binaryPath } from './build.js';
import { runCommand } from './run-command.js';
import type { ClusterRecord, TestbedState } from './state.js';
import { TestbedError } from './up.js';

const repoRoot = join(fileURLToPath(import.meta.url), '..', '..', '..', '..');

export const chartPath = (repoRoot: string) => join(repoRoot, 'charts', 'fedmesh');
export const releaseName = 'fedmesh';

export interface HostChartOptions {
  readonly clusterName: string;
  readonly namespace: string;
  /** The host port of `fedmesh server`'s API (the APIService's Service port). */
  readonly apiPort: number;
  /** PEM file of the CA that signed the server's certificate (the APIService caBundle). */
  readonly caBundleFile: string;
  /** The host port of `fedmesh webhooks`, when it runs; without it the webhooks are left out. */
  readonly webhooksPort?: number;
}

/** `helm upgrade --install` arguments for fedmesh processes running on the host (pure). */
export function hostChartArgs(chart: string, o: HostChartOptions): string[] {
  const set = (kv: string) => ['--set', kv];
  return [
    'upgrade',
    '--install',
    releaseName,
    chart,
    '--namespace',
    o.namespace,
    '--create-namespace',
    ...set(`cluster.name=${o.clusterName}`),
    ...set('externalProcessHost=127.0.0.1'),
    ...set(`server.service.port=${o.apiPort}`),
    ...set('tls.mode=provided'),
    '--set-file',
    `tls.provided.caBundle=${o.caBundleFile}`,
    ...(o.webhooksPort === undefined
      ? [...set('webhooks.enabled=false'), ...set('tests.webhooks=false')]
      : set(`webhooks.service.port=${o.webhooksPort}`)),
    // The testbed's nodes are not real machines: no agent DaemonSet (the agent runs in the nodes' namespaces).
    ...set('agent.enabled=false'),
    // The clusters are joined with `fedmesh remote-access` first, which creates the same access objects.
    ...set('remoteAccess.enabled=false'),
  ];
}

/** Runs helm against one testbed cluster (its own cache and config under the testbed's directory). */
export async function runHelm(
  stateDir: string,
  cache: string,
  kubeconfig: string,
  args: readonly string[],
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const home = join(stateDir, 'helm');
  mkdirSync(home, { recursive: true });
  return runCommand(binaryPath('helm', cache), [...args, '--kubeconfig', kubeconfig], {
    env: {
      ...process.env,
      // helm shares kubectl's discovery cache (per host:port, kept for hours) unless told otherwise; filled before
      // the federation API is registered, it would hide that API's kinds from `kubectl get fedmesh` afterwards.
      KUBECACHEDIR: join(home, 'kube-cache'),
      HELM_CACHE_HOME: join(home, 'cache'),
      HELM_CONFIG_HOME: join(home, 'config'),
      HELM_DATA_HOME: join(home, 'data'),
    },
  });
}

/**
 * Installs (or upgrades) the chart in one testbed cluster for a `fedmesh server` on this host, serving on `apiPort`
 * with the CA in `certDir/ca.crt`.
 */
export async function installChartForHostProcesses(
  state: TestbedState,
  cluster: ClusterRecord,
  o: { namespace: string; apiPort: number; certDir: string },
): Promise<void> {
  const args = hostChartArgs(chartPath(repoRoot), {
    clusterName: cluster.name,
    namespace: o.namespace,
    apiPort: o.apiPort,
    caBundleFile: join(o.certDir, 'ca.crt'),
  });
  const r = await runHelm(state.dir, state.cache, cluster.kubeconfig, args);
  if (r.code !== 0) throw new TestbedError(`helm could not install the chart in ${cluster.name}:\n${r.stderr.trim()}`);
}
