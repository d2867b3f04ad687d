// bench/federated-services: 1k federated Services in east over 3 clusters, 50 endpoints each (25 in west, 25 in
// north, from selectorless backend Services whose EndpointSlices the bench writes itself, so no pods are needed).
// East's mesh cache and federated services controller run in this process, as in `fedmesh server`.
// Figures:
//  - a remote endpoint's readiness flipped on west's or north's kube-apiserver → the local EndpointSlice updated
//    (seen on a watch of east's kube-apiserver), p50/p99 over N changes, against the floor of the same change
//    reaching the mesh cache (the cache's subscriber event); the difference is what the controller adds;
//  - the initial sync (every slice created), and a full resync after a restart (new mesh cache, new controller)
//    that must write zero slices.
//   node dist/bench/federated-services.js [--services 1000] [--endpoints 50] [--changes 500] [--runs 3]
import { createWriteStream } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { KubeConfig } from '@kubernetes/client-node';
import { Registry } from 'prom-client';
import { applyManifest } from '../core/kube/apply.js';
import { KubeRestClient, type WatchEvent } from '../core/kube/rest-client.js';
import { createLogger } from '../core/log/logger.js';
import { FederatedServicesController, type Federation, type MeshEvent, startFederation } from '../federation/index.js';
import { accessKubeconfig, localJoinManifests } from '../federation/remote-access.js';
import { grantRemoteAccess } from '../federation/remote-access-grant.js';
import { installCrds } from '../test/testbed/deploy.js';
import { startTestbed, type TestCluster } from '../test/testbed/harness.js';

const { values } = parseArgs({
  options: {
    services: { type: 'string', default: '1000' },
    endpoints: { type: 'string', default: '50' },
    changes: { type: 'string', default: '500' },
    runs: { type: 'string', default: '3' },
  },
});
const services = Number(values.services);
const perService = Number(values.endpoints);
const changes = Number(values.changes);
const runs = Number(values.runs);
const namespaces = 10;
const q = (xs: number[], p: number) =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(p * xs.length))] ?? Number.NaN;
const median = (xs: number[]) => q(xs, 0.5);
const now = () => performance.now();
const ns = (i: number) => `bench-${i % namespaces}`;

async function inParallel<T>(items: readonly T[], width: number, fn: (x: T) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < items.length) await fn(items[next++] as T);
    }),
  );
}

/** Endpoint `e` of Service `i` in a remote cluster (`c` 1: west, 2: north): distinct addresses everywhere. */
const ip = (c: number, i: number, e: number) => `10.${100 + c}.${Math.floor(i / 4)}.${(i % 4) * 50 + e + 1}`;

function sliceOf(c: number, i: number, n: number, readyFlip?: number) {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: {
      name: `svc-${i}-bench`,
      namespace: ns(i),
      labels: { 'kubernetes.io/service-name': `svc-${i}`, 'endpointslice.kubernetes.io/managed-by': 'bench' },
    },
    addressType: 'IPv4',
    ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
    endpoints: Array.from({ length: n }, (_, e) => ({
      addresses: [ip(c, i, e)],
      conditions: { ready: e !== readyFlip, serving: e !== readyFlip, terminating: false },
      nodeName: `node-${e % 5}`,
      targetRef: { kind: 'Pod', namespace: ns(i), name: `svc-${i}-${e}` },
    })),
  };
}

async function seedRemote(cluster: TestCluster, c: number, n: number): Promise<void> {
  const client = cluster.client;
  for (let k = 0; k < namespaces; k++) await client.create('/api/v1/namespaces', { metadata: { name: ns(k) } });
  const ids = Array.from({ length: services }, (_, i) => i);
  await inParallel(ids, 48, async (i) => {
    await client.create(`/api/v1/namespaces/${ns(i)}/services`, {
      metadata: { name: `svc-${i}`, labels: { app: `svc-${i}`, tier: i % 2 ? 'web' : 'api' } },
      spec: { ports: [{ name: 'http', port: 80, targetPort: 8080 }] },
    });
    await client.create(`/apis/discovery.k8s.io/v1/namespaces/${ns(i)}/endpointslices`, sliceOf(c, i, n));
  });
}

async function seedLocal(cluster: TestCluster): Promise<void> {
  const client = cluster.client;
  for (let k = 0; k < namespaces; k++) await client.create('/api/v1/namespaces', { metadata: { name: ns(k) } });
  const ids = Array.from({ length: services }, (_, i) => i);
  await inParallel(ids, 48, (i) =>
    client.create(`/api/v1/namespaces/${ns(i)}/services`, {
      metadata: {
        name: `fed-${i}`,
        annotations: { 'federation.fedmesh.io/serviceSelector': `app == 'svc-${i}'` },
      },
      spec: { ports: [{ name: 'http', port: 80 }] },
    }),
  );
}

