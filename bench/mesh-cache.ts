// bench/mesh-cache: 50 remote clusters from a mock list/watch server (bench/mesh-cache-mock.ts), 2k pods each
// (about 5 pods per label set, StatefulSet pods with labels of their own, rollouts that keep minting new
// revision hashes), 300 changes/s. Figures: time until every cluster is InSync, RSS per endpoint, p50/p99 from a
// change in the mock to the subscriber's event. Floors from the same run, doing the same work without the cache:
// the same five lists per cluster through the same list gate, parsed and dropped; the RSS of the raw objects a
// full-object informer would hold (RSS against RSS, both from a baseline with the collector's young generation
// grown, see baseline()); a bare watch stream's latency. Each run is a fresh process.
//   node --expose-gc dist/bench/mesh-cache.js [--clusters 50] [--pods 2000] [--rate 300] [--runs 3] [--seconds 10]
import { spawn } from 'node:child_process';
import { setMaxListeners } from 'node:events';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { getHeapSpaceStatistics } from 'node:v8';
import { KubeConfig } from '@kubernetes/client-node';
import { Gate } from '../core/kube/gate.js';
import { type KubeObject, objectKey } from '../core/kube/resilient-informer.js';
import { KubeRestClient } from '../core/kube/rest-client.js';
import { parseWatchLine } from '../core/kube/watch-event.js';
import { createLogger } from '../core/log/logger.js';
import { ClusterConnection } from '../federation/cluster-connection.js';
import { MeshCache } from '../federation/mesh-cache.js';
import { checkRemoteObject } from '../federation/remote-object-schemas.js';
import { watchedResources } from '../federation/watched-resources.js';
import { type MockConfig, sentLabel } from './mesh-cache-mock.js';

const { values } = parseArgs({
  options: {
    clusters: { type: 'string', default: '50' },
    pods: { type: 'string', default: '2000' },
    rate: { type: 'string', default: '300' },
    runs: { type: 'string', default: '3' },
    seconds: { type: 'string', default: '10' },
    mode: { type: 'string', default: 'main' },
  },
});
const here = fileURLToPath(import.meta.url);
const now = () => performance.timeOrigin + performance.now();
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;
const quantile = (xs: number[], q: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? Number.NaN;
};
const gc = () => (globalThis as { gc?: () => void }).gc?.();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * The memory a process has before it holds anything, with the collector's young generation already grown to
 * its working size (about 32 MiB that any busy Node process has, whatever it holds): so that RSS per endpoint
 * counts what holding the endpoints costs, in the cache and in its floor alike.
 */
async function baseline(): Promise<{ rss: number; heap: number; youngMiB: number }> {
  const young = () => getHeapSpaceStatistics().find((s) => s.space_name === 'new_space')?.space_size ?? 0;
  let churn: { i: number; s: string }[] = [];
  for (let round = 0, last = -1; round < 50 && young() !== last; round++) {
    last = young();
    for (let i = 0; i < 200_000; i++) {
      churn.push({ i, s: `x${i}` });
      if (churn.length > 1000) churn = [];
    }
  }
  gc();
  await sleep(200);
  gc();
  const m = process.memoryUsage();
  return { rss: m.rss, heap: m.heapUsed, youngMiB: young() / 1048576 };
}

/**
 * Latencies of the changes sent inside a window, wherever they arrive: a change sent just before the window closes
 * counts even when it comes late, and nothing sent outside it does. (The sample used to stay open while the
 * bench forced a full collection after the window: the changes it held back were counted, and p99 measured the
 * length of that collection, 0.1 to 1.8 s, not the cache.)
 */
