// bench/webhook: the admission webhook server against its floor, measured in the same run.
//   npm run build && npm run bench:webhook [-- --seconds 8 --rounds 3 --rate 500 --concurrency 32 --warmup 8]
//   node dist/bench/webhook.js --fuzz 100000        the fuzz run: mutated AdmissionReviews, server in a child process
//
// The server runs in a child process (so the client does not share its event loop), as `fedmesh webhooks` would:
// express on Node's https server, AdmissionReview v1, validating realistic NetworkPolicies (app/tier selectors, a
// namespace peer, a cluster-scoped peer, named and numbered ports, an ipBlock with except), 200 distinct ones.
// The floor is the same HTTPS server (webhookHttpsServer: same options) and express stack reading the same bodies
// and answering a constant allow.
// Figures: reviews/s with `concurrency` in flight (closed loop), and p50/p99 latency at a fixed `rate` (open
// loop). Each is the median of `rounds` rounds, the floor and the real server alternating. The client shares the
// machine's cores: next to its p99 are its own GC pauses and late sends, the servers' GC pauses, and the p99 of the
// time requests spent inside each server, so that a tail can be told to be the server's or the machine's.

import { type ChildProcess, fork } from 'node:child_process';
import { readFileSync } from 'node:fs';
import type { Agent, Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { cpus, loadavg } from 'node:os';
import { PerformanceObserver } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import express from 'express';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { runFuzz } from '../webhooks/fuzz-bodies.js';
import { MAX_BODY_BYTES, startWebhookServer, webhookHttpsServer } from '../webhooks/server.js';
import {
  fixedContext,
  NP,
  newAgent,
  post,
  realisticNetworkPolicy,
  review,
  testCertificates,
} from '../webhooks/test-support.js';

const { values } = parseArgs({
  options: {
    serve: { type: 'string' },
    seconds: { type: 'string', default: '8' },
    warmup: { type: 'string', default: '8' },
    rounds: { type: 'string', default: '3' },
    rate: { type: 'string', default: '500' },
    concurrency: { type: 'string', default: '32' },
    fuzz: { type: 'string' },
  },
});

// Child: serve `real` or `floor`, print {port, ca} on stdout's IPC, run until killed.
if (values.serve !== undefined) {
  const { ca, leaf } = testCertificates();
  let server: Server;
  if (values.serve === 'real') {
    const s = await startWebhookServer({
      host: '127.0.0.1',
      port: 0,
      certPem: leaf.certPem,
      keyPem: leaf.keyPem,
      context: fixedContext(),
      log: pino({ enabled: false }),
      registry: new Registry(),
    });
    server = s.server;
  } else {
    const app = express();
    app.disable('x-powered-by');
    app.set('etag', false);
    const constant = JSON.stringify({
      apiVersion: 'admission.k8s.io/v1',
      kind: 'AdmissionReview',
      response: { uid: 'constant', allowed: true },
    });
    app.post('/validate/:webhook', express.raw({ type: () => true, limit: MAX_BODY_BYTES }), (_req, res) => {
      res.type('application/json').send(constant);
    });
    server = webhookHttpsServer(app, leaf.certPem, leaf.keyPem);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  }
  const port = (server.address() as AddressInfo).port;
  // GC pauses of this server since the last ask: they explain tail latency (the same observer in floor and real).
  const gcPauses: number[] = [];
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) gcPauses.push(e.duration);
  }).observe({ entryTypes: ['gc'] });
  // During the timed part of the open loop, the time each request spends in this server, from its headers parsed to
  // its answer handed to the socket: next to the client's figures it tells how much of a tail is the server's. A
  // request that waits in the socket while the server is busy (in a GC pause, say) is not seen here, only by the
  // client. Off otherwise, so that throughput is measured without it.
  let inServer: number[] | undefined;
  server.prependListener('request', (_req, res) => {
    const times = inServer;
    if (times === undefined) return;
    const t = performance.now();
    res.once('finish', () => times.push(performance.now() - t));
  });
  process.on('message', (m) => {
    if (m === 'start-timed') {
      gcPauses.length = 0;
      inServer = [];
      process.send?.({});
    } else if (m === 'end-timed') {
      process.send?.({ gcPauses: gcPauses.splice(0), inServer: inServer ?? [] });
      inServer = undefined;
    }
  });
  process.send?.({ port, ca: ca.certPem });
  process.on('SIGTERM', () => process.exit(0)); // a normal exit, so that --cpu-prof can write its profile
  await new Promise(() => {});
}

