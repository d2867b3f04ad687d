import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { apiServiceName, loadOrCreateServingCert, servingDnsNames } from '../../apiserver/index.js';
import { applyManifest } from '../../core/kube/apply.js';
import { isStatus, KubeApiError, KubeRestClient } from '../../core/kube/rest-client.js';
import { readServiceAccountToken, serviceAccountTokenSecret } from '../../core/kube/service-account-token.js';
import { mcsCrds } from '../../federation/federated-services/mcs/crds.js';
import { rccCrd } from '../../federation/rcc-crd.js';
import { rccPath } from '../../federation/rcc-spec.js';
import { accessKubeconfig, localJoinManifests } from '../../federation/remote-access.js';
import { grantRemoteAccess } from '../../federation/remote-access-grant.js';
import { serverServiceAccount, serverTokenSecret } from '../../federation/server-access.js';
import { installChartForHostProcesses } from './chart-install.js';
import { deployWebhooks, policyCrds, type WebhookDeployOptions } from './deploy-webhooks.js';
import { freePort, isRunning, logTail, type Started, startDetached, stopProcess } from './processes.js';
import { type TestbedState, writeState } from './state.js';
import { launchProcess, TestbedError } from './up.js';

const repoRoot = join(fileURLToPath(import.meta.url), '..', '..', '..', '..');
const fedmeshBin = join(repoRoot, 'bin', 'fedmesh.js');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Installs the CRDs (RemoteClusterConfiguration, FederatedNetworkPolicy) and waits until the API serves them. */
export async function installCrds(client: KubeRestClient): Promise<void> {
  await installCrd(client, rccCrd as unknown as Parameters<typeof applyManifest>[1], rccPath);
  for (const crd of policyCrds) {
    await installCrd(
      client,
      crd as unknown as Parameters<typeof applyManifest>[1],
      `/apis/${crd.spec.group}/${crd.spec.versions[0].name}/${crd.spec.names.plural}`,
    );
  }
}

/** The multi-cluster services API (ServiceExport, ServiceImport), which the federated services controller uses. */
export async function installMcsCrds(client: KubeRestClient): Promise<void> {
  await Promise.all(
    mcsCrds.map((crd) => {
      const spec = crd.spec as { group: string; names: { plural: string }; versions: { name: string }[] };
      return installCrd(client, crd, `/apis/${spec.group}/${spec.versions[0]?.name}/${spec.names.plural}`);
    }),
  );
}

async function installCrd(client: KubeRestClient, crd: Parameters<typeof applyManifest>[1], listPath: string) {
  await applyManifest(client, crd);
  const path = `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${crd.metadata.name}`;
  for (let i = 0; i < 120; i++) {
    const got = await client.get<{ status?: { conditions?: { type: string; status: string }[] } }>(path);
    if (got.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True')) {
      try {
        await client.get(listPath);
        return;
      } catch (err) {
        // 429 "storage is (re)initializing" comes for a moment after Established.
        if (!isStatus(err, 404) && !isStatus(err, 429)) throw err;
      }
    }
    await sleep(250);
  }
  throw new TestbedError(`the CRD ${crd.metadata.name} did not become established`);
}

/**
 * Joins every ordered pair of testbed clusters: each cluster grants read-only access, and every other cluster
 * gets a Secret with a kubeconfig for it and an RCC named after it.
 */
export async function joinClusters(
  state: TestbedState,
  clients: ReadonlyMap<string, KubeRestClient>,
  report: (msg: string) => void,
): Promise<void> {
  const access = new Map<string, { token: string; caPem: string }>();
  await Promise.all(
    state.clusters.map(async (c) => {
      const client = clients.get(c.name);
      if (!client) throw new Error('unreachable');
      access.set(c.name, await grantRemoteAccess(client));
    }),
  );
  await Promise.all(
    state.clusters.map(async (local) => {
      const client = clients.get(local.name);
      if (!client) throw new Error('unreachable');
      for (const remote of state.clusters) {
        if (remote.name === local.name) continue;
        const a = access.get(remote.name);
        if (!a) throw new Error('unreachable');
        const kubeconfig = accessKubeconfig({ clusterName: remote.name, server: remote.server, ...a });
        for (const m of localJoinManifests({ clusterName: remote.name, kubeconfig })) {
          await applyManifest(client, m);
        }
      }
      report(`${local.name}: joined ${state.clusters.length - 1} remote clusters`);
    }),
  );
}

function packageVersion(): string {
  return (JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { version: string }).version;
}

