import { relative } from 'node:path';
import { formatFlagHelp, parseFlags } from '../../core/cli/parse-flags.js';
import { UsageError } from '../../core/cli/usage-error.js';
import type { NetnsLayout } from './netns.js';
import { readState, type TestbedState, testbedDir } from './state.js';
import { cacheDir } from './versions.js';

// Each subcommand imports what it needs when it runs: the relays and kubelet stand-ins are processes of their own
// (several per testbed), and loading the Kubernetes client, the chart installer and the dataplane for each of them
// cost about 1.5 s of CPU apiece on the shared cores.
const load = {
  build: () => import('./build.js'),
  deploy: () => import('./deploy.js'),
  kubeletSim: () => import('./kubelet-sim.js'),
  netnsDataplane: () => import('./netns-dataplane.js'),
  relay: () => import('./relay.js'),
  restClient: () => import('../../core/kube/rest-client.js'),
  scenario: () => import('./scenario.js'),
  seed: () => import('./seed.js'),
  status: () => import('./status.js'),
  up: () => import('./up.js'),
};

const subcommands = {
  build: 'build kube-apiserver, kube-controller-manager, kubectl, etcd and helm into the cache (once)',
  up: 'start clusters: etcd, and per cluster kube-apiserver + kube-controller-manager; write kubeconfigs',
  seed: 'create nodes, pods (with status), services, namespaces from a scenario file',
  deploy: 'run a fedmesh server per cluster on the host and join every pair of clusters',
  netns: 'after deploy: make nodes and their pods network namespaces, with a fedmesh agent in each node (root)',
  status: 'list the processes of the running testbed',
  down: 'stop every process of the testbed and remove its state',
} as const;

const flags = {
  build: {},
  up: {
    clusters: { type: 'list', value: 'NAMES', description: 'comma-separated cluster names (default east,west)' },
    'apiserver-arg': {
      type: 'list',
      value: 'FLAG',
      description: 'extra kube-apiserver flag (repeatable); {cluster} in it is the cluster name',
    },
    netns: {
      type: 'boolean',
      description:
        'also seed two nodes per cluster, deploy fedmesh, and make nodes and pods network namespaces with a fedmesh agent in each node (root; docs/dataplane.md)',
    },
  },
  seed: {
    cluster: { type: 'string', value: 'NAME', description: 'the testbed cluster to seed' },
    file: { type: 'string', short: 'f', value: 'FILE', description: 'scenario file (YAML or JSON; docs/testbed.md)' },
    concurrency: { type: 'string', value: 'N', description: 'requests in flight (default 48)' },
  },
  deploy: {},
  netns: {
    nodes: {
      type: 'list',
      value: 'CLUSTER/NODE',
      description: 'only these nodes and the pods on them (default: every node; an agent per node costs CPU)',
    },
  },
  status: { output: { type: 'string', short: 'o', value: 'FORMAT', description: 'table (default) or json' } },
  down: {},
  'kubelet-sim': { kubeconfig: { type: 'string', value: 'FILE', description: 'kubeconfig of the cluster' } },
  relay: {
    listen: { type: 'string', value: 'tcp:HOST:PORT|unix:PATH', description: 'where to accept connections' },
    connect: { type: 'string', value: 'tcp:HOST:PORT|unix:PATH', description: 'where to relay them' },
  },
} as const;

function usage(): string {
  const width = Math.max(...Object.keys(subcommands).map((s) => s.length)) + 2;
  return [
    'usage: fedmesh testbed SUBCOMMAND [flags]',
    '',
    ...Object.entries(subcommands).map(([n, d]) => `  ${n.padEnd(width)}${d}`),
    '',
    `State: ${relative(process.cwd(), testbedDir()) || '.'} (FEDMESH_TESTBED_DIR). Cache: ${cacheDir()} (FEDMESH_TESTBED_CACHE).`,
  ].join('\n');
}

function subUsage(sub: keyof typeof flags): string {
  const desc = sub in subcommands ? subcommands[sub as keyof typeof subcommands] : 'internal';
  return `usage: fedmesh testbed ${sub} [flags]\n\n${desc}\n\nflags:\n${formatFlagHelp(flags[sub]) || '  (none)'}`;
}

