// bench/watch-memory: what never-reading watchers cost the federation API server.
//   node dist/bench/watch-memory.js [--objects 20000] [--watches 50] [--runs 3]
// A server process holds `--objects` RemoteWorkloads (label variety as in real pods); `--watches` clients open a
// watch each, read nothing, and are cut after the stall timeout (5 s here). Sampled: the server's RSS before, while
// the watches are stuck, and after they are cut. The floor is a bare Node HTTPS handler in its own process that
// streams the same event lines to the same clients with back-pressure (the least a streaming server can hold).
// Also measured: the RSS of one user's maximum of idle (reading) watches.
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { cpus, totalmem } from 'node:os';
import { Readable } from 'node:stream';
import { connect, type TLSSocket } from 'node:tls';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Registry } from 'prom-client';
import { requestHeaderConfigFrom } from '../apiserver/auth/authenticator.js';
import { parseCertBundle } from '../apiserver/auth/client-cert.js';
import { createApiServerMetrics } from '../apiserver/metrics.js';
import { buildOpenApi } from '../apiserver/openapi.js';
import { Projection } from '../apiserver/projection.js';
import { SnapshotKeeper } from '../apiserver/resource-handlers.js';
import { jsonOf, ServedStore } from '../apiserver/served-store.js';
import { startApiServer } from '../apiserver/server.js';
import { defaultWatchLimits } from '../apiserver/watch-limits.js';
import { createLogger } from '../core/log/logger.js';
import { HealthChecks } from '../core/metrics/health-checks.js';
import { createCertificateAuthority, issueCertificate } from '../core/tls/certificates.js';
import type { WorkloadEndpoint } from '../federation/index.js';

const { values } = parseArgs({
  options: {
    objects: { type: 'string', default: '20000' },
    watches: { type: 'string', default: '50' },
    runs: { type: 'string', default: '3' },
    serve: { type: 'string' },
  },
});
const objects = Number(values.objects);
const watchPath = '/apis/federation.fedmesh.io/v1alpha1/remoteworkloads?watch=1';

function pods(n: number): WorkloadEndpoint[] {
  const apps = ['web', 'api', 'db', 'cache', 'queue', 'auth', 'search', 'billing'];
  return Array.from({ length: n }, (_, i) => ({
    kind: 'WorkloadEndpoint' as const,
    cluster: i % 2 ? 'west' : 'north',
    namespace: `team-${i % 40}`,
    name: `${apps[i % apps.length]}-${(i * 2654435761) % 4294967296}`.slice(0, 40),
    uid: `uid-${i}`,
    labels: {
      app: apps[i % apps.length] ?? 'x',
      'pod-template-hash': ((i * 7919) % 100000).toString(16),
      version: `v${i % 5}`,
      'app.kubernetes.io/part-of': `product-${i % 13}`,
    },
    created: i,
    revision: i,
    ips: [`10.${2 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}`],
    nodeName: `node-${i % 200}`,
    ready: i % 10 !== 0,
    serviceAccount: 'default',
    ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
  }));
}