interface Child {
  readonly proc: ChildProcess;
  readonly port: number;
  readonly ca: string;
}

async function startChild(mode: 'real' | 'floor'): Promise<Child> {
  const proc = fork(fileURLToPath(import.meta.url), ['--serve', mode], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const msg = await new Promise<{ port: number; ca: string }>((resolve, reject) => {
    proc.once('message', (m) => resolve(m as { port: number; ca: string }));
    proc.once('exit', (code) => reject(new Error(`server child exited ${code}`)));
  });
  return { proc, ...msg };
}

function peakRssMiB(pid: number | undefined): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/^VmHWM:\s+(\d+) kB/m.exec(status)?.[1] ?? 0) / 1024;
}

function rssMiB(pid: number | undefined): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/^VmRSS:\s+(\d+) kB/m.exec(status)?.[1] ?? 0) / 1024;
}

const bodies = Array.from({ length: 200 }, (_, i) => JSON.stringify(review(NP, realisticNetworkPolicy(i), `uid-${i}`)));
const path = '/validate/networkpolicies';

/** CPU time (user + system) the process has used, in ms. */
function cpuMs(pid: number | undefined): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100; // utime, stime in clock ticks (USER_HZ 100)
}

let lastCpuPerReview = 0;

async function throughput(c: Child, seconds: number, concurrency: number): Promise<number> {
  const cpu0 = cpuMs(c.proc.pid);
  const agent = newAgent({ certPem: c.ca, keyPem: '' }, concurrency);
  const end = Date.now() + seconds * 1000;
  let n = 0;
  const worker = async (w: number) => {
    for (let i = w; Date.now() < end; i += concurrency) {
      const r = await post(agent, c.port, path, bodies[i % bodies.length]!);
      if (r.status !== 200) throw new Error(`HTTP ${r.status}`);
      n++;
    }
  };
  const t = performance.now();
  await Promise.all(Array.from({ length: concurrency }, (_, w) => worker(w)));
  const s = (performance.now() - t) / 1000;
  agent.destroy();
  lastCpuPerReview = ((cpuMs(c.proc.pid) - cpu0) * 1000) / n;
  return n / s;
}

interface OpenLoop {
  readonly p50: number;
  readonly p99: number;
  /** Requests sent more than 1 ms after their due time (the client could not keep the schedule). */
  readonly late: number;
  /** Timed requests that opened a new connection (a TLS handshake) instead of reusing a kept-alive one. */
  readonly handshakes: number;
  /** The server's GC pauses during the timed part, in ms. */
  readonly gcPauses: readonly number[];
  /** p99 of the time requests spent in the server (headers parsed to answer written), in ms. */
  readonly serverP99: number;
  /** The client's GC pauses during the timed part, in ms. */
  readonly clientGc: readonly number[];
}

// Open loop: requests are due every 1/rate s whatever the answers do, each sent on a kept-alive connection (as
// kube-apiserver keeps its connections to a webhook). The first second runs the same schedule untimed, so that the
// pool holds as many connections as the schedule needs: a request that had to open one would time a TLS handshake,
// which kube-apiserver pays once per connection, not per review.
async function latencyAtRate(c: Child, seconds: number, rate: number): Promise<OpenLoop> {
  const agent = newAgent({ certPem: c.ca, keyPem: '' }, 64);
  await openLoop(agent, c.port, 1, rate);
  await ask(c, 'start-timed');
  clientGcPauses.length = 0;
  const timed = await openLoop(agent, c.port, seconds, rate);
  const { gcPauses, inServer } = (await ask(c, 'end-timed')) as { gcPauses: number[]; inServer: number[] };
  const clientGc = clientGcPauses.splice(0);
  agent.destroy();
  const times = timed.times.sort((a, b) => a - b);
  const q = (xs: number[], p: number) => xs[Math.min(xs.length - 1, Math.floor(p * xs.length))] ?? 0;
  return {
    p50: q(times, 0.5),
    p99: q(times, 0.99),
    late: timed.late,
    handshakes: timed.handshakes,
    gcPauses,
    serverP99: q(
      inServer.sort((a, b) => a - b),
      0.99,
    ),
    clientGc,
  };
}

