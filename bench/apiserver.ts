// bench/apiserver: the federation API against the floor of kube-apiserver itself, on the testbed.
//   node dist/bench/apiserver.js [--pods 10000] [--runs 5] [--changes 500]
// 10k remote pods in west. Listing them through east's aggregator (one `kubectl get remoteworkloads -A`, and the
// raw Table pages kubectl requests) is compared with listing the same pods on west's own kube-apiserver (one
// `kubectl get pods -A`, the same raw pages): one client per side, the same number of objects. Watch: a pod
// patch in west until the event arrives on a watch through east's aggregator, against a direct watch on west.
import { cpus, loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import type { KubeRestClient } from '../core/kube/rest-client.js';
import { deployFedmesh } from '../test/testbed/deploy.js';
import { eventually, startTestbed } from '../test/testbed/harness.js';
import { runCommand } from '../test/testbed/run-command.js';

const { values } = parseArgs({
  options: {
    pods: { type: 'string', default: '10000' },
    runs: { type: 'string', default: '5' },
    changes: { type: 'string', default: '500' },
  },
});
const total = Number(values.pods);
const runs = Number(values.runs);
const changes = Number(values.changes);
const q = (xs: number[], p: number) =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(p * xs.length))] ?? Number.NaN;
const tableAccept =
  'application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json';

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const t = performance.now();
  await fn();
  return performance.now() - t;
}

/** What kubectl does for `get -A`: Table pages of 500, following continue. Returns the rows seen. */
async function tableList(client: KubeRestClient, path: string): Promise<number> {
  let cont = '';
  let rows = 0;
  do {
    const res = await client.request<{ rows: unknown[]; metadata: { continue?: string } }>(
      'GET',
      `${path}?limit=500${cont ? `&continue=${encodeURIComponent(cont)}` : ''}`,
      { accept: tableAccept },
    );
    rows += res.body.rows.length;
    cont = res.body.metadata.continue ?? '';
  } while (cont);
  return rows;
}

const tb = await startTestbed({ name: 'bench-apiserver', clusters: ['east', 'west'] });
try {
  const r = await tb.cluster('west').seed({
    podCIDR: '10.2.0.0/16',
    nodes: [{ name: 'west-n', count: 50 }],
    pods: [{ namespace: 'bench', name: 'p', count: total, labels: { app: 'bench' } }],
  });
  console.error(`seeded west: ${r.pods} pods in ${r.seconds.toFixed(1)}s`);
  await deployFedmesh(tb.state, (m) => console.error(`[deploy] ${m}`));
  const east = tb.cluster('east');
  const west = tb.cluster('west');
  await eventually(
    async () => {
      const n = await tableList(east.client, '/apis/federation.fedmesh.io/v1alpha1/remoteworkloads');
      if (n !== total) throw new Error(`${n}/${total} remote workloads so far`);
    },
    300_000,
    1000,
  );

  const ours: number[] = [];
  const floor: number[] = [];
  const oursRaw: number[] = [];
  const floorRaw: number[] = [];
  for (let i = 0; i < runs; i++) {
    ours.push(
      await timed(async () => {
        const r = await east.kubectl(['get', 'remoteworkloads', '-A', '--no-headers']);
        if (r.code !== 0) throw new Error(r.stderr);
      }),
    );
    floor.push(
      await timed(async () => {
        await west.kubectlOk(['get', 'pods', '-A', '--no-headers']);
      }),
    );
    oursRaw.push(await timed(() => tableList(east.client, '/apis/federation.fedmesh.io/v1alpha1/remoteworkloads')));
    floorRaw.push(await timed(() => tableList(west.client, '/api/v1/pods')));
  }

  // Watch latency: one patch at a time; both watches see the same change.
  const sent = new Map<string, number>();
  const oursLat: number[] = [];
  const floorLat: number[] = [];
  const ac = new AbortController();
  const seen = (into: number[]) => (ev: { type: string; object: Record<string, unknown> }) => {
    const meta = ev.object.metadata as { name?: string; labels?: Record<string, string> } | undefined;
    const mark = meta?.labels?.['bench-change'];
    const t0 = mark ? sent.get(mark) : undefined;
    if (t0 !== undefined && ev.type === 'MODIFIED') into.push(performance.now() - t0);
  };
  const list = await east.client.get<{ metadata: { resourceVersion: string } }>(
    '/apis/federation.fedmesh.io/v1alpha1/namespaces/bench/remoteworkloads?limit=1',
  );
  const wlist = await west.client.get<{ metadata: { resourceVersion: string } }>(
    '/api/v1/namespaces/bench/pods?limit=1',
  );
  void east.client.watch(
    `/apis/federation.fedmesh.io/v1alpha1/namespaces/bench/remoteworkloads?watch=1&resourceVersion=${list.metadata.resourceVersion}`,
    seen(oursLat),
    ac.signal,
  );
  void west.client.watch(
    `/api/v1/namespaces/bench/pods?watch=1&resourceVersion=${wlist.metadata.resourceVersion}`,
    seen(floorLat),
    ac.signal,
  );
  await new Promise((r) => setTimeout(r, 1000));
  const deadline = Date.now() + 120_000;
  for (let i = 0; i < changes && Date.now() < deadline; i++) {
    const mark = `c${i}`;
    sent.set(mark, performance.now());
    await west.client.mergePatch(`/api/v1/namespaces/bench/pods/p-${i % total}`, {
      metadata: { labels: { 'bench-change': mark } },
    });
    await new Promise((r) => setTimeout(r, 20));
  }
  await new Promise((r) => setTimeout(r, 2000));
  ac.abort();

  const med = (xs: number[]) => q(xs, 0.5);
  console.log(
    `machine: ${cpus()[0]?.model ?? '?'}, ${cpus().length} cores, Node ${process.version}, load average ${loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')}`,
  );
  console.log(`${total} remote pods in west, ${runs} runs, medians:`);
  console.log(
    `kubectl get remoteworkloads -A (east, through the aggregator): ${med(ours).toFixed(0)} ms; ` +
      `floor kubectl get pods -A on west: ${med(floor).toFixed(0)} ms; ratio ${(med(ours) / med(floor)).toFixed(2)} (target ≤ 1.0)`,
  );
  console.log(
    `raw Table list, pages of 500 (east aggregator): ${med(oursRaw).toFixed(0)} ms; ` +
      `floor on west: ${med(floorRaw).toFixed(0)} ms; ratio ${(med(oursRaw) / med(floorRaw)).toFixed(2)}`,
  );
  console.log(
    `watch, pod patch in west → event (${oursLat.length}/${floorLat.length} events): through east p50 ${q(oursLat, 0.5).toFixed(1)} ms p99 ${q(oursLat, 0.99).toFixed(1)} ms; ` +
      `direct on west p50 ${q(floorLat, 0.5).toFixed(1)} ms p99 ${q(floorLat, 0.99).toFixed(1)} ms; added p99 ${(q(oursLat, 0.99) - q(floorLat, 0.99)).toFixed(1)} ms (target ≤ 10 ms)`,
  );
  const rss = await runCommand('sh', [
    '-c',
    `ps -o rss= -p ${tb.state.processes.find((p) => p.cluster === 'east' && p.component === 'fedmesh-server')?.pid}`,
  ]);
  console.log(`east fedmesh server RSS with ${total} remote pods: ${Math.round(Number(rss.stdout.trim()) / 1024)} MiB`);
} finally {
  await tb.down();
}