class WindowedLatencies {
  private readonly seen: { sent: number; latency: number }[] = [];
  private from = Number.POSITIVE_INFINITY;
  private to = Number.POSITIVE_INFINITY;
  record(sent: number): void {
    if (sent >= this.from) this.seen.push({ sent, latency: now() - sent });
  }
  open(): void {
    this.from = now();
  }
  /** Closes the window; the sample is taken once late arrivals of its changes had `graceMs` to come in. */
  async close(graceMs: number): Promise<number[]> {
    this.to = now();
    await sleep(graceMs);
    return this.seen.filter((s) => s.sent >= this.from && s.sent <= this.to).map((s) => s.latency);
  }
}

/** How long after a window changes sent in it may still arrive and count. */
const lateArrivalMs = 2000;

interface MockInfo {
  readonly ports: number[];
  readonly caPem: string;
}

function clientFor(port: number, caPem: string): Promise<KubeRestClient> {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'm', server: `https://127.0.0.1:${port}`, caData: Buffer.from(caPem).toString('base64') }],
    users: [{ name: 'u', token: 'bench' }],
    contexts: [{ name: 'c', cluster: 'm', user: 'u' }],
    currentContext: 'c',
  });
  return KubeRestClient.fromKubeConfig(kc, 8, { http2: true });
}

/** The list gate's width, the same for the cache and its floor. */
const listGateWidth = 4;

interface CacheResult {
  syncMs: number;
  stages: StageTimes;
  endpoints: number;
  rssPerEndpoint: number;
  /** The whole process, young generation and runtime included. */
  rssTotalMiB: number;
  /** Of which the collector's committed heap, and memory held outside it (buffers). */
  heapTotalMiB: number;
  externalMiB: number;
  heapPerEndpoint: number;
  p50: number;
  p99: number;
  samples: number;
  /** How late the event loop ran a timer during the measurement (ms): what no event can beat. */
  loopDelayP99: number;
  loopDelayMax: number;
}

async function measureCache(mock: MockInfo, seconds: number): Promise<CacheResult> {
  const { rss: rss0, heap: heap0 } = await baseline();
  const cache = new MeshCache();
  const log = createLogger('bench', 'error');
  const latencies = new WindowedLatencies();
  cache.subscribe(
    (ev) => {
      if (ev.type !== 'modified' || ev.object.kind !== 'WorkloadEndpoint') return;
      const sent = Number(ev.object.labels[sentLabel]);
      if (sent > 0) latencies.record(sent);
    },
    { kinds: ['WorkloadEndpoint'] },
  );
  const inSync = new Set<string>();
  let allInSync: () => void = () => {};
  const synced = new Promise<void>((r) => {
    allInSync = r;
  });
  const listGate = new Gate(listGateWidth);
  const t0 = performance.now();
  const conns = await Promise.all(
    mock.ports.map(async (port, i) => {
      const cluster = `c${i}`;
      const conn = new ClusterConnection({
        cluster,
        client: await clientFor(port, mock.caPem),
        cache,
        log,
        listGate,
        onState: (d) => {
          if (d.state === 'InSync') inSync.add(cluster);
          else inSync.delete(cluster);
          if (inSync.size === mock.ports.length) allInSync();
        },
      });
      conn.start();
      return conn;
    }),
  );
  await synced;
  const syncMs = performance.now() - t0;
  // Measure the steady state: the collector's one-off cleanup of the lists' garbage is done first (a full
  // collection now rather than in the middle of the measurement), then two quiet seconds.
  gc();
  await sleep(2000);
  latencies.open();
  const loop = monitorEventLoopDelay({ resolution: 10 });
  loop.enable();
  await sleep(seconds * 1000);
  loop.disable();
  const sample = await latencies.close(lateArrivalMs);
  gc();
  await sleep(200);
  gc();
  const endpoints = cache.list('WorkloadEndpoint').length;
  const mem = process.memoryUsage();
  const result = {
    syncMs,
    endpoints,
    rssPerEndpoint: (mem.rss - rss0) / endpoints,
    rssTotalMiB: mem.rss / 1048576,
    heapTotalMiB: mem.heapTotal / 1048576,
    externalMiB: mem.external / 1048576,
    heapPerEndpoint: (mem.heapUsed - heap0) / endpoints,
    p50: quantile(sample, 0.5),
    p99: quantile(sample, 0.99),
    samples: sample.length,
    loopDelayP99: loop.percentile(99) / 1e6,
    loopDelayMax: loop.max / 1e6,
  };
  const stages = await measureStages(cache, mock);
  await Promise.all(conns.map((c) => c.stop()));
  return { ...result, stages };
}

