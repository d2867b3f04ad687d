// bench/testbed: how fast the testbed comes up and seeds, and what it costs.
//   node dist/bench/testbed.js [--pods 10000] [--runs 3]
// Figures: warm `up` of 3 clusters, RSS per cluster, seed rate of N pods (create + status) against the
// floor of the same kube-apiserver creating N bare ConfigMaps with the same client and concurrency.
import { cpus } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { KubeRestClient } from '../core/kube/rest-client.js';
import { repoRoot } from '../test/testbed/harness.js';
import { rssBytes } from '../test/testbed/processes.js';
import { seed } from '../test/testbed/seed.js';
import { down, up } from '../test/testbed/up.js';

const { values } = parseArgs({
  options: { pods: { type: 'string', default: '10000' }, runs: { type: 'string', default: '3' } },
});
const pods = Number(values.pods);
const runs = Number(values.runs);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;

async function floorCreates(client: KubeRestClient, n: number, width: number): Promise<number> {
  await client.create('/api/v1/namespaces', { metadata: { name: 'floor' } }).catch(() => {});
  let next = 0;
  const t = performance.now();
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < n) {
        const i = next++;
        await client.create('/api/v1/namespaces/floor/configmaps', { metadata: { name: `cm-${i}` } });
      }
    }),
  );
  return (performance.now() - t) / 1000;
}

const upTimes: number[] = [];
const rss: number[] = [];
const seedRates: number[] = [];
const floorRates: number[] = [];
for (let r = 0; r < runs; r++) {
  const dir = join(repoRoot, '.testbed', 'e2e', `bench-${process.pid}`);
  const t0 = performance.now();
  const state = await up({ clusters: ['east', 'west', 'north'], dir, report: () => {} });
  upTimes.push((performance.now() - t0) / 1000);
  try {
    for (const c of state.clusters) {
      const bytes = state.processes.filter((p) => p.cluster === c.name).reduce((a, p) => a + rssBytes(p.pid), 0);
      rss.push(bytes / 1048576);
    }
    const east = state.clusters[0];
    if (!east) throw new Error('no cluster');
    const client = await KubeRestClient.fromKubeconfigFile(east.kubeconfig, 48);
    const res = await seed(client, {
      nodes: [{ name: 'n', count: 50 }],
      pods: [{ namespace: 'bench', name: 'p', count: pods }],
    });
    seedRates.push(res.podsPerSecond);
    floorRates.push(pods / (await floorCreates(client, pods, 48)));
    client.close();
  } finally {
    await down({ dir, report: () => {} });
  }
  console.error(
    `run ${r + 1}/${runs}: up ${upTimes.at(-1)?.toFixed(1)}s, seed ${seedRates.at(-1)?.toFixed(0)} pods/s, floor ${floorRates.at(-1)?.toFixed(0)} creates/s`,
  );
}
console.log(`machine: ${cpus()[0]?.model ?? '?'}, ${cpus().length} cores, Node ${process.version}`);
console.log(`warm up, 3 clusters: median ${median(upTimes).toFixed(1)} s over ${runs} runs`);
console.log(
  `RSS per cluster (kube-apiserver + kube-controller-manager + kubelet-sim, idle, shared etcd excluded): median ${median(rss).toFixed(0)} MiB`,
);
console.log(
  `seed ${pods} pods: median ${median(seedRates).toFixed(0)} pods/s (${(pods / median(seedRates)).toFixed(1)} s); ` +
    `floor (bare ConfigMap creates): ${median(floorRates).toFixed(0)}/s; ratio seed/floor ${(median(seedRates) / median(floorRates)).toFixed(2)} ` +
    '(a seeded pod costs two writes: create and status)',
);
