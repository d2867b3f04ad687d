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
import { KubeRestClient, type RequestOptions, type WatchEvent } from '../core/kube/rest-client.js';
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

/** When the controller sent its last PUT for a federated Service's slice (bench instrumentation of its client). */
const putSent = new Map<string, number>();

async function start(kubeconfig: string, logDir: string): Promise<Running> {
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfig);
  const log = createLogger('bench', 'warn', createWriteStream(join(logDir, `bench-${Date.now()}.log`)));
  const registry = new Registry();
  const fed = await startFederation({ localKubeConfig: kc, clusterName: 'east', log, registry, historySize: 100_000 });
  const client = await KubeRestClient.fromKubeConfig(kc, 32);
  const request = client.request.bind(client);
  client.request = ((method: string, path: string, opts?: RequestOptions) => {
    const body = opts?.body as { metadata?: { labels?: Record<string, string> } } | undefined;
    const svc = body?.metadata?.labels?.['kubernetes.io/service-name'];
    if (method === 'PUT' && svc) putSent.set(svc, now());
    return request(method, path, opts);
  }) as typeof client.request;
  const controller = new FederatedServicesController({
    cache: fed.cache,
    meshReady: fed.ready,
    localCluster: 'east',
    client,
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

  interface Sample {
    readonly floor: number; // remote write → mesh cache
    readonly total: number; // remote write → local slice seen on a watch
    readonly controller: number; // mesh cache → the controller's PUT sent (queue, compute, plan)
    readonly write: number; // the controller's PUT sent → seen on the watch (local kube-apiserver)
  }
  /** One readiness change of one remote endpoint. */
  async function change(i: number, c: number, e: number, ready: boolean): Promise<Sample> {
    const n = c === 1 ? half : perService - half;
    const cluster = remotes[c - 1] as TestCluster;
    const key = `fed-${i}|${ip(c, i, e)}|${ready}`;
    landed.delete(key);
    putSent.delete(`fed-${i}`);
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
    const at = landed.get(key) ?? 0;
    const sent = putSent.get(`fed-${i}`) ?? at;
    return { floor: meshAt - t0, total: at - t0, controller: sent - meshAt, write: at - sent };
  }

  /** The native floor of the controller's write: the same PUT of a slice on east, until a watch sees it. */
  async function localWriteFloor(count: number): Promise<number[]> {
    const path = `/apis/discovery.k8s.io/v1/namespaces/${ns(0)}/endpointslices`;
    const body = (ready: boolean) => ({
      ...sliceOf(1, 0, half, ready ? undefined : 0),
      metadata: {
        name: 'floor-bench',
        namespace: ns(0),
        labels: { 'endpointslice.kubernetes.io/managed-by': 'bench' },
      },
    });
    await east.client.create(path, body(true));
    const seen = new Map<string, number>();
    const w = new AbortController();
    const rv0 = (await east.client.get<{ metadata: { resourceVersion: string } }>(`${path}/floor-bench`)).metadata
      .resourceVersion;
    void east.client
      .watch(
        `${path}?watch=1&resourceVersion=${rv0}&fieldSelector=metadata.name%3Dfloor-bench`,
        (ev: WatchEvent) => {
          const rv = (ev.object.metadata as { resourceVersion?: string }).resourceVersion ?? '';
          if (!seen.has(rv)) seen.set(rv, now());
        },
        w.signal,
      )
      .catch(() => {});
    const out: number[] = [];
    for (let k = 0; k < count; k++) {
      const t0 = now();
      const stored = await east.client.request<{ metadata: { resourceVersion: string } }>(
        'PUT',
        `${path}/floor-bench`,
        {
          body: body(k % 2 === 1),
        },
      );
      const rv = stored.body.metadata.resourceVersion;
      while (!seen.has(rv)) {
        if (now() > t0 + 30_000) throw new Error('the floor write did not land in 30 s');
        await new Promise((res) => setTimeout(res, 1));
      }
      out.push((seen.get(rv) ?? 0) - t0);
    }
    w.abort();
    await east.client.delete(`${path}/floor-bench`);
    return out;
  }

  type Figure = 'total' | 'floor' | 'added' | 'controller' | 'write' | 'writeFloor';
  const perRun = new Map<Figure, { p50: number[]; p99: number[] }>();
  const record = (name: Figure, xs: number[]) => {
    const f = perRun.get(name) ?? { p50: [], p99: [] };
    f.p50.push(q(xs, 0.5));
    f.p99.push(q(xs, 0.99));
    perRun.set(name, f);
  };
  const fig = (name: Figure, pick: (xs: number[]) => number) => {
    const f = perRun.get(name) ?? { p50: [], p99: [] };
    return `p50 ${pick(f.p50).toFixed(1)} ms, p99 ${pick(f.p99).toFixed(1)} ms`;
  };
  for (let run = 0; run < runs; run++) {
    const samples: Sample[] = [];
    // Pairs: an endpoint goes unready, then ready again; both are readiness changes.
    for (let k = 0; k < changes; k += 2) {
      const i = Math.floor(Math.random() * services);
      const c = Math.random() < 0.5 ? 1 : 2;
      const e = Math.floor(Math.random() * (c === 1 ? half : perService - half));
      for (const ready of [false, true]) samples.push(await change(i, c, e, ready));
    }
    record(
      'total',
      samples.map((x) => x.total),
    );
    record(
      'floor',
      samples.map((x) => x.floor),
    );
    record(
      'added',
      samples.map((x) => x.total - x.floor),
    );
    record(
      'controller',
      samples.map((x) => x.controller),
    );
    record(
      'write',
      samples.map((x) => x.write),
    );
    record('writeFloor', await localWriteFloor(Math.min(changes, 200)));
    const last = (name: Figure) => fig(name, (xs) => xs.at(-1) ?? Number.NaN);
    console.error(
      `run ${run + 1}/${runs}: ${samples.length} changes: total ${last('total')}; floor ${last('floor')}; added ${last('added')} ` +
        `(controller ${last('controller')}; its write ${last('write')}; a bare slice write ${last('writeFloor')})`,
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
  console.log(`remote readiness change → local EndpointSlice (watch on east): median ${fig('total', median)}`);
  const ratio = (p: 'p50' | 'p99') =>
    (median(perRun.get('total')?.[p] ?? []) / median(perRun.get('floor')?.[p] ?? [])).toFixed(2);
  console.log(
    `floor, the same change → mesh cache: median ${fig('floor', median)}; ratio p50 ${ratio('p50')}, p99 ${ratio('p99')}`,
  );
  const added99 = median(perRun.get('added')?.p99 ?? []);
  console.log(
    `added (mesh cache → local slice seen): median ${fig('added', median)} (target p99 ≤ 20 ms: ${added99 <= 20 ? 'met' : 'MISSED'})`,
  );
  console.log(
    `  of which the controller (mesh event → PUT sent: queue, compute, plan): median ${fig('controller', median)}`,
  );
  console.log(`  and its write (PUT sent → seen on east's watch): median ${fig('write', median)}`);
  console.log(
    `  floor of that write, a bare PUT of a 25-endpoint slice on east → watch: median ${fig('writeFloor', median)}`,
  );
  console.log(
    `full resync after a restart: ${resyncS.toFixed(1)} s, ${resyncWrites} slice writes (target 0: ${resyncWrites === 0 ? 'met' : 'MISSED'})`,
  );
} finally {
  await tb.down();
}
