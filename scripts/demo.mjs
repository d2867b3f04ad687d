#!/usr/bin/env node
// The README's run command: a local mesh of three real clusters with fedmesh installed from its Helm chart, then
// each feature shown as a user would type it, each step with its time. Installs what is missing first; leaves the
// testbed running (stop it: npx fedmesh testbed down). The packet steps need network namespaces (root and
// unshare); without them the demo says it skipped them and why.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { ensureAll, root } from './ensure-deps.mjs';

const clusters = ['east', 'west', 'north'];
const fedmesh = join(root, 'bin', 'fedmesh.js');
const started = Date.now();
const since = (t0) => `${((Date.now() - t0) / 1000).toFixed(1)}s`;
const shown = [];
const skipped = [];
const timings = [];
/** Extra lines for "keep exploring", from the steps that ran. */
const explore = [];
const load = () =>
  loadavg()
    .map((x) => x.toFixed(2))
    .join(' ');

function fail(message) {
  console.error(`demo: ${message}`);
  process.exit(1);
}

/** Runs a program; resolves with its exit code and, when `capture`, its output (else the output is shown live). */
function exec(cmd, args, { env = {}, capture = false, input } = {}) {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, {
      cwd: root,
      stdio: [input === undefined ? 'ignore' : 'pipe', capture ? 'pipe' : 'inherit', capture ? 'pipe' : 'inherit'],
      env: { ...process.env, ...env },
    });
    let out = '';
    child.stdout?.on('data', (d) => (out += d));
    child.stderr?.on('data', (d) => (out += d));
    if (input !== undefined) child.stdin.end(input);
    child.on('error', (err) => resolve({ code: null, out: `${out}${err.message}\n` }));
    child.on('close', (code) => resolve({ code, out }));
  });
}

/**
 * One step as the user would type it (`title`): the command line, its output, its time. `expect: 'failure'`
 * for a step that shows something refused or dropped (the demo stops when it succeeds instead).
 */
async function step(title, cmd, args, { env, input, expect = 'success', capture = false } = {}) {
  console.log(`\n$ ${title}`);
  const t0 = Date.now();
  const r = await exec(cmd, args, { env, input, capture });
  if (capture) process.stdout.write(r.out);
  console.log(`# ${since(t0)}`);
  timings.push(`${since(t0).padStart(6)}  ${title.split('   #')[0]}`);
  if ((r.code === 0) !== (expect === 'success')) {
    fail(
      `"${title}" ${r.code === 0 ? 'succeeded but should have been refused' : `failed (exit ${r.code})`}; see above`,
    );
  }
  return r;
}
const run = (args, opts) => step(`fedmesh ${args.join(' ')}`, process.execPath, [fedmesh, ...args], opts);

/** Starts `fedmesh ARGS` now, its output kept for showBackground: for a step that need not wait its turn. */
function inBackground(args) {
  const t0 = Date.now();
  const done = exec(process.execPath, [fedmesh, ...args], { capture: true }).then((r) => ({ ...r, secs: since(t0) }));
  return { title: `fedmesh ${args.join(' ')}`, t0, done };
}

/** Shows a background step in its turn: the command, its output, its own time and when it started. */
async function showBackground(bg) {
  console.log(`\n$ ${bg.title}   # started in the background once the mesh was up`);
  const r = await bg.done;
  process.stdout.write(r.out);
  console.log(`# ${r.secs} (started ${since(bg.t0)} ago; the steps above ran meanwhile)`);
  timings.push(`${r.secs.padStart(6)}  ${bg.title} (in the background)`);
  if (r.code !== 0) fail(`"${bg.title}" failed (exit ${r.code}); see above`);
  return r;
}

function networkNamespacesAllowed() {
  if (process.getuid?.() !== 0) return 'network namespaces need root';
  if (spawnSync('unshare', ['--net', 'true'], { stdio: 'ignore' }).status !== 0) return 'unshare --net fails here';
  return '';
}

/** One feature: runs `body` unless `why` says why it cannot be shown here, which is then reported. */
async function feature(name, why, body) {
  if (why) {
    console.log(`\n# ${name}: skipped (${why})`);
    skipped.push(`${name}: ${why}`);
    return;
  }
  console.log(`\n# ${name}`);
  await body();
  shown.push(name);
}

const tDeps = Date.now();
ensureAll();
timings.push(`${since(tDeps).padStart(6)}  npm packages and the compiled TypeScript (ensure-deps)`);
const netnsWhy = networkNamespacesAllowed();
const testbedDir = join(root, '.testbed');
console.log(`# load average ${load()}`);

