#!/usr/bin/env node
// The README's run command: a local mesh of three real clusters with fedmesh installed from its Helm chart, then
// each feature shown as a user would type it. A feature's step runs when its piece is in this repository (and, for
// the packet across the overlay, when the machine allows network namespaces); otherwise the demo says it skipped
// it and why. Installs what is missing first; leaves the testbed running (stop it: npx fedmesh testbed down).
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { ensureAll, root } from './ensure-deps.mjs';

const clusters = ['east', 'west', 'north'];
const fedmesh = join(root, 'bin', 'fedmesh.js');
const started = Date.now();
const elapsed = () => `${((Date.now() - started) / 1000).toFixed(1)}s`;
const shown = [];
const skipped = [];

/** Runs a command as the user would type it (`title`), output shown; exits the demo when it fails unless allowed. */
function step(title, cmd, args, { env = {}, mayFail = false, capture = false } = {}) {
  console.log(`\n$ ${title}`);
  const t0 = Date.now();
  const r = spawnSync(cmd, args, {
    cwd: root,
    stdio: capture ? ['ignore', 'pipe', 'pipe'] : 'inherit',
    encoding: 'utf8',
    env: { ...process.env, ...env },
  });
  if (capture) process.stdout.write(`${r.stdout ?? ''}${r.stderr ?? ''}`);
  const secs = (Date.now() - t0) / 1000;
  if (secs >= 2) console.log(`# (${secs.toFixed(1)}s)`);
  if (r.status !== 0 && !mayFail) {
    console.error(`demo: "${title}" failed (exit ${r.status}); see the output above`);
    process.exit(1);
  }
  return r;
}
const run = (title, args, opts) => step(`fedmesh ${title}`, process.execPath, [fedmesh, ...args], opts);

