// bench/federated-services: 1k federated Services in east over 3 clusters, 50 endpoints each (25 in west, 25 in
// north, from selectorless backend Services whose EndpointSlices the bench writes itself, so no pods are needed).
// East's mesh cache and federated services controller run in this process, as in `fedmesh server`.
// Figures:
//  - a remote endpoint's readiness flipped on west's or north's kube-apiserver → the local EndpointSlice updated
//    (seen on a watch of east's kube-apiserver), p50/p99 over N changes;
//  - its floor, the same work without fedmesh's own part: the same kind of change, on a remote slice that no
//    federated Service selects, reaches the mesh cache, and the bench itself at once PUTs a prepared local
//    EndpointSlice of the same size on east (what the controller's write costs natively), seen on the same kind of
//    watch. Both paths hold the remote write, the remote watch, the mesh cache, a local slice write and its watch
//    delivery; they differ only by what the controller does (queue, selection, endpoints, plan, its request).
//    Controller and floor changes alternate, so they share the machine's load. Added = total − floor, per
//    percentile; the earlier floor (the change reaching the mesh cache only) is printed too;
//  - the initial sync (every slice created), against its floor: the same creates by the bench, in the same
//    namespaces, owned by the same Services, as many at once; the controller's requests are counted too;
//  - a full resync after a restart (new mesh cache, new controller) that must write zero slices.
//   node dist/bench/federated-services.js [--services 1000] [--endpoints 50] [--changes 500] [--runs 3]
import { createWriteStream } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay, PerformanceObserver } from 'node:perf_hooks';
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

/** Endpoint `e` of Service `i` in a remote cluster (`c` 1: west, 2: north; 3, 4: their floor Services). */
const ip = (c: number, i: number, e: number) => `10.${100 + c}.${Math.floor(i / 4)}.${(i % 4) * 50 + e + 1}`;
/** Backend Services no federated Service selects: the floor's remote changes. */
const floorServices = 20;
const floorOffset = 2;

/** A remote backend slice: `svc-<i>` (selected by fed-<i>) or `floor-<i>` (selected by nothing). */
function sliceOf(c: number, i: number, n: number, readyFlip?: number, prefix: 'svc' | 'floor' = 'svc') {
  const addr = prefix === 'svc' ? c : c + floorOffset;
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: {
      name: `${prefix}-${i}-bench`,
      namespace: ns(i),
      labels: { 'kubernetes.io/service-name': `${prefix}-${i}`, 'endpointslice.kubernetes.io/managed-by': 'bench' },
    },
    addressType: 'IPv4',
    ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
    endpoints: Array.from({ length: n }, (_, e) => ({
      addresses: [ip(addr, i, e)],
      conditions: { ready: e !== readyFlip, serving: e !== readyFlip, terminating: false },
      nodeName: `node-${e % 5}`,
      targetRef: { kind: 'Pod', namespace: ns(i), name: `${prefix}-${i}-${e}` },
    })),
  };
}

/**
 * The floor's local write: east's slice for a floor Service, shaped as the controller writes its slices (the same
 * labels, no nodeName nor targetRef for remote endpoints), with one endpoint of cluster `c` unready or none.
 */
function floorLocalSlice(c: number, i: number, n: number, readyFlip?: number) {
  const remote = sliceOf(c, i, n, readyFlip, 'floor');
  const cluster = c === 1 ? 'west' : 'north';
  return {
    ...remote,
    metadata: {
      name: `floor-${i}-${cluster}-local`,
      namespace: ns(i),
      labels: {
        'kubernetes.io/service-name': `floor-${i}`,
        'endpointslice.kubernetes.io/managed-by': 'bench',
        'multicluster.kubernetes.io/service-name': `floor-${i}`,
        'multicluster.kubernetes.io/source-cluster': cluster,
        'fedmesh.io/cluster': cluster,
      },
    },
    endpoints: remote.endpoints.map(({ nodeName: _n, targetRef: _t, ...e }) => e),
  };
}