/** Child process: serve the watches, fedmesh's server or the floor. Prints the port, then waits. */
async function serve(kind: string, pki: Pki): Promise<void> {
  const store = new ServedStore();
  const projection = new Projection('east', { list: () => [], slicesOfService: () => [], endpointsByIp: () => [] });
  for (const p of pods(objects)) store.apply(projection.apply({ type: 'added', revision: p.revision, object: p }));
  // Each object's JSON is rendered once and kept for every list and watch: warm it, as the first list would.
  for (const o of store.snapshot('remoteworkloads').items) jsonOf(o);
  let port: number;
  if (kind === 'fedmesh') {
    const registry = new Registry();
    const auth = requestHeaderConfigFrom(
      {
        'requestheader-client-ca-file': pki.frontProxyCa,
        'requestheader-allowed-names': '["front-proxy-client"]',
        'requestheader-username-headers': '["X-Remote-User"]',
      },
      parseCertBundle,
    );
    const s = await startApiServer({
      host: '127.0.0.1',
      port: 0,
      certPem: pki.serving.certPem,
      keyPem: pki.serving.keyPem,
      handlerContext: {
        store,
        snapshots: new SnapshotKeeper(),
        warnings: () => [],
        watchStream: { highWaterBytes: 64 * 1024, stallTimeoutMs: 5000, maxQueuedEvents: 50_000 },
      },
      authentication: () => auth,
      reviewToken: async () => undefined,
      authorize: async () => ({ allowed: true, reason: '' }),
      health: new HealthChecks(),
      openapi: buildOpenApi('v0'),
      version: { gitVersion: 'v0', major: '0', minor: '0' },
      log: createLogger('bench', 'error'),
      registry,
      metrics: createApiServerMetrics(registry),
    });
    s.setTrustedClientCAs([pki.frontProxyCa]);
    port = s.port;
  } else {
    const items = store.snapshot('remoteworkloads').items;
    const server = createServer({ cert: pki.serving.certPem, key: pki.serving.keyPem }, (_req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      const lines = (function* () {
        for (const o of items) yield `{"type":"ADDED","object":${jsonOf(o)}}\n`;
      })();
      Readable.from(lines, { objectMode: false, highWaterMark: 64 * 1024 }).pipe(res);
      // The same cut-off as the server's: a client that reads nothing for 5 s is dropped.
      let last = Date.now();
      res.on('drain', () => {
        last = Date.now();
      });
      const t = setInterval(() => {
        if (res.writableLength > 0 && Date.now() - last > 5000) res.destroy();
      }, 500);
      res.on('close', () => clearInterval(t));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as AddressInfo).port;
  }
  global.gc?.();
  process.stdout.write(`${port}\n`);
  // The parent asks for a collection before each sample, and reads the JS heap and buffers back.
  process.stdin.on('data', () => {
    global.gc?.();
    const m = process.memoryUsage();
    process.stdout.write(`${JSON.stringify({ js: (m.heapUsed + m.external) / 2 ** 20 })}\n`);
  });
  process.stdin.on('end', () => process.exit(0));
}

interface Pki {
  serving: { certPem: string; keyPem: string };
  frontProxyCa: string;
  client: { certPem: string; keyPem: string };
}

function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m?.[1] ?? 0) / 1024;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function start(kind: string, pkiFile: string): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(
    process.execPath,
    ['--expose-gc', fileURLToPath(import.meta.url), '--serve', kind, '--objects', String(objects)],
    { stdio: ['pipe', 'pipe', 'inherit'], env: { ...process.env, BENCH_PKI: pkiFile } },
  );
  const port = await new Promise<number>((resolve) => {
    child.stdout?.once('data', (d: Buffer) => resolve(Number(d.toString().trim())));
  });
  return { child, port };
}

function stuckWatch(port: number, pki: Pki, user: string, read = false, path = watchPath): TLSSocket {
  const s = connect({
    host: '127.0.0.1',
    port,
    ca: pki.serving.certPem,
    cert: pki.client.certPem,
    key: pki.client.keyPem,
  });
  s.on('secureConnect', () => s.write(`GET ${path} HTTP/1.1\r\nHost: x\r\nX-Remote-User: ${user}\r\n\r\n`));
  s.on('error', () => {});
  if (read) s.on('data', () => {});
  return s;
}

/** RSS of the child, and its JS heap plus buffers (what the process still uses, whatever malloc keeps). */
async function sample(child: ChildProcess): Promise<{ rss: number; js: number }> {
  const js = new Promise<number>((resolve) =>
    child.stdout?.once('data', (d: Buffer) => resolve((JSON.parse(d.toString()) as { js: number }).js)),
  );
  child.stdin?.write('gc\n');
  return { js: await js, rss: rssMb(child.pid ?? 0) };
}

async function oneRun(kind: string, pkiFile: string, pki: Pki, watches: number) {
  const { child, port } = await start(kind, pkiFile);
  await sleep(1000);
  const before = await sample(child);
  const sockets = Array.from({ length: watches }, (_, i) => stuckWatch(port, pki, `user-${i % 5}`));
  await sleep(3000);
  const stuck = await sample(child);
  await sleep(6000); // past the 5 s stall timeout
  for (const s of sockets) s.destroy();
  await sleep(1000);
  const after = await sample(child);
  child.stdin?.end();
  return { before, stuck, after };
}