/** Mean time of each step a watched change takes in this process, in µs. */
interface StageTimes {
  readonly parseUs: number;
  readonly schemaUs: number;
  readonly slimUs: number;
  readonly cacheUs: number;
}

/**
 * Where one change's time goes inside the process: 500 real pods of the mock made into MODIFIED lines (a new sent
 * label, as the mock's churn does), each taken through the same steps a watch takes, timed step by step: the
 * line parse (rest-client), the schema check, the slim conversion, and the cache's upsert with its event
 * delivered to the subscriber.
 */
async function measureStages(cache: MeshCache, mock: MockInfo): Promise<StageTimes> {
  const port = mock.ports[0] ?? 0;
  const client = await clientFor(port, mock.caPem);
  const pods = await client.get<{ items: KubeObject[] }>('/api/v1/pods?limit=500');
  client.close();
  const pod = watchedResources[0];
  const totals = { parseUs: 0, schemaUs: 0, slimUs: 0, cacheUs: 0 };
  let n = 0;
  for (let round = 0; round < 5; round++) {
    for (const raw of pods.items) {
      const meta = raw.metadata as { labels?: Record<string, string> };
      const changed = { ...raw, metadata: { ...meta, labels: { ...meta.labels, [sentLabel]: String(now()) } } };
      const line = JSON.stringify({ type: 'MODIFIED', object: changed });
      const t0 = performance.now();
      const parsed = parseWatchLine(line);
      const t1 = performance.now();
      if (!('event' in parsed) || !pod) continue;
      const obj = parsed.event.object as KubeObject;
      const problem = checkRemoteObject(pod.sourceKind, obj);
      const t2 = performance.now();
      const slim = problem ? undefined : pod.convert('c0', obj);
      const t3 = performance.now();
      if (slim) cache.upsert('c0', pod.kind, objectKey(obj), slim);
      const t4 = performance.now();
      totals.parseUs += (t1 - t0) * 1000;
      totals.schemaUs += (t2 - t1) * 1000;
      totals.slimUs += (t3 - t2) * 1000;
      totals.cacheUs += (t4 - t3) * 1000;
      n++;
    }
  }
  const per = (x: number) => x / Math.max(1, n);
  return {
    parseUs: per(totals.parseUs),
    schemaUs: per(totals.schemaUs),
    slimUs: per(totals.slimUs),
    cacheUs: per(totals.cacheUs),
  };
}

/** Every page of a list, as an informer reads it (pages of 500). */
async function listAll(client: KubeRestClient, path: string): Promise<unknown[]> {
  const items: unknown[] = [];
  let cont = '';
  do {
    const page = await client.get<{ items: unknown[]; metadata: { continue?: string } }>(
      `${path}?limit=500${cont ? `&continue=${cont}` : ''}`,
    );
    items.push(...page.items);
    cont = page.metadata.continue ?? '';
  } while (cont);
  return items;
}

interface FloorResult {
  listParseMs: number;
  rawRssPerPod: number;
  rawHeapPerPod: number;
  wireBytesPerPod: number;
  p50: number;
  p99: number;
}