/** Waits until every RCC of every cluster says InSync; throws with the states otherwise. */
export async function waitForMeshInSync(
  state: TestbedState,
  clients: ReadonlyMap<string, KubeRestClient>,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  for (;;) {
    const pending: string[] = [];
    for (const c of state.clusters) {
      const list = await clients
        .get(c.name)
        ?.get<{ items: { metadata: { name: string }; status?: { state?: string; message?: string } }[] }>(rccPath);
      for (const r of list?.items ?? []) {
        if (r.status?.state !== 'InSync') {
          pending.push(`${c.name}→${r.metadata.name}: ${r.status?.state ?? 'no status'} ${r.status?.message ?? ''}`);
        }
      }
    }
    if (pending.length === 0) return;
    last = pending.join('\n  ');
    for (const p of state.processes.filter((p) => p.component === 'fedmesh-server')) {
      if (!isRunning(p))
        throw new TestbedError(`fedmesh server of ${p.cluster} exited. Last lines of its log:\n${logTail(p.log)}`);
    }
    if (Date.now() > deadline) throw new TestbedError(`the mesh is not in sync after ${timeoutMs / 1000}s:\n  ${last}`);
    await sleep(200);
  }
}

/** The Service the testbed's APIServices point to: ExternalName 127.0.0.1, one per cluster. */
const apiService = { namespace: 'fedmesh-system', name: 'fedmesh-api' } as const;

/** Waits until the aggregator reports the federation APIService Available (it probes /apis/<g>/<v> through TLS). */
async function waitForApiService(
  state: TestbedState,
  client: KubeRestClient | undefined,
  cluster: string,
  timeoutMs: number,
): Promise<void> {
  if (!client) throw new Error('unreachable');
  const deadline = Date.now() + timeoutMs;
  let last = '';
  let nudgedAt = 0;
  for (;;) {
    const svc = await client.get<{
      status?: { conditions?: { type: string; status: string; reason?: string; message?: string }[] };
    }>(`/apis/apiregistration.k8s.io/v1/apiservices/${apiServiceName}`);
    const available = svc.status?.conditions?.find((x) => x.type === 'Available');
    if (available?.status === 'True') return;
    last = `${available?.reason ?? 'no condition'}: ${available?.message ?? ''}`;
    // The aggregator re-checks an unavailable APIService with a backoff that grows to 30 s, or at once when the
    // APIService, its Service or its endpoints change. In a cluster the server's pod becoming ready changes the
    // endpoints; the testbed's ExternalName Service has none, so touching the APIService stands in for that event
    // (not the Service: every Service change is work for the servers, which watch Services).
    if (Date.now() - nudgedAt >= 1000) {
      nudgedAt = Date.now();
      await client.mergePatch(`/apis/apiregistration.k8s.io/v1/apiservices/${apiServiceName}`, {
        metadata: { annotations: { 'testbed.fedmesh.io/backend-checked-at': String(nudgedAt) } },
      });
    }
    const server = state.processes.find((p) => p.cluster === cluster && p.component === 'fedmesh-server');
    if (server && !isRunning(server)) {
      throw new TestbedError(`fedmesh server of ${cluster} exited. Last lines of its log:\n${logTail(server.log)}`);
    }
    if (Date.now() > deadline)
      throw new TestbedError(`APIService ${apiServiceName} in ${cluster} is not Available: ${last}`);
    await sleep(250);
  }
}

/**
 * `fedmesh testbed deploy`: installs the CRDs in every cluster, joins every pair of clusters, and runs one
 * `fedmesh server` and one `fedmesh webhooks` per cluster on the host (logs in .testbed/logs/, stopped by
 * `fedmesh testbed down`).
 * Running it again restarts the servers.
 */