// The client's own GC pauses: one during the timed part delays the answers it is reading, so they are counted too.
const clientGcPauses: number[] = [];
if (values.serve === undefined) {
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) clientGcPauses.push(e.duration);
  }).observe({ entryTypes: ['gc'] });
}

async function ask(c: Child, message: 'start-timed' | 'end-timed'): Promise<unknown> {
  const answer = new Promise<unknown>((resolve) => c.proc.once('message', resolve));
  c.proc.send(message);
  return answer;
}

async function openLoop(agent: Agent, port: number, seconds: number, rate: number) {
  const total = Math.round(seconds * rate);
  const times: number[] = [];
  const pending: Promise<void>[] = [];
  let late = 0;
  let handshakes = 0;
  const start = performance.now();
  for (let i = 0; i < total; i++) {
    const due = start + (i * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    else if (wait < -1) late++;
    const t = performance.now();
    pending.push(
      post(agent, port, path, bodies[i % bodies.length]!).then((r) => {
        if (r.status !== 200) throw new Error(`HTTP ${r.status}`);
        times.push(performance.now() - t);
        if (!r.reusedSocket) handshakes++;
      }),
    );
  }
  await Promise.all(pending);
  return { times, late, handshakes };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const fmt = (xs: number[], unit: string, digits = 0) =>
  `${median(xs).toFixed(digits)} ${unit} (range ${Math.min(...xs).toFixed(digits)}-${Math.max(...xs).toFixed(digits)})`;

const loadText = (l: number[]) => l.map((x) => x.toFixed(1)).join(' ');
const loadAtStart = loadavg();

// The load at the start and at the end: the machine is shared, and the figures mean little when it was busy.
function machine(): string {
  return `${cpus()[0]?.model ?? '?'}, ${cpus().length} cores, Node ${process.version}, load average (1, 5, 15 min) at start ${loadText(loadAtStart)}, at end ${loadText(loadavg())}`;
}

if (values.fuzz !== undefined) {
  const count = Number(values.fuzz);
  const child = await startChild('real');
  const agent = newAgent({ certPem: child.ca, keyPem: '' }, 16);
  const rss0 = rssMiB(child.proc.pid);
  const stats = await runFuzz({
    seed: 2026,
    count,
    concurrency: 16,
    send: (c) => post(agent, child.port, c.path, c.body),
  });
  const alive = await post(agent, child.port, path, bodies[0]!);
  console.log(`machine: ${machine()}`);
  console.log(`fuzz: ${stats.sent} mutated AdmissionReviews in ${stats.seconds.toFixed(1)} s`);
  console.log(`  answers by HTTP status: ${JSON.stringify(stats.byStatus)}`);
  console.log(`  contract violations (5xx, lost requests, uid not echoed): ${stats.violations.length}`);
  for (const v of stats.violations.slice(0, 10)) console.log(`    ${v}`);
  console.log(
    `  server RSS: ${rss0.toFixed(0)} MiB at start, ${rssMiB(child.proc.pid).toFixed(0)} MiB at end, peak ${peakRssMiB(child.proc.pid).toFixed(0)} MiB`,
  );
  console.log(`  server still answers: HTTP ${alive.status}; exit code so far: ${child.proc.exitCode ?? 'running'}`);
  agent.destroy();
  child.proc.kill();
  process.exit(stats.violations.length === 0 && alive.status === 200 ? 0 : 1);
}

const seconds = Number(values.seconds);
const rounds = Number(values.rounds);
const rate = Number(values.rate);
const concurrency = Number(values.concurrency);
const [real, floor] = await Promise.all([startChild('real'), startChild('floor')]);
try {
  // Warm-up, the same for both: JIT and TLS sessions. A webhook serves for days; the validation code (ajv, the
  // selector parser) needs a few seconds of traffic to be optimized, where the floor's constant answer needs none,
  // so a 1 s warm-up measured the real server's first round half cold.
  const warmup = Number(values.warmup);
  await throughput(real, warmup, concurrency);
  await throughput(floor, warmup, concurrency);
  const rps = { real: [] as number[], floor: [] as number[] };
  const p50 = { real: [] as number[], floor: [] as number[] };
  const p99 = { real: [] as number[], floor: [] as number[] };
  const cpu = { real: [] as number[], floor: [] as number[] };
  const late = { real: [] as number[], floor: [] as number[] };
  const handshakes = { real: [] as number[], floor: [] as number[] };
  const gcPauses = { real: [] as number[], floor: [] as number[] };
  const serverP99 = { real: [] as number[], floor: [] as number[] };
  const longestGc = { real: [] as number[], floor: [] as number[] };
  const clientGc = { real: [] as number[], floor: [] as number[] };
  for (let r = 0; r < rounds; r++) {
    for (const [name, c] of [
      ['floor', floor],
      ['real', real],
    ] as const) {
      rps[name].push(await throughput(c, seconds, concurrency));
      cpu[name].push(lastCpuPerReview);
      const l = await latencyAtRate(c, seconds, rate);
      p50[name].push(l.p50);
      p99[name].push(l.p99);
      late[name].push(l.late);
      handshakes[name].push(l.handshakes);
      gcPauses[name].push(l.gcPauses.length);
      serverP99[name].push(l.serverP99);
      longestGc[name].push(Math.max(0, ...l.gcPauses));
      clientGc[name].push(l.clientGc.reduce((a, b) => a + b, 0));
    }
  }
  const ratios = rps.real.map((x, i) => x / rps.floor[i]!);
  console.log(`machine: ${machine()}`);
  console.log(
    `workload: AdmissionReviews of 200 realistic NetworkPolicies (${bodies[0]!.length} bytes each), ${rounds} rounds of ${seconds} s`,
  );
  console.log(`throughput, ${concurrency} in flight:`);
  console.log(`  floor (same HTTPS+express server, constant allow): ${fmt(rps.floor, 'reviews/s')}`);
  console.log(`  fedmesh webhooks (full validation):              ${fmt(rps.real, 'reviews/s')}`);
  console.log(`  ratio real/floor: ${fmt(ratios, '', 2)}  (target >= 0.8)`);
  // Each round on its own (floor then real, back to back): a ratio far from the others is a busy machine.
  console.log(
    `  by round (reviews/s floor/real, ratio; CPU µs per review floor/real): ${rps.floor
      .map(
        (f, i) =>
          `${f.toFixed(0)}/${rps.real[i]!.toFixed(0)} ${ratios[i]!.toFixed(2)}; ${cpu.floor[i]!.toFixed(0)}/${cpu.real[i]!.toFixed(0)}`,
      )
      .join(' | ')}`,
  );
  console.log(
    `  server CPU per review (robust to a busy machine): floor ${fmt(cpu.floor, 'µs')}, real ${fmt(cpu.real, 'µs')}, ratio floor/real ${fmt(
      cpu.floor.map((f, i) => f / cpu.real[i]!),
      '',
      2,
    )}`,
  );
  console.log(
    `latency at ${rate} reviews/s (open loop, ${Math.round(seconds * rate)} timed reviews a round after 1 s untimed on the same connections):`,
  );
  console.log(`  floor: p50 ${fmt(p50.floor, 'ms', 2)}, p99 ${fmt(p99.floor, 'ms', 2)}`);
  console.log(`  real:  p50 ${fmt(p50.real, 'ms', 2)}, p99 ${fmt(p99.real, 'ms', 2)}  (target p99 < 2 ms)`);
  console.log(
    `  timed reviews that opened a connection: floor ${fmt(handshakes.floor, '')}, real ${fmt(handshakes.real, '')}; sent > 1 ms late by the client: floor ${fmt(late.floor, '')}, real ${fmt(late.real, '')}`,
  );
  console.log(
    `  p99 of the time in the server (headers parsed to answer written; a request queued behind a pause is not seen): floor ${fmt(serverP99.floor, 'ms', 2)}, real ${fmt(serverP99.real, 'ms', 2)}`,
  );
  console.log(
    `  server GC pauses in the timed part: floor ${fmt(gcPauses.floor, '')}, longest ${fmt(longestGc.floor, 'ms', 1)}; real ${fmt(gcPauses.real, '')}, longest ${fmt(longestGc.real, 'ms', 1)}; client GC in the timed part: with floor ${fmt(clientGc.floor, 'ms', 1)}, with real ${fmt(clientGc.real, 'ms', 1)} in all`,
  );
  console.log(
    `server peak RSS: real ${peakRssMiB(real.proc.pid).toFixed(0)} MiB, floor ${peakRssMiB(floor.proc.pid).toFixed(0)} MiB`,
  );
} finally {
  real.proc.kill();
  floor.proc.kill();
}