async function seedRemote(cluster: TestCluster, c: number, n: number): Promise<void> {
  const client = cluster.client;
  for (let k = 0; k < namespaces; k++) await client.create('/api/v1/namespaces', { metadata: { name: ns(k) } });
  const ids = Array.from({ length: services + floorServices }, (_, k) => k);
  await inParallel(ids, 48, async (k) => {
    const [prefix, i] = k < services ? (['svc', k] as const) : (['floor', k - services] as const);
    await client.create(`/api/v1/namespaces/${ns(i)}/services`, {
      metadata: { name: `${prefix}-${i}`, labels: { app: `${prefix}-${i}`, tier: i % 2 ? 'web' : 'api' } },
      spec: { ports: [{ name: 'http', port: 80, targetPort: 8080 }] },
    });
    await client.create(
      `/apis/discovery.k8s.io/v1/namespaces/${ns(i)}/endpointslices`,
      sliceOf(c, i, n, undefined, prefix),
    );
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
  for (let i = 0; i < floorServices; i++) {
    for (const c of [1, 2]) {
      const n = c === 1 ? Math.floor(perService / 2) : perService - Math.floor(perService / 2);
      await client.create(`/apis/discovery.k8s.io/v1/namespaces/${ns(i)}/endpointslices`, floorLocalSlice(c, i, n));
    }
  }
}

interface Running {
  fed: Federation;
  controller: FederatedServicesController;
  registry: Registry;
}

/** When the controller sent its last PUT for a federated Service's slice (bench instrumentation of its client). */
const putSent = new Map<string, number>();
/** The controller's requests by method and resource (what the first sync costs the kube-apiserver). */
const requestCounts = new Map<string, number>();

async function start(kubeconfig: string, logDir: string): Promise<Running> {
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfig);
  const log = createLogger('bench', 'warn', createWriteStream(join(logDir, `bench-${Date.now()}.log`)));
  const registry = new Registry();
  // The mesh cache as `fedmesh server` runs it (its default event history): its heap is what the GC walks.
  const fed = await startFederation({ localKubeConfig: kc, clusterName: 'east', log, registry });
  const client = await KubeRestClient.fromKubeConfig(kc, 32);
  const request = client.request.bind(client);
  client.request = ((method: string, path: string, opts?: RequestOptions) => {
    const body = opts?.body as { metadata?: { labels?: Record<string, string> } } | undefined;
    const svc = body?.metadata?.labels?.['kubernetes.io/service-name'];
    if (method === 'PUT' && svc) putSent.set(svc, now());
    const kind = `${method} ${path.includes('/endpointslices') ? 'endpointslices' : path.includes('/services') ? 'services' : 'other'}`;
    requestCounts.set(kind, (requestCounts.get(kind) ?? 0) + 1);
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
async function settle(r: Running, wanted: number): Promise<void> {
  for (;;) {
    await r.controller.idle();
    // Its own count of slices created (a labelled list gives no count without sending every slice).
    if ((await writes(r.registry)) >= wanted) return;
    await new Promise((res) => setTimeout(res, 200));
  }
}

const loadBefore = loadavg();
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
  const cpuAtStart = process.cpuUsage();
  let running = await start(east.kubeconfig, tb.dir);
  const meshReadyS = (now() - t) / 1000;
  await settle(running, services * 2);
  const initialS = (now() - t) / 1000;
  const initialCpu = process.cpuUsage(cpuAtStart);
  const initialCpuS = (initialCpu.user + initialCpu.system) / 1e6;
  const initialRequests = [...requestCounts].map(([k, n]) => `${k} ${n}`).join(', ');
  const initialWrites = await writes(running.registry);
  console.error(
    `mesh ready ${meshReadyS.toFixed(1)} s; every slice written ${initialS.toFixed(1)} s (${initialWrites} writes)`,
  );

  // Local slices watched on east's kube-apiserver: when each change lands (the controller's slices, and the
  // floor's own writes).
  const landed = new Map<string, number>(); // `${service}|${ip}|${ready}` → time
  const ac = new AbortController();
  const rv = (
    await east.client.get<{ metadata: { resourceVersion: string } }>('/apis/discovery.k8s.io/v1/endpointslices?limit=1')
  ).metadata.resourceVersion;
  for (const managedBy of ['federation.fedmesh.io', 'bench']) {
    void east.client
      .watch(
        `/apis/discovery.k8s.io/v1/endpointslices?watch=1&resourceVersion=${rv}&labelSelector=endpointslice.kubernetes.io%2Fmanaged-by%3D${managedBy}`,
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
  }

  interface Sample {
    readonly mesh: number; // remote write → mesh cache
    readonly total: number; // remote write → local slice seen on a watch
    /** Controller changes: mesh cache → the controller's PUT sent (queue, selection, endpoints, plan). */
    readonly controller?: number;
  }
  /**
   * One readiness change of one remote endpoint. `svc`: of a backend of fed-<i>, written by the controller;
   * `floor`: of an unselected backend, and the bench PUTs the local slice itself the moment the mesh cache has it.
   */
  async function change(path: 'svc' | 'floor', i: number, c: number, e: number, ready: boolean): Promise<Sample> {
    const n = c === 1 ? half : perService - half;
    const cluster = remotes[c - 1] as TestCluster;
    const addr = ip(path === 'svc' ? c : c + floorOffset, i, e);
    const key = `${path === 'svc' ? 'fed' : 'floor'}-${i}|${addr}|${ready}`;
    const local = floorLocalSlice(c, i, n, ready ? undefined : e);
    landed.delete(key);
    putSent.delete(`fed-${i}`);
    let meshAt = 0;
    let failed: unknown;
    const sub = running.fed.cache.subscribe(
      (ev: MeshEvent) => {
        if (meshAt || ev.type === 'cluster' || ev.object.kind !== 'EndpointSlice') return;
        if (ev.object.cluster !== cluster.name || ev.object.name !== `${path}-${i}-bench`) return;
        if (ev.object.endpoints.find((x) => x.addresses[0] === addr)?.ready !== ready) return;
        meshAt = now();
        if (path === 'floor') {
          void east.client
            .request('PUT', `/apis/discovery.k8s.io/v1/namespaces/${ns(i)}/endpointslices/${local.metadata.name}`, {
              body: local,
            })
            .catch((err: unknown) => {
              failed = err;
            });
        }
      },
      { kinds: ['EndpointSlice'], fromRevision: running.fed.cache.revision },
    );
    const t0 = now();
    try {
      await cluster.client.request(
        'PUT',
        `/apis/discovery.k8s.io/v1/namespaces/${ns(i)}/endpointslices/${path}-${i}-bench`,
        {
          body: sliceOf(c, i, n, ready ? undefined : e, path),
        },
      );
      while (!landed.has(key) || meshAt === 0) {
        if (failed) throw failed;
        if (now() > t0 + 30_000) throw new Error(`the change ${key} did not land in 30 s`);
        await new Promise((res) => setTimeout(res, 1));
      }
    } finally {
      sub.unsubscribe();
    }
    const at = landed.get(key) ?? 0;
    const sent = path === 'svc' ? putSent.get(`fed-${i}`) : undefined;
    return { mesh: meshAt - t0, total: at - t0, ...(sent === undefined ? {} : { controller: sent - meshAt }) };
  }

  type Figure = 'total' | 'floor' | 'meshTotal' | 'meshFloor' | 'controller';
  const perRun = new Map<Figure, { p50: number[]; p99: number[] }>();
  const record = (name: Figure, xs: number[]) => {
    const f = perRun.get(name) ?? { p50: [], p99: [] };
    f.p50.push(q(xs, 0.5));
    f.p99.push(q(xs, 0.99));
    perRun.set(name, f);
  };
  const pick = (name: Figure, p: 'p50' | 'p99', of: (xs: number[]) => number) => of(perRun.get(name)?.[p] ?? []);
  const fig = (name: Figure, of: (xs: number[]) => number) =>
    `p50 ${pick(name, 'p50', of).toFixed(1)} ms, p99 ${pick(name, 'p99', of).toFixed(1)} ms`;
  /** Added by fedmesh: total − floor, per percentile (each run's, then the median of the runs). */
  const addedPerRun = { p50: [] as number[], p99: [] as number[] };
  const gcPauses: number[] = [];
  const gcObserver = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) gcPauses.push(entry.duration);
  });
  gcObserver.observe({ entryTypes: ['gc'] });
  const loopDelay = monitorEventLoopDelay({ resolution: 5 });
  loopDelay.enable();
  for (let run = 0; run < runs; run++) {
    const measured: Sample[] = [];
    const floor: Sample[] = [];
    // Pairs: an endpoint goes unready, then ready again; both are readiness changes. A controller pair, then a
    // floor pair, so that both see the same load.
    for (let k = 0; k < changes; k += 2) {
      const i = Math.floor(Math.random() * services);
      const c = Math.random() < 0.5 ? 1 : 2;
      const e = Math.floor(Math.random() * (c === 1 ? half : perService - half));
      for (const ready of [false, true]) measured.push(await change('svc', i, c, e, ready));
      const j = Math.floor(Math.random() * floorServices);
      for (const ready of [false, true]) floor.push(await change('floor', j, c, e, ready));
    }
    record(
      'total',
      measured.map((x) => x.total),
    );
    record(
      'floor',
      floor.map((x) => x.total),
    );
    record(
      'meshTotal',
      measured.map((x) => x.mesh),
    );
    record(
      'meshFloor',
      floor.map((x) => x.mesh),
    );
    record(
      'controller',
      measured.flatMap((x) => (x.controller === undefined ? [] : [x.controller])),
    );
    for (const p of ['p50', 'p99'] as const) {
      addedPerRun[p].push(
        pick('total', p, (xs) => xs.at(-1) ?? Number.NaN) - pick('floor', p, (xs) => xs.at(-1) ?? Number.NaN),
      );
    }
    const last = (name: Figure) => fig(name, (xs) => xs.at(-1) ?? Number.NaN);
    console.error(
      `run ${run + 1}/${runs}: ${measured.length} + ${floor.length} changes: total ${last('total')}; floor ${last('floor')}; ` +
        `added p50 ${addedPerRun.p50.at(-1)?.toFixed(1)} ms, p99 ${addedPerRun.p99.at(-1)?.toFixed(1)} ms ` +
        `(controller ${last('controller')}; to the mesh cache: ${last('meshTotal')} / floor's ${last('meshFloor')}); load ${loadavg()
          .map((x) => x.toFixed(2))
          .join(' ')}`,
    );
  }
  loopDelay.disable();
  gcObserver.disconnect();
  ac.abort();
  const loadAfter = loadavg();

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

  // The floor of the first sync: the same creates by the bench itself (a slice per remote cluster and Service, of
  // the same size, in the same namespaces, owned by the same Services), as many at once as the controller has
  // (16 Services, their slices in parallel).
  const fedUids = new Map<string, string>();
  for (let k = 0; k < namespaces; k++) {
    const list = await east.client.get<{ items: { metadata: { name: string; uid: string } }[] }>(
      `/api/v1/namespaces/${ns(k)}/services`,
    );
    for (const svc of list.items) fedUids.set(`${ns(k)}/${svc.metadata.name}`, svc.metadata.uid);
  }
  t = now();
  await inParallel(
    Array.from({ length: services }, (_, i) => i),
    16,
    (i) =>
      Promise.all(
        [1, 2].map((c) => {
          const body = floorLocalSlice(c, i, c === 1 ? half : perService - half);
          const owner = { apiVersion: 'v1', kind: 'Service', name: `fed-${i}`, uid: fedUids.get(`${ns(i)}/fed-${i}`) };
          return east.client.create(`/apis/discovery.k8s.io/v1/namespaces/${ns(i)}/endpointslices`, {
            ...body,
            metadata: {
              ...body.metadata,
              name: `init-${i}-${c}`,
              labels: { ...body.metadata.labels, 'kubernetes.io/service-name': `init-${i}` },
              ownerReferences: [{ ...owner, controller: true }],
            },
          });
        }),
      ),
  );
  const initFloorS = (now() - t) / 1000;

  console.log(`machine: ${cpus()[0]?.model ?? '?'}, ${cpus().length} cores, Node ${process.version}`);
  console.log(
    `workload: ${services} federated Services in east, ${perService} endpoints each (${half} in west, ${perService - half} in north), ${namespaces} namespaces; ${changes} readiness changes per run, ${runs} runs`,
  );
  console.log(
    `initial sync: mesh ready ${meshReadyS.toFixed(1)} s, every slice written ${initialS.toFixed(1)} s (${initialWrites} writes; requests: ${initialRequests}; this process's CPU ${initialCpuS.toFixed(1)} s)`,
  );
  console.log(
    `  the writing, from mesh ready: ${(initialS - meshReadyS).toFixed(1)} s; floor, the same ${services * 2} creates by the bench, 16 Services at a time: ${initFloorS.toFixed(1)} s; ratio ${((initialS - meshReadyS) / initFloorS).toFixed(2)}`,
  );
  console.log(`remote readiness change → local EndpointSlice (watch on east): median of runs ${fig('total', median)}`);
  const ratio = (p: 'p50' | 'p99') => (pick('total', p, median) / pick('floor', p, median)).toFixed(2);
  console.log(
    `floor, the same change of an unselected backend → mesh cache → a bare PUT of the local slice by the bench → watch: ${fig('floor', median)}; ratio p50 ${ratio('p50')}, p99 ${ratio('p99')}`,
  );
  const added99 = median(addedPerRun.p99);
  console.log(
    `added (total − floor): p50 ${median(addedPerRun.p50).toFixed(1)} ms, p99 ${added99.toFixed(1)} ms (target p99 ≤ 20 ms: ${added99 <= 20 ? 'met' : 'MISSED'})`,
  );
  console.log(
    `  the controller's own time (mesh event → PUT sent: queue, selection, endpoints, plan): ${fig('controller', median)}`,
  );
  console.log(
    `  the change reaching the mesh cache (the earlier floor): ${fig('meshTotal', median)}; on the floor's path ${fig('meshFloor', median)}`,
  );
  const gcSorted = [...gcPauses].sort((x, y) => x - y);
  console.log(
    `  in this process while measuring: event-loop delay p99 ${(loopDelay.percentile(99) / 1e6).toFixed(1)} ms, max ${(loopDelay.max / 1e6).toFixed(1)} ms; ` +
      `${gcPauses.length} GC pauses, p99 ${q(gcSorted, 0.99).toFixed(1)} ms, max ${(gcSorted.at(-1) ?? 0).toFixed(1)} ms`,
  );
  console.log(
    `load average at the start ${loadBefore.map((x) => x.toFixed(2)).join(' ')}, at the end of the changes ${loadAfter.map((x) => x.toFixed(2)).join(' ')}`,
  );
  console.log(
    `full resync after a restart: ${resyncS.toFixed(1)} s, ${resyncWrites} slice writes (target 0: ${resyncWrites === 0 ? 'met' : 'MISSED'})`,
  );
} finally {
  await tb.down();
}
