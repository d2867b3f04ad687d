// Benchmark of the dataplane agent's kernel programming. Run as root: `npm run build && npm run bench:dataplane`.
// Everything happens in a throwaway network namespace (created, then removed), so the host's tables are untouched.
//
//  1. Full programming: 100k remote endpoint IPs (5 clusters, 100 namespaces, 1k apps) selected by the peers of
//     1k policies over 50 local endpoints: the policy calculation (selector index, sets, profiles), the rendering
//     and the driver's transactions into an empty table (the large `peers` set loaded ahead in chunks, a few nft
//     processes at once, then the full transaction), against the floor: `nft -f` of the same final ruleset as one
//     transaction text alone. Rounds: each starts from an empty table.
//  2. (run last) 1k single-endpoint changes (a remote pod relabelled: its `ip . tag` elements move between
//     selections), each timed from the event to nft's answer (event -> kernel): median and p99, against the floor
//     of the same delta on a bare long-lived `nft -i` (what the driver uses for small deltas), and beside it the
//     cost of one `nft -f` process per delta.
//  3. The overlay for 5k remote nodes: the calculation, the read-back and the `ip -batch` / `bridge -batch` runs
//     onto a VXLAN device, from empty; the floor is the same batch texts run alone.
// Fixed counts and a seeded generator: every run does the same work. Figures are medians over the rounds, each
// printed with the load average of the machine at the time. Other processes share the cores: under load, wall
// times stretch, so CPU times are printed as well (ours: this process and its nft children; the floor: nft), which
// stretch far less, and their ratio.

import { type ChildProcessWithoutNullStreams, spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { compileFederatedNetworkPolicy } from '../core/policy/index.js';
import { seededRandom } from '../core/random/seeded-random.js';
import { runToolOk } from '../dataplane-agent/exec.js';
import { NftDriver, PREFILL_CONCURRENCY } from '../dataplane-agent/nft/driver.js';
import { emptyProgrammed, renderDelta, renderFull } from '../dataplane-agent/nft/render.js';
import { computeOverlay, type RemoteNode } from '../dataplane-agent/overlay/calc.js';
import { diffOverlay, OverlayDriver, readMainRoutes, readNexthops } from '../dataplane-agent/overlay/driver.js';
import { vtepMac } from '../dataplane-agent/overlay/vtep.js';
import { adaptPolicy } from '../dataplane-agent/policy/adapt.js';
import { type Endpoint, PolicyCalculation, peersDecl, peersSet } from '../dataplane-agent/policy/calc.js';
import type { DataplanePolicy } from '../dataplane-agent/policy/model.js';

// `--quick`: a tenth of the work, to check that the benchmark runs (its figures are not the targets').
const QUICK = process.argv.includes('--quick');
const REMOTE_IPS = QUICK ? 10_000 : 100_000;
const POLICIES = QUICK ? 100 : 1_000;
const LOCAL = 50;
const CHANGES = QUICK ? 100 : 1_000;
const NODES = QUICK ? 500 : 5_000;
const FULL_ROUNDS = 5;
const OVERLAY_ROUNDS = 3;
const CLUSTERS = ['c0', 'c1', 'c2', 'c3', 'c4'];
// `--prefill-concurrency N`, `--prefill-chunk N`: how the driver loads large new sets ahead of a full sync (defaults:
// the driver's); `--no-prefill`: in the full transaction, as before there was a prefill. `--no-stream`: `peers` is
// not loaded while the calculation computes it (NftDriver.streamSet), only at the full sync; `--stream-chunk N`:
// elements per streamed chunk (default: the driver's).
const STREAM = !process.argv.includes('--no-stream');
const flag = (name: string) => {
  const at = process.argv.indexOf(name);
  return at === -1 ? undefined : Number(process.argv[at + 1]);
};
const DRIVER_OPTIONS = {
  prefillConcurrency: flag('--prefill-concurrency'),
  prefillChunkElements: flag('--prefill-chunk'),
  streamChunkElements: flag('--stream-chunk'),
  prefillMinElements: process.argv.includes('--no-prefill') ? Number.POSITIVE_INFINITY : undefined,
};
const LOCAL_CLUSTER = 'local';
const NODE = 'node-0';

const random = seededRandom(20261201);
const int = (n: number) => Math.floor(random() * n);

const ip = (n: number, base: number) => `10.${base + ((n >> 16) & 255)}.${(n >> 8) & 255}.${n & 255}`;
const median = (xs: readonly number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
const pct = (xs: readonly number[], p: number) =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))] ?? 0;
const ms = (x: number) => `${x.toFixed(1)} ms`;
const tickMs = 1000 / (Number(spawnSync('getconf', ['CLK_TCK']).stdout?.toString()) || 100);