interface Running {
  fed: Federation;
  controller: FederatedServicesController;
  registry: Registry;
}

async function start(kubeconfig: string, logDir: string): Promise<Running> {
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfig);
  const log = createLogger('bench', 'warn', createWriteStream(join(logDir, `bench-${Date.now()}.log`)));
  const registry = new Registry();
  const fed = await startFederation({ localKubeConfig: kc, clusterName: 'east', log, registry, historySize: 100_000 });
  const controller = new FederatedServicesController({
    cache: fed.cache,
    meshReady: fed.ready,
    localCluster: 'east',
    client: await KubeRestClient.fromKubeConfig(kc, 32),
    log,
    registry,
    mayWrite: () => true,
  });
  controller.start();
  await fed.ready;
  return { fed, controller, registry };
}

async function writes(registry: Registry): Promise<number> {
  const m = (await registry.getMetricsAsJSON()).find((x) => x.name === 'fedmesh_federated_service_slice_writes_total');
  return ((m?.values ?? []) as { value: number }[]).reduce((a, v) => a + v.value, 0);
}

/** Waits until the controller has written every Service's slices (2 per Service: west and north). */
async function settle(east: TestCluster, r: Running, wanted: number): Promise<void> {
  for (;;) {
    await r.controller.idle();
    const list = await east.client.get<{ items: unknown[] }>(
      '/apis/discovery.k8s.io/v1/endpointslices?labelSelector=endpointslice.kubernetes.io%2Fmanaged-by%3Dfederation.fedmesh.io',
    );
    if (list.items.length >= wanted) return;
    await new Promise((res) => setTimeout(res, 200));
  }
}