// --- the mesh ----------------------------------------------------------------------------------------------------
if (existsSync(join(testbedDir, 'state.json'))) {
  await step('fedmesh testbed down   # the testbed of an earlier run', process.execPath, [fedmesh, 'testbed', 'down']);
}
// `up` builds the control plane first when the cache is cold (minutes, once); warm, it only starts the clusters.
await run(['testbed', 'up', '--clusters', clusters.join(',')]);
// Seeding and deploying are independent (fedmesh watches what the seeds create, whenever it comes), so the three
// seeds and the deploy run at once; their outputs are shown in order, each with its time.
const tSeed = Date.now();
const captured = (args) =>
  exec(process.execPath, [fedmesh, ...args], { capture: true }).then((r) => ({ args, ...r, secs: since(tSeed) }));
const deploying = captured(['testbed', 'deploy']);
const seeds = await Promise.all(
  clusters.map((c) =>
    captured(['testbed', 'seed', '--cluster', c, '--file', join('examples', 'testbed', `${c}.yaml`)]),
  ),
);
for (const s of [...seeds, await deploying]) {
  const title = `fedmesh ${s.args.join(' ')}`;
  console.log(`\n$ ${title}${s === seeds[0] ? '   # the three seeds and the deploy at once' : ''}\n${s.out.trimEnd()}`);
  console.log(`# ${s.secs}`);
  timings.push(`${s.secs.padStart(6)}  ${title} (at once with the others)`);
  if (s.code !== 0) fail(`"${title}" failed (exit ${s.code}); see above`);
}
console.log(`\n# the mesh is up in ${since(started)}`);

// The pods of the packet steps become network namespaces with an agent on their nodes, in the background while
// the API steps run: east/web-0 (east-node-0) receives; west/web-0 (west-node-0, a frontend) and west/db-0
// (west-node-1, a backend) send. One agent per node costs CPU, so only these three nodes get one.
const netnsNodes = ['east/east-node-0', 'west/west-node-0', 'west/west-node-1'];
const netns = netnsWhy ? undefined : inBackground(['testbed', 'netns', '--nodes', netnsNodes.join(',')]);
// `policy explain` only reads (the file, and the pods of the mesh, which no later step changes before it is shown):
// it runs in the background too.
const explain = inBackground([
  'policy',
  'explain',
  '-f',
  'examples/demo/web-from-west.yaml',
  '--cluster-name',
  'east',
  '--kubeconfig',
  join('.testbed', 'east.kubeconfig'),
]);

// --- the federation API ------------------------------------------------------------------------------------------
const { cacheDir } = await import(join(root, 'dist', 'test', 'testbed', 'versions.js'));
const kubectlPath = join(cacheDir(), 'bin', 'kubectl');
// kubectl keeps discovery per host:port for hours: a fresh cache, so that an earlier testbed on the same port
// cannot hide the federation API's kinds.
const kubeCache = join(testbedDir, 'kubectl-cache');
rmSync(kubeCache, { recursive: true, force: true });
const kubectlEnv = (c) => ({ KUBECONFIG: join(testbedDir, `${c}.kubeconfig`), KUBECACHEDIR: kubeCache });
const kubectl = (c, args, opts = {}) =>
  step(`kubectl --kubeconfig .testbed/${c}.kubeconfig ${args.join(' ')}`, kubectlPath, args, {
    ...opts,
    env: kubectlEnv(c),
  });

await kubectl('west', ['get', 'pods', '-n', 'shop', '-o', 'wide']);
await kubectl('east', ['get', 'remoteclusterconfigurations', '-o', 'wide']);
await kubectl('east', ['get', 'remoteworkloads', '-n', 'shop']);
await kubectl('east', ['get', 'remotenodes']);
await kubectl('east', ['get', 'federatedendpoints', '-n', 'shop', '-o', 'wide']);
shown.push('remote clusters, workloads, nodes and federated endpoints through the aggregated API');

await feature("a federated Service's EndpointSlices filled from three clusters", '', async () => {
  const args = ['get', 'endpointslices', '-n', 'shop', '-l', 'kubernetes.io/service-name=web-global'];
  // The leader writes them moments after the mesh is in sync: poll, bounded.
  const deadline = Date.now() + 30_000;
  for (;;) {
    const r = await exec(kubectlPath, [...args, '-o', 'name'], { env: kubectlEnv('east'), capture: true });
    if (r.out.trim().split('\n').filter(Boolean).length >= 3 || Date.now() > deadline) break;
    await new Promise((res) => setTimeout(res, 200));
  }
  await kubectl('east', [
    ...args,
    '-L',
    'multicluster.kubernetes.io/source-cluster,endpointslice.kubernetes.io/managed-by',
  ]);
});

await feature('a bad policy refused at admission, with the position of the error', '', async () => {
  await kubectl('east', ['apply', '-f', 'examples/demo/bad-policy.yaml'], { expect: 'failure' });
});

await feature('fedmesh policy explain: what a remote-aware policy selects across the mesh', '', async () => {
  await showBackground(explain);
});