/** Whether a piece is built: its command is registered in the CLI, or its folder exists. */
const cliSource = () => readFileSync(join(root, 'cli', 'main.ts'), 'utf8');
const pieces = {
  federatedServices: () => existsSync(join(root, 'federation', 'federated-services')),
  webhooks: () => /^\s*webhooks: \{/m.test(cliSource()),
  policyExplain: () => /^\s*policy: \{/m.test(cliSource()),
  dataplane: () =>
    /^\s*agent: \{/m.test(cliSource()) &&
    readFileSync(join(root, 'test', 'testbed', 'cli.ts'), 'utf8').includes('netns'),
};
function networkNamespacesAllowed() {
  return process.getuid?.() === 0 && spawnSync('unshare', ['--net', 'true'], { stdio: 'ignore' }).status === 0;
}

/** One feature: runs `body` when `ready()` says why not, else records the skip. */
async function feature(name, ready, body) {
  const why = ready();
  if (why) {
    console.log(`\n# ${name}: skipped (${why})`);
    skipped.push(`${name}: ${why}`);
    return;
  }
  console.log(`\n# ${name}`);
  await body();
  shown.push(name);
}

ensureAll();
run('testbed build   # the control plane, once; a no-op when the cache is warm', ['testbed', 'build']);
run('testbed down   # a fresh start', ['testbed', 'down']);
const overlay = pieces.dataplane() && networkNamespacesAllowed();
const upArgs = ['testbed', 'up', '--clusters', clusters.join(','), ...(overlay ? ['--netns'] : [])];
const up = run(upArgs.join(' '), upArgs, { capture: overlay });
// The three seeds run at once (each waits on its own API server); their outputs are shown in order.
const seeds = await Promise.all(
  clusters.map((c) => {
    const file = join('examples', 'testbed', `${c}.yaml`);
    return new Promise((resolve) => {
      const args = ['testbed', 'seed', '--cluster', c, '--file', file];
      const child = spawn(process.execPath, [fedmesh, ...args], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      child.stdout.on('data', (d) => (out += d));
      child.stderr.on('data', (d) => (out += d));
      child.on('close', (code) => resolve({ title: `fedmesh ${args.join(' ')}`, out, code }));
    });
  }),
);
for (const s of seeds) {
  console.log(`\n$ ${s.title}\n${s.out.trimEnd()}`);
  if (s.code !== 0) {
    console.error(`demo: "${s.title}" failed (exit ${s.code}); see the output above`);
    process.exit(1);
  }
}
run('testbed deploy   # per cluster: helm upgrade --install charts/fedmesh, a fedmesh server, every pair joined', [
  'testbed',
  'deploy',
]);
console.log(`\n# the mesh is up in ${elapsed()}`);

const { cacheDir } = await import(join(root, 'dist', 'test', 'testbed', 'versions.js'));
const kubectlPath = join(cacheDir(), 'bin', 'kubectl');
const kubeconfig = (c) => join(root, '.testbed', `${c}.kubeconfig`);
// kubectl keeps discovery per host:port for hours: a fresh cache, so that an earlier testbed on the same port
// cannot hide the federation API's kinds.
const kubeCache = join(root, '.testbed', 'kubectl-cache');
rmSync(kubeCache, { recursive: true, force: true });
const kubectlEnv = (c) => ({ KUBECONFIG: kubeconfig(c), KUBECACHEDIR: kubeCache });
const kubectl = (c, args, opts = {}) =>
  step(`kubectl --kubeconfig .testbed/${c}.kubeconfig ${args.join(' ')}`, kubectlPath, args, {
    ...opts,
    env: kubectlEnv(c),
  });

kubectl('west', ['get', 'pods', '-n', 'shop', '-o', 'wide']);
kubectl('east', ['get', 'remoteclusterconfigurations', '-o', 'wide']);
kubectl('east', ['get', 'remoteworkloads', '-n', 'shop']);
kubectl('east', ['get', 'remotenodes']);
kubectl('east', ['get', 'federatedendpoints', '-n', 'shop', '-o', 'wide']);
shown.push('remote clusters, workloads, nodes and federated endpoints through the aggregated API');

await feature(
  "a federated Service's EndpointSlices filled from three clusters",
  () => (pieces.federatedServices() ? '' : 'the federated services controller is not built yet'),
  async () => {
    const args = ['get', 'endpointslices', '-n', 'shop', '-l', 'kubernetes.io/service-name=web-global'];
    // The leader writes them moments after the mesh is in sync: poll, bounded.
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline) {
      const r = spawnSync(kubectlPath, [...args, '-o', 'name'], {
        env: { ...process.env, ...kubectlEnv('east') },
        encoding: 'utf8',
      });
      if (r.stdout.trim().split('\n').filter(Boolean).length >= 3) break;
      spawnSync('sleep', ['0.5']);
    }
    kubectl('east', [
      ...args,
      '-L',
      'multicluster.kubernetes.io/source-cluster,endpointslice.kubernetes.io/managed-by',
    ]);
  },
);

await feature(
  'a bad policy refused at admission, with the position of the error',
  () => (pieces.webhooks() ? '' : 'fedmesh webhooks is not built yet'),
  async () => {
    const r = kubectl('east', ['apply', '-f', 'examples/demo/bad-policy.yaml'], { mayFail: true });
    if (r.status === 0) {
      console.error('demo: the bad policy was accepted; the webhooks should have refused it');
      process.exit(1);
    }
  },
);

await feature(
  'fedmesh policy explain',
  () => (pieces.policyExplain() ? '' : 'fedmesh policy explain is not built yet'),
  async () => {
    run(
      'policy explain -f examples/demo/web-from-west.yaml --cluster-name east --kubeconfig .testbed/east.kubeconfig',
      [
        'policy',
        'explain',
        '-f',
        'examples/demo/web-from-west.yaml',
        '--cluster-name',
        'east',
        '--kubeconfig',
        kubeconfig('east'),
      ],
    );
  },
);

await feature(
  'a packet across the VXLAN overlay, allowed and then denied by a remote-aware policy',
  () => {
    if (!pieces.dataplane()) return 'fedmesh agent is not built yet';
    if (!overlay) return 'network namespaces need root and unshare on this machine';
    return '';
  },
  async () => {
    // `testbed up --netns` lists the pods it made as network namespaces: "pod CLUSTER/NS/NAME IP: ip netns exec NETNS …".
    const pods = [...`${up.stdout}`.matchAll(/pod (\S+?)\/(\S+?)\/(\S+) (\S+): ip netns exec (\S+)/g)].map((m) => ({
      cluster: m[1],
      namespace: m[2],
      name: m[3],
      ip: m[4],
      netns: m[5],
    }));
    const from = pods.find((p) => p.cluster === 'west');
    const to = pods.find((p) => p.cluster === 'east');
    if (!from || !to) {
      console.error('demo: testbed up --netns listed no pods in west and east');
      process.exit(1);
    }
    const ping = (expect) =>
      step(
        `ip netns exec ${from.netns} ping -c 1 -W 2 ${to.ip}   # ${from.cluster}/${from.name} → ${to.cluster}/${to.name}: ${expect}`,
        'ip',
        ['netns', 'exec', from.netns, 'ping', '-c', '1', '-W', '2', to.ip],
        { mayFail: expect === 'denied' },
      );
    ping('allowed');
    const policy = {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: { name: 'only-from-north', namespace: to.namespace },
      spec: {
        podSelector: {},
        policyTypes: ['Ingress'],
        ingress: [
          {
            from: [
              { podSelector: { matchExpressions: [{ key: 'fedmesh.io/cluster', operator: 'In', values: ['north'] }] } },
            ],
          },
        ],
      },
    };
    console.log(
      `\n$ kubectl --kubeconfig .testbed/east.kubeconfig apply -f -   # ingress to ${to.namespace} only from cluster north`,
    );
    const applied = spawnSync(kubectlPath, ['apply', '-f', '-'], {
      input: JSON.stringify(policy),
      encoding: 'utf8',
      env: { ...process.env, ...kubectlEnv('east') },
    });
    process.stdout.write(`${applied.stdout}${applied.stderr}`);
    // The agents program nftables within moments; ping until the packet is dropped (bounded).
    const deadline = Date.now() + 20_000;
    let denied;
    do {
      denied =
        spawnSync('ip', ['netns', 'exec', from.netns, 'ping', '-c', '1', '-W', '1', to.ip], { stdio: 'ignore' })
          .status !== 0;
    } while (!denied && Date.now() < deadline);
    const r = ping('denied');
    if (r.status === 0) {
      console.error('demo: the packet still passes after the policy; see the agent logs in .testbed/logs/');
      process.exit(1);
    }
  },
);

console.log(`
# done in ${elapsed()}: ${shown.length} features shown${skipped.length ? `, ${skipped.length} skipped:\n#   ${skipped.join('\n#   ')}` : ''}

Keep exploring (the testbed keeps running):
  export KUBECONFIG=.testbed/east.kubeconfig
  kubectl get fedmesh -A                                 # RCCs and every remote object, one command
  kubectl get rwl -A -o wide -w                          # watch remote pods live (Ctrl-C to stop)
  kubectl get rwl -A -l fedmesh.io/cluster=west          # by cluster, like any label
  kubectl describe rcc west                              # conditions and what is wrong, if anything
  npx fedmesh selector check "tier = 'frontend'"            # a selector error, with a caret under it
  npx fedmesh testbed status                             # the processes and their logs
  npx fedmesh testbed down                               # stop everything
`);