const tb = await startTestbed({ name: 'bench-federated-services', clusters: ['east', 'west', 'north'] });
try {
  const east = tb.cluster('east');
  const remotes = [tb.cluster('west'), tb.cluster('north')];
  const half = Math.floor(perService / 2);
  let t = now();
  await Promise.all([
    seedRemote(remotes[0] as TestCluster, 1, half),
    seedRemote(remotes[1] as TestCluster, 2, perService - half),
    seedLocal(east),
  ]);
  console.error(
    `seeded ${services} backend Services + slices in west and north, ${services} federated in east: ${((now() - t) / 1000).toFixed(1)} s`,
  );
  // East joins west and north (read-only access in each, a Secret and an RCC in east).
  await installCrds(east.client);
  for (const remote of remotes) {
    const access = await grantRemoteAccess(remote.client);
    const kubeconfig = accessKubeconfig({ clusterName: remote.name, server: remote.server, ...access });
    for (const m of localJoinManifests({ clusterName: remote.name, kubeconfig })) await applyManifest(east.client, m);
  }

  t = now();
  let running = await start(east.kubeconfig, tb.dir);
  const meshReadyS = (now() - t) / 1000;
  await settle(east, running, services * 2);
  const initialS = (now() - t) / 1000;
  const initialWrites = await writes(running.registry);
  console.error(
    `mesh ready ${meshReadyS.toFixed(1)} s; every slice written ${initialS.toFixed(1)} s (${initialWrites} writes)`,
  );

  // Local slices watched on east's kube-apiserver: when each change lands.
  const landed = new Map<string, number>(); // `${service}|${ip}|${ready}` → time
  const ac = new AbortController();
  const rv = (
    await east.client.get<{ metadata: { resourceVersion: string } }>('/apis/discovery.k8s.io/v1/endpointslices?limit=1')
  ).metadata.resourceVersion;
  void east.client
    .watch(
      `/apis/discovery.k8s.io/v1/endpointslices?watch=1&resourceVersion=${rv}&labelSelector=endpointslice.kubernetes.io%2Fmanaged-by%3Dfederation.fedmesh.io`,
      (ev: WatchEvent) => {
        const at = now();
        const o = ev.object as unknown as {
          metadata: { labels?: Record<string, string> };
          endpoints?: { addresses: string[]; conditions?: { ready?: boolean } }[];
        };
        const svc = o.metadata.labels?.['kubernetes.io/service-name'];
        for (const e of o.endpoints ?? []) {
          const k = `${svc}|${e.addresses[0]}|${e.conditions?.ready}`;
          if (!landed.has(k)) landed.set(k, at);
        }
      },
      ac.signal,
    )
    .catch(() => {});

  const p50s: number[] = [];
  const p99s: number[] = [];
  const floor50: number[] = [];
  const floor99: number[] = [];
  const added50: number[] = [];
  const added99: number[] = [];
  /** One readiness change of one remote endpoint: ms until the mesh cache has it, and until east's slice has it. */
  async function change(i: number, c: number, e: number, ready: boolean): Promise<{ total: number; floor: number }> {
    const n = c === 1 ? half : perService - half;
    const cluster = remotes[c - 1] as TestCluster;
    const key = `fed-${i}|${ip(c, i, e)}|${ready}`;
    landed.delete(key);
    let meshAt = 0;
    const sub = running.fed.cache.subscribe(
      (ev: MeshEvent) => {
        if (meshAt || ev.type === 'cluster' || ev.object.kind !== 'EndpointSlice') return;
        if (ev.object.cluster !== cluster.name || ev.object.name !== `svc-${i}-bench`) return;
        if (ev.object.endpoints.find((x) => x.addresses[0] === ip(c, i, e))?.ready === ready) meshAt = now();
      },
      { kinds: ['EndpointSlice'], fromRevision: running.fed.cache.revision },
    );
    const t0 = now();
    try {
      await cluster.client.request(
        'PUT',
        `/apis/discovery.k8s.io/v1/namespaces/${ns(i)}/endpointslices/svc-${i}-bench`,
        {
          body: sliceOf(c, i, n, ready ? undefined : e),
        },
      );
      while (!landed.has(key) || meshAt === 0) {
        if (now() > t0 + 30_000) throw new Error(`the change ${key} did not land in 30 s`);
        await new Promise((res) => setTimeout(res, 1));
      }
    } finally {
      sub.unsubscribe();
    }
    return { total: (landed.get(key) ?? 0) - t0, floor: meshAt - t0 };
  }

  for (let run = 0; run < runs; run++) {
    const total: number[] = [];
    const floor: number[] = [];
    // Pairs: an endpoint goes unready, then ready again; both are readiness changes.
    for (let k = 0; k < changes; k += 2) {
      const i = Math.floor(Math.random() * services);
      const c = Math.random() < 0.5 ? 1 : 2;
      const e = Math.floor(Math.random() * (c === 1 ? half : perService - half));
      for (const ready of [false, true]) {
        const r = await change(i, c, e, ready);
        total.push(r.total);
        floor.push(r.floor);
      }
    }
    const added = total.map((x, j) => x - (floor[j] ?? 0));
    p50s.push(q(total, 0.5));
    p99s.push(q(total, 0.99));
    floor50.push(q(floor, 0.5));
    floor99.push(q(floor, 0.99));
    added50.push(q(added, 0.5));
    added99.push(q(added, 0.99));
    console.error(
      `run ${run + 1}/${runs}: ${total.length} changes: remote write → local slice p50 ${q(total, 0.5).toFixed(1)} ms p99 ${q(total, 0.99).toFixed(1)} ms; ` +
        `floor (→ mesh cache) p50 ${q(floor, 0.5).toFixed(1)} p99 ${q(floor, 0.99).toFixed(1)}; added p50 ${q(added, 0.5).toFixed(1)} p99 ${q(added, 0.99).toFixed(1)}`,
    );
  }
  ac.abort();

  // A restart: a new mesh cache and a new controller, from nothing but the clusters.
  await running.controller.stop();
  await running.fed.stop();
  t = now();
  running = await start(east.kubeconfig, tb.dir);
  await running.controller.idle();
  const resyncS = (now() - t) / 1000;
  const resyncWrites = await writes(running.registry);
  await running.controller.stop();
  await running.fed.stop();

  console.log(`machine: ${cpus()[0]?.model ?? '?'}, ${cpus().length} cores, Node ${process.version}`);
  console.log(
    `workload: ${services} federated Services in east, ${perService} endpoints each (${half} in west, ${perService - half} in north), ${namespaces} namespaces; ${changes} readiness changes per run, ${runs} runs`,
  );
  console.log(
    `initial sync: mesh ready ${meshReadyS.toFixed(1)} s, every slice written ${initialS.toFixed(1)} s (${initialWrites} writes)`,
  );
  console.log(
    `remote readiness change → local EndpointSlice (watch on east): median p50 ${median(p50s).toFixed(1)} ms, p99 ${median(p99s).toFixed(1)} ms`,
  );
  console.log(
    `floor, the same change → mesh cache: median p50 ${median(floor50).toFixed(1)} ms, p99 ${median(floor99).toFixed(1)} ms; ratio p50 ${(median(p50s) / median(floor50)).toFixed(2)}, p99 ${(median(p99s) / median(floor99)).toFixed(2)}`,
  );
  console.log(
    `added by the controller (compute + write + watch): median p50 ${median(added50).toFixed(1)} ms, p99 ${median(added99).toFixed(1)} ms (target p99 ≤ 20 ms: ${median(added99) <= 20 ? 'met' : 'MISSED'})`,
  );
  console.log(
    `full resync after a restart: ${resyncS.toFixed(1)} s, ${resyncWrites} slice writes (target 0: ${resyncWrites === 0 ? 'met' : 'MISSED'})`,
  );
} finally {
  await tb.down();
}