export async function testbedMain(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === undefined || sub === '--help' || sub === '-h' || sub === 'help') {
    console.log(usage());
    return sub === undefined ? 2 : 0;
  }
  if (!(sub in flags)) {
    throw new UsageError(`unknown subcommand "${sub}" (one of: ${Object.keys(subcommands).join(', ')})`, 'testbed');
  }
  const name = sub as keyof typeof flags;
  const command = `testbed ${name}`;
  const dir = testbedDir();
  try {
    switch (name) {
      case 'build': {
        const p = parseFlags(command, rest, flags.build);
        if (p.help) return help(name);
        const { buildControlPlane } = await load.build();
        const started = Date.now();
        const { manifest, built } = await buildControlPlane();
        const secs = ((Date.now() - started) / 1000).toFixed(1);
        console.log(
          `${built ? 'built' : 'already built'} in ${secs}s: ${cacheDir()}\n${Object.entries(manifest.binaries)
            .map(([b, i]) => `  ${b.padEnd(24)}${i.version}`)
            .join('\n')}`,
        );
        for (const f of manifest.fallbacks) console.log(`  note: fell back from ${f}`);
        return 0;
      }
      case 'up': {
        const p = parseFlags(command, rest, flags.up);
        if (p.help) return help(name);
        const [{ up }, { binaryPath }] = await Promise.all([load.up(), load.build()]);
        const started = Date.now();
        const state = await up({
          clusters: p.flags.clusters ?? ['east', 'west'],
          dir,
          apiserverArgs: p.flags['apiserver-arg'] ?? [],
        });
        if (p.flags.netns) {
          const [{ KubeRestClient }, { seed }, { deployFedmesh }, { defaultNetnsScenario, startNetnsDataplane }] =
            await Promise.all([load.restClient(), load.seed(), load.deploy(), load.netnsDataplane()]);
          for (const [i, c] of state.clusters.entries()) {
            const client = await KubeRestClient.fromKubeconfigFile(c.kubeconfig, 8);
            try {
              await seed(client, defaultNetnsScenario(i));
            } finally {
              client.close();
            }
          }
          await deployFedmesh(state, (m) => console.error(`[deploy] ${m}`));
          const dp = await startNetnsDataplane(state, (m) => console.error(`[netns] ${m}`));
          printNetnsLayout(dp.layout);
        }
        const secs = ((Date.now() - started) / 1000).toFixed(1);
        const rel = (f: string) => relative(process.cwd(), f);
        console.log(`testbed up in ${secs}s with ${state.clusters.length} clusters:`);
        for (const c of state.clusters)
          console.log(`  ${c.name.padEnd(12)}${c.server}   kubeconfig ${rel(c.kubeconfig)}`);
        const first = state.clusters[0];
        console.log(
          [
            '',
            'Use a cluster:',
            `  export KUBECONFIG=${first ? rel(first.kubeconfig) : ''}`,
            '  kubectl get namespaces',
            `kubectl of the servers' version: ${binaryPath('kubectl', state.cache)}`,
            'Create nodes and pods:  fedmesh testbed seed --cluster NAME --file scenario.yaml',
            'Processes:              fedmesh testbed status',
            'Stop everything:        fedmesh testbed down',
          ].join('\n'),
        );
        return 0;
      }
      case 'seed': {
        const p = parseFlags(command, rest, flags.seed);
        if (p.help) return help(name);
        const [{ KubeRestClient }, { loadScenarioFile, seed }, { TestbedError }] = await Promise.all([
          load.restClient(),
          load.seed(),
          load.up(),
        ]);
        if (!p.flags.cluster) throw new UsageError('--cluster is required', command);
        if (!p.flags.file) throw new UsageError('--file is required', command);
        const state = readState(dir);
        const cluster = state?.clusters.find((c) => c.name === p.flags.cluster);
        if (!state || !cluster) {
          const known = state?.clusters.map((c) => c.name).join(', ');
          throw new TestbedError(
            state
              ? `no cluster "${p.flags.cluster}" in this testbed (it has: ${known})`
              : `no testbed is running in ${dir}: start one with \`fedmesh testbed up\``,
          );
        }
        const concurrency = p.flags.concurrency === undefined ? 48 : Number(p.flags.concurrency);
        if (!Number.isInteger(concurrency) || concurrency < 1) {
          throw new UsageError(`--concurrency must be a positive integer, not "${p.flags.concurrency}"`, command);
        }
        const scenario = loadScenarioFile(p.flags.file);
        const client = await KubeRestClient.fromKubeconfigFile(cluster.kubeconfig, concurrency);
        try {
          const r = await seed(client, scenario, { concurrency, report: (m) => console.error(`[seed] ${m}`) });
          console.log(
            `seeded ${cluster.name} in ${r.seconds.toFixed(1)}s: ${r.namespaces} namespaces, ${r.serviceAccounts} service accounts, ` +
              `${r.nodes} nodes, ${r.services} services, ${r.pods} pods (${Math.round(r.podsPerSecond)} pods/s)`,
          );
        } finally {
          client.close();
        }
        return 0;
      }
      case 'deploy': {
        const p = parseFlags(command, rest, flags.deploy);
        if (p.help) return help(name);
        const { deployFedmesh } = await load.deploy();
        const state = await runningState(dir);
        const started = Date.now();
        await deployFedmesh(state, progress('deploy', started));
        return 0;
      }
      case 'netns': {
        const p = parseFlags(command, rest, flags.netns);
        if (p.help) return help(name);
        const { startNetnsDataplane } = await load.netnsDataplane();
        const state = await runningState(dir);
        const started = Date.now();
        const dp = await startNetnsDataplane(state, progress('netns', started), {
          ...(p.flags.nodes ? { nodes: p.flags.nodes } : {}),
        });
        printNetnsLayout(dp.layout);
        console.log(`network namespaces and agents ready in ${((Date.now() - started) / 1000).toFixed(1)}s`);
        return 0;
      }
      case 'status': {
        const p = parseFlags(command, rest, flags.status);
        if (p.help) return help(name);
        const { formatStatusTable, testbedStatus } = await load.status();
        const format = p.flags.output ?? 'table';
        if (format !== 'table' && format !== 'json') {
          throw new UsageError(`--output must be table or json, not "${format}"`, command);
        }
        const rows = testbedStatus(dir);
        if (format === 'json') console.log(JSON.stringify(rows, null, 2));
        else if (rows.length === 0) console.log(`no testbed in ${dir}`);
        else console.log(formatStatusTable(rows));
        return 0;
      }
      case 'down': {
        const p = parseFlags(command, rest, flags.down);
        if (p.help) return help(name);
        const { down } = await load.up();
        await down({ dir, report: (m) => console.log(m) });
        return 0;
      }
      case 'relay': {
        const p = parseFlags(command, rest, flags.relay);
        if (p.help) return help(name);
        const { parseRelayEnd, runRelay } = await load.relay();
        const listen = parseRelayEnd(p.flags.listen ?? '');
        const to = parseRelayEnd(p.flags.connect ?? '');
        if (!listen || !to) throw new UsageError('--listen and --connect must be tcp:HOST:PORT or unix:PATH', command);
        const ac = new AbortController();
        process.once('SIGTERM', () => ac.abort());
        process.once('SIGINT', () => ac.abort());
        await runRelay(listen, to, ac.signal);
        return 0;
      }
      case 'kubelet-sim': {
        const p = parseFlags(command, rest, flags['kubelet-sim']);
        if (p.help) return help(name);
        const { runKubeletSim } = await load.kubeletSim();
        if (!p.flags.kubeconfig) throw new UsageError('--kubeconfig is required', command);
        const ac = new AbortController();
        process.once('SIGTERM', () => ac.abort());
        process.once('SIGINT', () => ac.abort());
        await runKubeletSim(p.flags.kubeconfig, ac.signal);
        return 0;
      }
    }
  } catch (err) {
    // Loaded here too: an error of a module the subcommand never loaded cannot be one of these.
    const [{ BuildError }, { TestbedError }, { ScenarioError }] = await Promise.all([
      load.build(),
      load.up(),
      load.scenario(),
    ]);
    if (err instanceof BuildError || err instanceof TestbedError || err instanceof ScenarioError) {
      console.error(`fedmesh ${command}: ${err.message}`);
      return 1;
    }
    throw err;
  }
}

/** The state of the testbed running in `dir`, or an error that says how to start one. */
async function runningState(dir: string): Promise<TestbedState> {
  const state = readState(dir);
  if (state) return state;
  const { TestbedError } = await load.up();
  throw new TestbedError(`no testbed is running in ${dir}: start one with \`fedmesh testbed up\``);
}

/** A progress line on stderr with the seconds since the subcommand started: where its time goes. */
function progress(tag: string, started: number): (msg: string) => void {
  return (m) => console.error(`[${tag} ${((Date.now() - started) / 1000).toFixed(1)}s] ${m}`);
}

/** One line per pod and node namespace: what to prefix a command with to run it there. */
function printNetnsLayout(layout: NetnsLayout): void {
  for (const pod of layout.pods) {
    console.log(`  pod ${pod.cluster}/${pod.namespace}/${pod.name} ${pod.ip}: ip netns exec ${pod.netns} …`);
  }
  for (const n of layout.nodes)
    console.log(`  node ${n.cluster}/${n.name} ${n.underlayIP}: ip netns exec ${n.netns} …`);
}

function help(sub: keyof typeof flags): number {
  console.log(subUsage(sub));
  return 0;
}