// --- packets -----------------------------------------------------------------------------------------------------
let helloServer;
// Outside the testbed's processes: stopped here, also when a step fails and the demo exits early.
process.on('exit', () => helloServer?.kill());
await feature(
  'packets from west to east across the VXLAN overlay, then decided by that remote-aware policy',
  netnsWhy,
  async () => {
    const r = await showBackground(netns);
    // Its output lists the pods it made: "pod CLUSTER/NS/NAME IP: ip netns exec NETNS …".
    const pods = [...r.out.matchAll(/pod (\S+?)\/(\S+?)\/(\S+) (\S+): ip netns exec (\S+)/g)].map((m) => ({
      id: `${m[1]}/${m[3]}`,
      ip: m[4],
      netns: m[5],
    }));
    const pod = (id) => pods.find((p) => p.id === id) ?? fail(`fedmesh testbed netns made no namespace for ${id}`);
    const eastNode = /node east\/east-node-0 \S+: ip netns exec (\S+)/.exec(r.out)?.[1];
    const target = pod('east/web-0');
    const frontend = pod('west/web-0');
    const backend = pod('west/db-0');

    console.log(
      `\n$ ip netns exec ${target.netns} node examples/demo/hello-server.mjs 8080 east/web-0 &   # a server in east/web-0`,
    );
    helloServer = spawn(
      'ip',
      ['netns', 'exec', target.netns, process.execPath, 'examples/demo/hello-server.mjs', '8080', 'east/web-0'],
      { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] },
    );
    await new Promise((resolve) => helloServer.stdout.once('data', (d) => resolve(process.stdout.write(d))));

    const ping = (from, expect, why) =>
      step(
        `ip netns exec ${from.netns} ping -c 1 -W 1 ${target.ip}   # ${from.id} → east/web-0: ${why}`,
        'ip',
        ['netns', 'exec', from.netns, 'ping', '-c', '1', '-W', '1', target.ip],
        { expect },
      );
    const hello = (from, expect, why) =>
      step(
        `ip netns exec ${from.netns} node examples/demo/hello.mjs ${target.ip} 8080   # ${from.id} → east/web-0: ${why}`,
        'ip',
        ['netns', 'exec', from.netns, process.execPath, 'examples/demo/hello.mjs', target.ip, '8080'],
        { expect },
      );
    await ping(frontend, 'success', 'no policy yet, the overlay carries it');
    await hello(backend, 'success', 'TCP too; the answer shows the sender’s own pod IP (no NAT)');

    await kubectl('east', ['apply', '-f', 'examples/demo/web-from-west.yaml']);
    // The agent of east-node-0 programs nftables within moments of the policy: probe until a packet the policy
    // does not allow (ICMP) is dropped, bounded, and say how long it took.
    const t0 = Date.now();
    while (
      spawnSync('ip', ['netns', 'exec', frontend.netns, 'ping', '-c', '1', '-W', '1', target.ip], { stdio: 'ignore' })
        .status === 0
    ) {
      if (Date.now() - t0 > 20_000) fail('the policy is not in effect after 20 s; see .testbed/logs/*agent*');
      await new Promise((res) => setTimeout(res, 50));
    }
    console.log(`# the policy is in effect on east-node-0 within ${since(t0)} (the first dropped ping included)`);
    await hello(frontend, 'success', 'a west frontend, TCP 8080: allowed');
    await hello(backend, 'failure', 'a west backend (tier=backend): denied');
    await ping(frontend, 'failure', 'ICMP: the policy allows TCP 8080 only, denied');
    explore.push(
      `ip netns exec ${eastNode} nft list table inet fedmesh   # the rules the agent of east-node-0 wrote`,
      `ip netns exec ${backend.netns} ping -c 1 ${target.ip}   # west/db-0 → east/web-0`,
    );
  },
);
helloServer?.kill();

console.log(`
# done in ${since(started)} (load average now ${load()}): ${shown.length} features shown${skipped.length ? `, ${skipped.length} skipped:\n#   ${skipped.join('\n#   ')}` : ''}
# where the time went:
#${timings.join('\n#')}

Keep exploring (the testbed keeps running):
  export KUBECONFIG=.testbed/east.kubeconfig
  kubectl get fedmesh -A                                 # RCCs and every remote object, one command
  kubectl get rwl -A -o wide -w                          # watch remote pods live (Ctrl-C to stop)
  kubectl get rwl -A -l fedmesh.io/cluster=west          # by cluster, like any label
  kubectl describe rcc west                              # conditions and what is wrong, if anything
  npx fedmesh selector check "tier = 'frontend'"         # a selector error, with a caret under it
  npx fedmesh testbed status                             # the processes and their logs${explore.map((l) => `\n  ${l}`).join('')}
  npx fedmesh testbed down                               # stop everything
`);