async function measureFloor(mock: MockInfo, seconds: number): Promise<FloorResult> {
  const clients = await Promise.all(mock.ports.map((p) => clientFor(p, mock.caPem)));
  // What an informer that keeps whole objects would hold: every cluster's parsed pods, as RSS (like the cache's
  // figure), measured first while this process is fresh.
  const { rss: rss0, heap: heap0 } = await baseline();
  const held: unknown[][] = [];
  const gate = new Gate(listGateWidth);
  await Promise.all(clients.map((c) => gate.run(async () => held.push(await listAll(c, '/api/v1/pods')))));
  gc();
  await sleep(200);
  gc();
  const pods = held.reduce((n, h) => n + h.length, 0);
  const rawRssPerPod = (process.memoryUsage().rss - rss0) / pods;
  const rawHeapPerPod = (process.memoryUsage().heapUsed - heap0) / pods;
  const wire = JSON.stringify(held[0]?.[0]).length;
  held.length = 0;
  gc();
  // What a cache cannot beat: the same five lists per cluster as the informers make, through the same gate,
  // parsed and dropped; new connections, as the cache's informers open theirs.
  const t0 = performance.now();
  await Promise.all(
    mock.ports.map(async (port) => {
      const c = await clientFor(port, mock.caPem);
      await Promise.all(watchedResources.map((r) => gate.run(() => listAll(c, r.path))));
      c.close();
    }),
  );
  const listParseMs = performance.now() - t0;
  // A bare watch stream: parse and read the label, nothing else.
  const latencies = new WindowedLatencies();
  const ac = new AbortController();
  setMaxListeners(clients.length * 2, ac.signal);
  for (const c of clients) {
    void c.watch(
      '/api/v1/pods?watch=1',
      (ev) => {
        const labels = (ev.object.metadata as { labels?: Record<string, string> } | undefined)?.labels;
        const sent = Number(labels?.[sentLabel]);
        if (sent > 0) latencies.record(sent);
      },
      ac.signal,
    );
  }
  latencies.open();
  await sleep(seconds * 1000);
  const sample = await latencies.close(lateArrivalMs);
  ac.abort();
  for (const c of clients) c.close();
  return {
    listParseMs,
    rawRssPerPod,
    rawHeapPerPod,
    wireBytesPerPod: wire,
    p50: quantile(sample, 0.5),
    p99: quantile(sample, 0.99),
  };
}

function runChild<T>(mode: string, mock: MockInfo): Promise<T> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--expose-gc', here, '--mode', mode, '--seconds', values.seconds ?? '10'], {
      env: { ...process.env, MOCK_INFO: JSON.stringify(mock) },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
    });
    child.on('exit', (code) => {
      if (code !== 0) return reject(new Error(`${mode} run exited ${code}`));
      resolve(JSON.parse(out.trim().split('\n').pop() ?? '{}') as T);
    });
  });
}