export async function deployFedmesh(
  state: TestbedState,
  report: (msg: string) => void,
  opts: { serverArgs?: readonly string[]; webhooks?: WebhookDeployOptions } = {},
): Promise<void> {
  const clients = new Map<string, KubeRestClient>();
  try {
    for (const c of state.clusters) clients.set(c.name, await KubeRestClient.fromKubeconfigFile(c.kubeconfig, 8));
    await Promise.all(
      [...clients.values()].map(async (client) => Promise.all([installCrds(client), installMcsCrds(client)])),
    );
    report(`installed the fedmesh CRDs and the multi-cluster services CRDs in ${clients.size} clusters`);
    await joinClusters(state, clients, report);

    const old = state.processes.filter((p) => p.component === 'fedmesh-server');
    if (old.length > 0) {
      await Promise.all(old.map((p) => stopProcess(p)));
      state.processes = state.processes.filter((p) => p.component !== 'fedmesh-server');
      writeState(state);
      report(`stopped ${old.length} fedmesh servers of an earlier deploy`);
    }
    const version = `v${packageVersion()}`;
    // The clusters are independent, and a cluster's webhooks do not need its server: all of them start at once.
    const startServer = async (c: TestbedState['clusters'][number]) => {
      const port = await freePort();
      const apiPort = await freePort();
      // The serving certificate is made before the server starts, so that its CA can go in the APIService now.
      const certDir = join(state.dir, 'fedmesh', c.name, 'certs');
      const serving = loadOrCreateServingCert({
        certDir,
        dnsNames: servingDnsNames(apiService.name, apiService.namespace),
      });
      const client = clients.get(c.name);
      if (!client || !serving.caPem) throw new Error('unreachable');
      // The server runs as its own ServiceAccount with least privilege, as it would in a pod: a permission it
      // lacks fails here, not first in production.
      // The Helm chart, as users install it, brings the server's RBAC, the APIService and its Service (here an
      // ExternalName to this host) and the remote access; outside a pod the server also needs a long-lived token.
      await installChartForHostProcesses(state, c, { namespace: apiService.namespace, apiPort, certDir });
      await applyManifest(
        client,
        serviceAccountTokenSecret(apiService.namespace, serverServiceAccount, serverTokenSecret),
      );
      const identity = await readServiceAccountToken(client, apiService.namespace, serverTokenSecret);
      const kubeconfig = join(state.dir, 'fedmesh', c.name, 'server.kubeconfig');
      writeFileSync(
        kubeconfig,
        accessKubeconfig({ clusterName: c.name, server: c.server, ...identity, user: serverServiceAccount }),
        { mode: 0o600 },
      );
      launchProcess(state, {
        cluster: c.name,
        component: 'fedmesh-server',
        port,
        version,
        argv: [
          process.execPath,
          fedmeshBin,
          'server',
          `--cluster-name=${c.name}`,
          `--kubeconfig=${kubeconfig}`,
          `--metrics-bind-address=127.0.0.1:${port}`,
          `--api-bind-address=127.0.0.1:${apiPort}`,
          `--cert-dir=${certDir}`,
          `--api-service=${apiService.namespace}/${apiService.name}`,
          ...(opts.serverArgs ?? []),
        ],
      });
      report(`${c.name}: fedmesh server: API on 127.0.0.1:${apiPort}, metrics on 127.0.0.1:${port}`);
    };
    await Promise.all([
      ...state.clusters.map(startServer),
      deployWebhooks(state, clients, fedmeshBin, version, report, opts.webhooks ?? {}),
    ]);
    await Promise.all([
      waitForMeshInSync(state, clients, 120_000).then(() => report('every RCC is InSync')),
      ...state.clusters.map((c) =>
        waitForApiService(state, clients.get(c.name), c.name, 60_000).then(() =>
          report(`${c.name}: APIService ${apiServiceName} Available`),
        ),
      ),
    ]);
    report(
      `the federation API is available in every cluster: kubectl get ${'federatedendpoints,remoteworkloads,remotenodes'} -A`,
    );
    report(`every cluster is joined to the ${state.clusters.length - 1} others and in sync`);
  } catch (err) {
    if (err instanceof KubeApiError) throw new TestbedError(`deploy failed: ${err.message}`);
    throw err;
  } finally {
    for (const c of clients.values()) c.close();
  }
}

/** A replica started next to a deployed server: stop it with stopProcess({ pid: started.pid, argv }). */
export interface ServerReplica {
  readonly started: Started;
  readonly argv: readonly string[];
  readonly metricsPort: number;
  readonly apiPort: number;
}

/**
 * Another replica of `cluster`'s fedmesh server, as a Deployment's next pod would be: the same flags (identity,
 * certificates, API Service) with its own ports, logging to `<dir>/logs/<cluster>-fedmesh-server-<n>.log`.
 */
export async function startServerReplica(state: TestbedState, cluster: string, n: number): Promise<ServerReplica> {
  const first = state.processes.find((p) => p.cluster === cluster && p.component === 'fedmesh-server');
  if (!first) throw new TestbedError(`no fedmesh server runs for ${cluster}: deploy first`);
  const metricsPort = await freePort();
  const apiPort = await freePort();
  const argv = first.argv.map((a) => {
    if (a.startsWith('--metrics-bind-address=')) return `--metrics-bind-address=127.0.0.1:${metricsPort}`;
    if (a.startsWith('--api-bind-address=')) return `--api-bind-address=127.0.0.1:${apiPort}`;
    return a;
  });
  const started = startDetached(argv, join(state.dir, 'logs', `${cluster}-fedmesh-server-${n}.log`));
  return { started, argv, metricsPort, apiPort };
}