async function idleCapacity(pkiFile: string, pki: Pki) {
  const { child, port } = await start('fedmesh', pkiFile);
  await sleep(1000);
  const before = (await sample(child)).rss;
  const n = defaultWatchLimits.maxWatchesPerUser;
  // Idle watches (remote nodes: none here), to see what an open watch itself costs.
  const nodes = '/apis/federation.fedmesh.io/v1alpha1/remotenodes?watch=1';
  const sockets = Array.from({ length: n + 1 }, () => stuckWatch(port, pki, 'one-user', true, nodes));
  await sleep(8000);
  const held = (await sample(child)).rss;
  for (const s of sockets) s.destroy();
  child.stdin?.end();
  return { n, before, held };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;

if (values.serve) {
  await serve(values.serve, JSON.parse(readFileSync(process.env.BENCH_PKI ?? '', 'utf8')) as Pki);
} else {
  const servingCa = createCertificateAuthority('bench-serving');
  const fp = createCertificateAuthority('bench-front-proxy');
  const pki: Pki = {
    serving: issueCertificate(servingCa, { commonName: 'api', ipAddresses: ['127.0.0.1'], usage: 'server' }),
    frontProxyCa: fp.certPem,
    client: issueCertificate(fp, { commonName: 'front-proxy-client', usage: 'client' }),
  };
  pki.serving = { ...pki.serving, certPem: `${pki.serving.certPem}${servingCa.certPem}` };
  const pkiFile = `/tmp/fedmesh-bench-pki-${process.pid}.json`;
  (await import('node:fs')).writeFileSync(pkiFile, JSON.stringify(pki), { mode: 0o600 });
  const watches = Number(values.watches);
  type Sample = { rss: number; js: number };
  const results: Record<string, { before: Sample; stuck: Sample; after: Sample }[]> = { fedmesh: [], floor: [] };
  for (let r = 0; r < Number(values.runs); r++) {
    for (const kind of ['floor', 'fedmesh']) results[kind]?.push(await oneRun(kind, pkiFile, pki, watches));
  }
  const cpu = cpus()[0]?.model ?? 'unknown CPU';
  console.log(`machine: ${cpus().length} × ${cpu}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}`);
  console.log(
    `${objects} objects, ${watches} watches that never read, cut after 5 s; medians of ${values.runs} runs (MB RSS)`,
  );
  const growth: Record<string, number> = {};
  for (const [kind, rs] of Object.entries(results)) {
    const m = (pick: (x: (typeof rs)[number]) => number) => median(rs.map(pick));
    const before = m((x) => x.before.rss);
    const stuck = m((x) => x.stuck.rss);
    const after = m((x) => x.after.rss);
    const js = [m((x) => x.before.js), m((x) => x.stuck.js), m((x) => x.after.js)].map((v) => v.toFixed(0));
    growth[kind] = stuck - before;
    console.log(
      `${kind.padEnd(8)} RSS before ${before.toFixed(0)}  stuck ${stuck.toFixed(0)} (+${(stuck - before).toFixed(0)})  after cut ${after.toFixed(0)} (+${(after - before).toFixed(0)});  JS heap+buffers ${js.join(' → ')}`,
    );
  }
  console.log(
    `ratio of RSS growth while stuck, fedmesh / floor: ${((growth.fedmesh ?? 0) / Math.max(1, growth.floor ?? 1)).toFixed(2)}`,
  );
  const cap = await idleCapacity(pkiFile, pki);
  console.log(
    `one user: ${cap.n} watches held (the ${cap.n + 1}th gets 429); RSS ${cap.before.toFixed(0)} → ${cap.held.toFixed(0)} MB (+${((cap.held - cap.before) / cap.n).toFixed(2)} MB per idle watch)`,
  );
  (await import('node:fs')).rmSync(pkiFile);
}