/**
 * CPU time used so far, in ms: by this process (all its threads), and by its children that have exited (nft;
 * /proc/self/stat counts them in clock ticks, 10 ms: figures are sums over many runs).
 */
function cpuTime(): { own: number; children: number } {
  const u = process.cpuUsage();
  const stat = readFileSync('/proc/self/stat', 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // After the command name: state, ppid, … utime (11), stime (12), cutime (13), cstime (14).
  return { own: (u.user + u.system) / 1000, children: (Number(fields[13]) + Number(fields[14])) * tickMs };
}

const load = () =>
  `load average ${loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}`;

/**
 * Remote pod i: app a = i mod 1000, 100 pods per app, all in namespace ns(a mod 10) of cluster c(a mod 5), so that
 * policy a (same namespace, admits that cluster) selects them: 1k peer sets of ~100 IPs, every remote IP in one.
 */
function remoteEndpoint(i: number): Endpoint {
  const app = i % POLICIES;
  return {
    cluster: CLUSTERS[app % CLUSTERS.length]!,
    namespace: `ns${app % 10}`,
    name: `pod-${i}`,
    nodeName: `n${int(1000)}`,
    ips: [ip(i, 100)],
    labels: JSON.parse(
      JSON.stringify({
        app: `app${app}`,
        tier: ['web', 'api', 'db'][int(3)],
        version: `v${int(5)}`,
        'pod-template-hash': int(1e9).toString(16),
      }),
    ) as Record<string, string>,
    ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
  };
}

function localEndpoint(i: number): Endpoint {
  return {
    cluster: LOCAL_CLUSTER,
    namespace: `ns${i % 10}`,
    name: `local-${i}`,
    nodeName: NODE,
    ips: [ip(i, 200)],
    labels: { app: `app${i}` },
    ports: [],
  };
}

/** Policy i: in ns(i%10), applies to app(i%50) (a local endpoint there), admits app(i) of two clusters, ports. */
function policy(i: number): DataplanePolicy {
  const clusters = `{'${CLUSTERS[i % 5]}', '${CLUSTERS[(i + 1) % 5]}'}`;
  const c = compileFederatedNetworkPolicy(
    {
      metadata: { namespace: `ns${i % 10}`, name: `p${i}` },
      spec: {
        selector: `app == 'app${i % LOCAL}'`,
        order: i % 7,
        ingress: [
          {
            action: 'Deny',
            source: { selector: `fedmesh.io/cluster in ${clusters} && app == 'app${i}' && tier == 'db'` },
          },
          {
            action: 'Allow',
            protocol: 'TCP',
            source: { selector: `fedmesh.io/cluster in ${clusters} && app == 'app${i}'` },
            destination: { ports: [80, 443, '8000:8100'] },
          },
        ],
      },
    },
    { localCluster: LOCAL_CLUSTER },
  );
  if (!c.policy) throw new Error(`policy ${i}: ${JSON.stringify(c.errors)}`);
  return adaptPolicy(c.policy, LOCAL_CLUSTER);
}

function nft(text: string): number {
  const t = performance.now();
  const r = spawnSync('nft', ['-f', '-'], { input: text });
  if (r.status !== 0) throw new Error(`nft: ${r.stderr.toString().slice(0, 500)}`);
  return performance.now() - t;
}

/**
 * The floor of a delta: a bare `nft -i` (no fedmesh code) fed one line per transaction, each followed by a line
 * nft refuses, whose echoed error says that the line before it is done.
 */
class BareInteractiveNft {
  private readonly child: ChildProcessWithoutNullStreams = spawn('nft', ['-i'], {
    stdio: 'pipe',
    env: { ...process.env, HOME: '/dev/null' },
  });
  private err = '';
  private wake: (() => void) | undefined;
  private seq = 0;

  constructor() {
    this.child.stdout.resume();
    this.child.stderr.setEncoding('utf8');
    this.child.stderr.on('data', (c: string) => {
      this.err += c;
      this.wake?.();
    });
  }

  /** Runs `text`'s lines as one transaction; returns the milliseconds until nft answered. */
  async run(text: string): Promise<number> {
    const marker = `bench-sync-${++this.seq}`;
    this.err = '';
    const t = performance.now();
    this.child.stdin.write(`${text.trim().split('\n').join('; ')}\n${marker}\n`);
    for (;;) {
      const at = this.err.indexOf(`\n${marker}\n`);
      if (at !== -1 && this.err.indexOf('\n', at + marker.length + 2) !== -1) break;
      await new Promise<void>((r) => {
        this.wake = r;
      });
    }
    const elapsed = performance.now() - t;
    if (!this.err.startsWith('Error: syntax error')) throw new Error(`nft -i: ${this.err.slice(0, 300)}`);
    return elapsed;
  }

  close(): void {
    this.child.stdin.end();
  }
}

function resetTable(): void {
  spawnSync('nft', ['delete', 'table', 'inet', 'fedmesh']);
}

async function benchPolicy(): Promise<{ calc: PolicyCalculation; remotes: Endpoint[] }> {
  const remotes = Array.from({ length: REMOTE_IPS }, (_, i) => remoteEndpoint(i));
  const locals = Array.from({ length: LOCAL }, (_, i) => localEndpoint(i));
  const policies = Array.from({ length: POLICIES }, (_, i) => policy(i));
  const ours: number[] = [];
  const calcs: number[] = [];
  const calcCpus: number[] = [];
  const oursCpus: number[] = [];
  const floorCpus: number[] = [];
  const drivers: number[] = [];
  const floors: number[] = [];
  let calc: PolicyCalculation | undefined;
  let driver: NftDriver | undefined;
  let stats = '';
  let loaded = '';
  for (let round = 0; round < FULL_ROUNDS; round++) {
    resetTable();
    const cpu0 = process.cpuUsage();
    const spent0 = cpuTime();
    const t0 = performance.now();
    // As the agent starts on a node without the table: `peers` is created first and loaded as it is computed.
    driver = new NftDriver('nft', DRIVER_OPTIONS);
    const stream = STREAM ? await driver.streamSet(peersSet, peersDecl) : undefined;
    calc = new PolicyCalculation(LOCAL_CLUSTER, NODE);
    if (stream) calc.streamPeers(stream);
    calc.setNodeCIDRs(['10.200.0.0/24']);
    for (let n = 0; n < 100; n++) calc.setNamespace(`ns${n}`, { team: `t${n % 10}` });
    for (const p of policies) calc.upsertPolicy(p);
    for (const e of locals) calc.upsertEndpoint(e);
    for (const e of remotes) calc.upsertEndpoint(e);
    // The policies the calculation holds until the first full sync are applied here, inside the calculation's time
    // (the driver would otherwise apply them when it reads the state).
    calc.trackChanges(false);
    const t1 = performance.now();
    const cpu = process.cpuUsage(cpu0);
    calcCpus.push((cpu.user + cpu.system) / 1000);
    const run = await driver.fullSync(() => {
      calc!.trackChanges(true);
      return calc!.desired;
    });
    const t2 = performance.now();
    const chunks = run.prefillChunks ?? 0;
    const streamed = run.streamedChunks ?? 0;
    const atOnce = DRIVER_OPTIONS.prefillConcurrency ?? PREFILL_CONCURRENCY;
    loaded = [
      streamed > 0 ? `peers in ${streamed} chunk transactions as computed (${atOnce} at a time)` : '',
      chunks > 0 ? `${chunks} chunk transactions ahead, ${atOnce} at a time` : '',
      'then the full transaction',
    ]
      .filter((x) => x !== '')
      .join(', ');
    const spent1 = cpuTime();
    oursCpus.push(spent1.own - spent0.own + spent1.children - spent0.children);
    ours.push(t2 - t0);
    calcs.push(t1 - t0);
    drivers.push(t2 - t1);
    // The floor: the same final ruleset as one text, loaded into an empty table by nft alone.
    const text = renderFull(calc.desired, { table: false, sets: new Set(), maps: new Set(), chains: new Set() }).text;
    resetTable();
    const spent2 = cpuTime();
    floors.push(nft(text));
    floorCpus.push(cpuTime().children - spent2.children);
    const sets = [...calc.desired.sets.values()];
    stats = `${sets.length} sets with ${sets.reduce((n, s) => n + s.elements.size, 0)} elements, ${calc.desired.chains.size} chains, ${text.split('\n').length} lines`;
    console.error(`   … round ${round + 1}: ours ${ms(t2 - t0)}, floor ${ms(floors.at(-1) ?? 0)}; ${load()}`);
  }
  const oursM = median(ours);
  const floorM = median(floors);
  console.log(
    `\n1. full programming: ${REMOTE_IPS} remote IPs, ${POLICIES} policies, ${LOCAL} local endpoints (${stats})`,
  );
  console.log(`   ours (calculation + render + nft -f): median ${ms(oursM)} [${ours.map(ms).join(', ')}]`);
  console.log(
    `     of which the calculation: median ${ms(median(calcs))} (CPU time of the process: ${ms(median(calcCpus))})${STREAM ? ', with the read-back, the creation of `peers` and the chunks it started' : ''}`,
  );
  console.log(
    `     the driver alone (read-back + render + nft -f): median ${ms(median(drivers))}; it loaded: ${loaded}`,
  );
  console.log(`   floor (nft -f of the same ruleset):    median ${ms(floorM)} [${floors.map(ms).join(', ')}]`);
  console.log(
    `   ratio ${(oursM / floorM).toFixed(2)} (target <= 1.2); the driver alone ${(median(drivers) / floorM).toFixed(2)}`,
  );
  console.log(
    `   CPU time: ours ${ms(median(oursCpus))} (this process and nft), floor ${ms(median(floorCpus))} (nft): ratio ${(median(oursCpus) / median(floorCpus)).toFixed(2)}`,
  );
  console.log(`   ${load()}`);

  if (!calc) throw new Error('unreachable');
  return { calc, remotes };
}

/** Part 2, on the ruleset of part 1. */
async function benchChanges(calc: PolicyCalculation, remotes: Endpoint[]): Promise<void> {
  // The table the last round programmed is the floor's; put ours back for the changes.
  resetTable();
  const driver = new NftDriver();
  await driver.fullSync(() => {
    calc.trackChanges(true);
    return calc.desired;
  });
  const latencies: number[] = [];
  const via = new Map<string, number>();
  const bareFloors: number[] = [];
  const fileFloors: number[] = [];
  const bare = new BareInteractiveNft();
  let oursCpu = 0;
  for (let i = 0; i < CHANGES; i++) {
    // To another app of the same namespace and cluster: the IP leaves one policy's sets and joins another's.
    const target = remotes[int(REMOTE_IPS)]!;
    const app = Number(target.labels.app?.slice(3));
    const next = (app + 10 * (1 + int(9))) % POLICIES;
    const moved: Endpoint = { ...target, labels: { ...target.labels, app: `app${next}` } };
    const spent0 = cpuTime();
    const t = performance.now();
    calc.upsertEndpoint(moved);
    const changes = calc.takeChanges();
    const stats = await driver.apply(calc.desired, changes);
    latencies.push(performance.now() - t);
    via.set(stats.via, (via.get(stats.via) ?? 0) + 1);
    const spent1 = cpuTime();
    oursCpu += spent1.own - spent0.own;
    // renderDelta's text for the floor, from the same changes (outside the timed part: the driver rendered its own).
    const probe = emptyProgrammed();
    for (const [n, s] of calc.desired.sets) probe.sets.set(n, s.declaration);
    const deltaText = renderDelta(calc.desired, changes, probe).text;
    remotes[remotes.indexOf(target)] = moved;
    if (stats.kind !== 'delta') throw new Error('a single change must not need a full sync');
    if ((i + 1) % 100 === 0) {
      console.error(
        `   … ${i + 1} changes: median ${ms(median(latencies))}, p99 ${ms(pct(latencies, 0.99))}; floor median ${ms(median(bareFloors))}, p99 ${ms(pct(bareFloors, 0.99))}; ${load()}`,
      );
    }
    // Floors: the same delta again, reverted then reapplied, by a bare nft -i and by one nft -f process.
    if (deltaText) {
      const revert = deltaText
        .split('\n')
        .filter((l) => l.startsWith('add element') || l.startsWith('delete element'))
        .map((l) => (l.startsWith('add') ? l.replace(/^add/, 'delete') : l.replace(/^delete/, 'add')))
        .join('\n');
      await bare.run(revert);
      bareFloors.push(await bare.run(deltaText));
      await bare.run(revert);
      fileFloors.push(nft(deltaText));
    }
  }
  bare.close();
  console.log(`\n2. ${CHANGES} single-endpoint changes (a remote pod relabelled), event -> kernel`);
  console.log(
    `   ours:  median ${ms(median(latencies))}, p99 ${ms(pct(latencies, 0.99))} (target p99 <= 10 ms); transactions by way: ${[...via].map(([k, n]) => `${k} ${n}`).join(', ')}`,
  );
  console.log(
    `   floor (the same delta on a bare long-lived nft -i): median ${ms(median(bareFloors))}, p99 ${ms(pct(bareFloors, 0.99))}; added p99 ${ms(pct(latencies, 0.99) - pct(bareFloors, 0.99))}`,
  );
  console.log(
    `   for comparison, one nft -f process per delta: median ${ms(median(fileFloors))}, p99 ${ms(pct(fileFloors, 0.99))}`,
  );
  console.log(`   CPU time of this process per change: ${ms(oursCpu / CHANGES)} (nft's own is not in it)`);
  console.log(`   ${load()}`);
  await driver.close();
  resetTable();
}

async function benchOverlay(): Promise<void> {
  await runToolOk('ip', ['link', 'add', 'under0', 'type', 'veth', 'peer', 'name', 'under1']);
  await runToolOk('ip', ['addr', 'add', '172.16.0.1/12', 'dev', 'under0']);
  await runToolOk('ip', ['link', 'set', 'under0', 'up']);
  await runToolOk('ip', ['link', 'set', 'under1', 'up']);
  const nodes: RemoteNode[] = Array.from({ length: NODES }, (_, i) => ({
    cluster: CLUSTERS[i % 5]!,
    name: `node-${i}`,
    nodeIP: `172.17.${i >> 8}.${i & 255}`,
    podCIDRs: [`10.${64 + (i >> 8)}.${i & 255}.0/24`],
    vtepIP: `10.${64 + (i >> 8)}.${i & 255}.0`,
    vtepMAC: vtepMac(CLUSTERS[i % 5]!, `node-${i}`),
  }));
  const cfg = {
    name: 'bench.vxlan',
    vni: 4097,
    port: 4789,
    mtu: 1450,
    underlayInterface: 'under0',
    localIP: '172.16.0.1',
    mac: vtepMac(LOCAL_CLUSTER, NODE),
    vtepIP: '10.200.0.0',
  };
  const ours: number[] = [];
  const floors: number[] = [];
  for (let round = 0; round < OVERLAY_ROUNDS; round++) {
    spawnSync('ip', ['link', 'delete', cfg.name]);
    const driver = new OverlayDriver(cfg);
    await driver.ensureDevice();
    const t0 = performance.now();
    const plan = computeOverlay({
      remoteNodes: nodes,
      enabledClusters: new Set(CLUSTERS),
      protectedCIDRs: ['10.200.0.0/24'],
      localRoutes: await readMainRoutes(),
      localNexthops: await readNexthops(),
    });
    await driver.apply(plan.state);
    ours.push(performance.now() - t0);
    // Floor: the same lines by ip/bridge alone, onto a fresh device.
    spawnSync('ip', ['link', 'delete', cfg.name]);
    await new OverlayDriver(cfg).ensureDevice();
    const empty = {
      neighbors: new Map(),
      fdb: new Map(),
      routes: new Map(),
      nexthops: new Map(),
      ownedNexthops: new Set<number>(),
      ownedRoutes: new Set<string>(),
    };
    const d = diffOverlay(empty, plan.state, cfg.name);
    const t1 = performance.now();
    spawnSync('ip', ['-batch', '-'], { input: `${d.neighAdd.join('\n')}\n` });
    spawnSync('bridge', ['-batch', '-'], { input: `${d.fdbAdd.join('\n')}\n` });
    spawnSync('ip', ['-batch', '-'], { input: `${[...d.nexthopAdd, ...d.routeAdd].join('\n')}\n` });
    floors.push(performance.now() - t1);
  }
  spawnSync('ip', ['link', 'delete', cfg.name]);
  console.log(`\n3. overlay for ${NODES} remote nodes (${NODES} neighbours, FDB entries and routes), from empty`);
  console.log(
    `   ours (calculation + read-back + batches): median ${ms(median(ours))} [${ours.map(ms).join(', ')}] (target <= 1 s)`,
  );
  console.log(`   floor (ip -batch / bridge -batch of the same lines): median ${ms(median(floors))}`);
  console.log(`   ratio ${(median(ours) / median(floors)).toFixed(2)}; ${load()}`);
}

async function inside(): Promise<void> {
  const cpu = cpus();
  const nftVersion = spawnSync('nft', ['--version']).stdout?.toString().trim() ?? '?';
  console.log(
    `machine: ${cpu[0]?.model ?? '?'}, ${cpu.length} cores, Node ${process.version}, ${nftVersion}; ${load()}`,
  );
  // `--overlay`: part 3 alone; `--full`: part 1 alone; `--policy`: parts 1 and 2.
  if (process.argv.includes('--overlay')) {
    await benchOverlay();
    return;
  }
  const { calc, remotes } = await benchPolicy();
  if (process.argv.includes('--full')) return;
  if (!process.argv.includes('--policy')) await benchOverlay();
  await benchChanges(calc, remotes);
}

if (process.argv.includes('--inside')) {
  await inside();
} else {
  if (process.getuid?.() !== 0) {
    console.error('bench:dataplane needs root (it creates a network namespace)');
    process.exit(1);
  }
  const ns = `fmbench-${process.pid}`;
  spawnSync('ip', ['netns', 'add', ns], { stdio: 'inherit' });
  try {
    // The namespace goes with the benchmark even when it is interrupted.
    for (const sig of ['SIGINT', 'SIGTERM'] as const) {
      process.once(sig, () => {
        spawnSync('ip', ['netns', 'delete', ns]);
        process.exit(130);
      });
    }
    const args = [fileURLToPath(import.meta.url), '--inside', ...process.argv.slice(2)];
    const r = spawnSync('ip', ['netns', 'exec', ns, process.execPath, ...args], { stdio: 'inherit' });
    process.exitCode = r.status ?? 1;
  } finally {
    spawnSync('ip', ['netns', 'delete', ns]);
  }
}
