// bench/mesh-cache: 50 remote clusters from a mock list/watch server (bench/mesh-cache-mock.ts), 2k pods each,
// 300 changes/s. Figures: time until every cluster is InSync, RSS per endpoint, p50/p99 from a change in the mock
// to the subscriber's event. Floors from the same run: list+parse alone (no cache), the heap of the raw objects a
// full-object informer would hold, and a bare watch stream's latency. Each run is a fresh process.
//   node --expose-gc dist/bench/mesh-cache.js [--clusters 50] [--pods 2000] [--rate 300] [--runs 3] [--seconds 10]
import { spawn } from 'node:child_process';
import { setMaxListeners } from 'node:events';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { KubeConfig } from '@kubernetes/client-node';
import { Gate } from '../core/kube/gate.js';
import { KubeRestClient } from '../core/kube/rest-client.js';
import { createLogger } from '../core/log/logger.js';
import { ClusterConnection } from '../federation/cluster-connection.js';
import { MeshCache } from '../federation/mesh-cache.js';
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

interface CacheResult {
  syncMs: number;
  endpoints: number;
  rssPerEndpoint: number;
  heapPerEndpoint: number;
  p50: number;
  p99: number;
  samples: number;
}

async function measureCache(mock: MockInfo, seconds: number): Promise<CacheResult> {
  gc();
  await sleep(200);
  gc();
  const rss0 = process.memoryUsage().rss;
  const heap0 = process.memoryUsage().heapUsed;
  const cache = new MeshCache();
  const log = createLogger('bench', 'error');
  let latencies: number[] = [];
  cache.subscribe(
    (ev) => {
      if (ev.type !== 'modified' || ev.object.kind !== 'WorkloadEndpoint') return;
      const sent = Number(ev.object.labels[sentLabel]);
      if (sent > 0) latencies.push(now() - sent);
    },
    { kinds: ['WorkloadEndpoint'] },
  );
  const inSync = new Set<string>();
  let allInSync: () => void = () => {};
  const synced = new Promise<void>((r) => {
    allInSync = r;
  });
  const listGate = new Gate(4);
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
  // Measure the steady state: let the collector finish with the lists' garbage first.
  await sleep(2000);
  latencies = [];
  await sleep(seconds * 1000);
  const sample = latencies;
  gc();
  await sleep(200);
  gc();
  const endpoints = cache.list('WorkloadEndpoint').length;
  const mem = process.memoryUsage();
  const result = {
    syncMs,
    endpoints,
    rssPerEndpoint: (mem.rss - rss0) / endpoints,
    heapPerEndpoint: (mem.heapUsed - heap0) / endpoints,
    p50: quantile(sample, 0.5),
    p99: quantile(sample, 0.99),
    samples: sample.length,
  };
  await Promise.all(conns.map((c) => c.stop()));
  return result;
}

interface FloorResult {
  listParseMs: number;
  rawHeapPerPod: number;
  wireBytesPerPod: number;
  p50: number;
  p99: number;
}

async function measureFloor(mock: MockInfo, seconds: number): Promise<FloorResult> {
  const clients = await Promise.all(mock.ports.map((p) => clientFor(p, mock.caPem)));
  // What a cache cannot beat: fetching and parsing every list, keeping nothing.
  const t0 = performance.now();
  let wire = 0;
  await Promise.all(
    clients.map(async (c) => {
      const list = await c.get<{ items: unknown[] }>('/api/v1/pods');
      if (!wire) wire = JSON.stringify(list.items[0]).length;
    }),
  );
  const listParseMs = performance.now() - t0;
  // What an informer that keeps whole objects would hold: the parsed pods of 10 clusters, per pod. The lists
  // above must be gone first (a closed stream may hold its body until the next tick), or the floor shrinks.
  gc();
  await sleep(200);
  gc();
  const heap0 = process.memoryUsage().heapUsed;
  const held: unknown[][] = [];
  for (const c of clients.slice(0, 10)) held.push((await c.get<{ items: unknown[] }>('/api/v1/pods')).items);
  gc();
  const rawHeapPerPod = (process.memoryUsage().heapUsed - heap0) / held.reduce((n, h) => n + h.length, 0);
  held.length = 0;
  // A bare watch stream: parse and read the label, nothing else.
  const latencies: number[] = [];
  const ac = new AbortController();
  setMaxListeners(clients.length * 2, ac.signal);
  for (const c of clients) {
    void c.watch(
      '/api/v1/pods?watch=1',
      (ev) => {
        const labels = (ev.object.metadata as { labels?: Record<string, string> } | undefined)?.labels;
        const sent = Number(labels?.[sentLabel]);
        if (sent > 0) latencies.push(now() - sent);
      },
      ac.signal,
    );
  }
  await sleep(seconds * 1000);
  ac.abort();
  for (const c of clients) c.close();
  return {
    listParseMs,
    rawHeapPerPod,
    wireBytesPerPod: wire,
    p50: quantile(latencies, 0.5),
    p99: quantile(latencies, 0.99),
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
  const heap = m(caches, (c) => c.heapPerEndpoint);
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
      `  all InSync           ${sync.toFixed(2)} s    floor (list + parse, no cache) ${syncFloor.toFixed(2)} s    ratio ${(sync / syncFloor).toFixed(2)}    target < 10 s: ${verdict(sync < 10)}`,
      `  RSS per endpoint     ${rss.toFixed(0)} B    (heap ${heap.toFixed(0)} B)    floor (whole objects held, heap) ${rawHeap.toFixed(0)} B    ratio ${(rss / rawHeap).toFixed(2)}    wire ${wire} B/pod    target ≤ 1024 B: ${verdict(rss <= 1024)}`,
      `  change → event p99   ${p99.toFixed(1)} ms    floor (bare watch) ${p99Floor.toFixed(1)} ms    ratio ${(p99 / p99Floor).toFixed(2)}    target < 50 ms: ${verdict(p99 < 50)}`,
      `  change → event p50   ${p50.toFixed(1)} ms    floor (bare watch) ${p50Floor.toFixed(1)} ms`,
      `machine: ${cpus()[0]?.model ?? 'unknown CPU'}, ${cpus().length} cores, Node ${process.version}`,
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