async function main(): Promise<void> {
  const cfg: MockConfig = {
    clusters: Number(values.clusters),
    podsPerCluster: Number(values.pods),
    nodesPerCluster: 20,
    changesPerSecond: Number(values.rate),
  };
  const runs = Number(values.runs);
  const caches: CacheResult[] = [];
  const floors: FloorResult[] = [];
  // A fresh mock per run: its churn leaves a new label value on every pod it touches, so a mock that lived
  // through earlier runs would hand each later run a different (ever less shared) state to list.
  for (let r = 0; r < runs; r++) {
    const mockProc = spawn(process.execPath, [join(here, '..', 'mesh-cache-mock.js')], {
      env: { ...process.env, MOCK_CONFIG: JSON.stringify(cfg) },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    try {
      const mock = await new Promise<MockInfo>((resolve) => {
        let buf = '';
        mockProc.stdout.on('data', (d: Buffer) => {
          buf += d.toString();
          const nl = buf.indexOf('\n');
          if (nl >= 0) resolve(JSON.parse(buf.slice(0, nl)) as MockInfo);
        });
      });
      floors.push(await runChild<FloorResult>('floor', mock));
      const c = await runChild<CacheResult>('cache', mock);
      caches.push(c);
      console.error(
        `run ${r + 1}: InSync ${(c.syncMs / 1000).toFixed(2)} s, ${c.rssPerEndpoint.toFixed(0)} B RSS/endpoint, p99 ${c.p99.toFixed(1)} ms (${c.samples} events)`,
      );
    } finally {
      mockProc.kill('SIGTERM');
    }
  }
  const m = <T>(xs: T[], f: (x: T) => number) => median(xs.map(f));
  const endpoints = m(caches, (c) => c.endpoints);
  const sync = m(caches, (c) => c.syncMs) / 1000;
  const syncFloor = m(floors, (f) => f.listParseMs) / 1000;
  const rss = m(caches, (c) => c.rssPerEndpoint);
  const rssTotal = m(caches, (c) => c.rssTotalMiB);
  const heap = m(caches, (c) => c.heapPerEndpoint);
  const rawRss = m(floors, (f) => f.rawRssPerPod);
  const rawHeap = m(floors, (f) => f.rawHeapPerPod);
  const wire = m(floors, (f) => f.wireBytesPerPod);
  const p99 = m(caches, (c) => c.p99);
  const p50 = m(caches, (c) => c.p50);
  const p99Floor = m(floors, (f) => f.p99);
  const p50Floor = m(floors, (f) => f.p50);
  const verdict = (ok: boolean) => (ok ? 'meets target' : 'MISSES target');
  console.log(
    [
      `bench/mesh-cache: ${cfg.clusters} clusters × ${cfg.podsPerCluster} pods (${endpoints} endpoints), ${cfg.changesPerSecond} changes/s; medians of ${runs} runs`,
      `  all InSync           ${sync.toFixed(2)} s    floor (the same 5 lists × ${cfg.clusters} clusters through the same gate, parse only) ${syncFloor.toFixed(2)} s    ratio ${(sync / syncFloor).toFixed(2)}    target < 10 s: ${verdict(sync < 10)}`,
      `  RSS per endpoint     ${rss.toFixed(0)} B    floor (whole pods held, RSS) ${rawRss.toFixed(0)} B    ratio ${(rss / rawRss).toFixed(2)}    (heap ${heap.toFixed(0)} B vs ${rawHeap.toFixed(0)} B)    wire ${wire} B/pod    process RSS ${rssTotal.toFixed(0)} MiB (heap committed ${m(caches, (c) => c.heapTotalMiB).toFixed(0)} MiB, external ${m(caches, (c) => c.externalMiB).toFixed(0)} MiB)    target ≤ 1024 B: ${verdict(rss <= 1024)}`,
      `  change → event p99   ${p99.toFixed(1)} ms    floor (bare watch) ${p99Floor.toFixed(1)} ms    ratio ${(p99 / p99Floor).toFixed(2)}    event loop delay p99 ${m(caches, (c) => c.loopDelayP99).toFixed(1)} ms    target < 50 ms: ${verdict(p99 < 50)}`,
      `  change → event p50   ${p50.toFixed(1)} ms    floor (bare watch) ${p50Floor.toFixed(1)} ms`,
      `  one change, in-process (mean µs): line parse ${m(caches, (c) => c.stages.parseUs).toFixed(1)}, schema ${m(caches, (c) => c.stages.schemaUs).toFixed(1)}, slim ${m(caches, (c) => c.stages.slimUs).toFixed(1)}, cache + event ${m(caches, (c) => c.stages.cacheUs).toFixed(1)}`,
      `machine: ${cpus()[0]?.model ?? 'unknown CPU'}, ${cpus().length} cores, Node ${process.version}, load average ${loadavg()
        .map((l) => l.toFixed(1))
        .join(' ')}`,
    ].join('\n'),
  );
}

const mode = values.mode;
const seconds = Number(values.seconds);
if (mode === 'cache' || mode === 'floor') {
  const mock = JSON.parse(process.env.MOCK_INFO ?? '{}') as MockInfo;
  const result = mode === 'cache' ? await measureCache(mock, seconds) : await measureFloor(mock, seconds);
  console.log(JSON.stringify(result));
  process.exit(0);
} else {
  await main();
}
