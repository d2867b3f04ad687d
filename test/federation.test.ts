// The mesh cache against real clusters: east runs the federation core in this process (the same code as
// `fedmesh server`), west and north are remote. Outages are real: west's kube-apiserver is killed and restarted.
import assert from 'node:assert/strict';
import { createWriteStream } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { KubeConfig } from '@kubernetes/client-node';
import { Registry } from 'prom-client';
import { applyManifest, type Manifest } from '../core/kube/apply.js';
import { createLogger } from '../core/log/logger.js';
import type { Federation, MeshEvent, WorkloadEndpoint } from '../federation/index.js';
import { startFederation } from '../federation/index.js';
import { rccPath } from '../federation/rcc-spec.js';
import type { RccStatus } from '../federation/rcc-status.js';
import { accessKubeconfig, localJoinManifests, remoteAccessClusterRole } from '../federation/remote-access.js';
import { grantRemoteAccess } from '../federation/remote-access-grant.js';
import { installCrds } from './testbed/deploy.js';
import { eventually, startTestbed, type Testbed, type TestCluster } from './testbed/harness.js';
import { killApiserver, restartApiserver } from './testbed/restart.js';

let tb: Testbed;
let fed: Federation;
let east: TestCluster;
let west: TestCluster;
let north: TestCluster;
const registry = new Registry();
const events: MeshEvent[] = [];

const rcc = async (name: string) =>
  (await east.client.get<{ status?: RccStatus }>(`${rccPath}/${name}`)).status ?? ({} as Partial<RccStatus>);
const condition = (s: Partial<RccStatus>, type: 'Ready' | 'Synced') => s.conditions?.find((c) => c.type === type);
const westPods = (namespace = 'shop') => fed.cache.list('WorkloadEndpoint', { cluster: 'west', namespace });
const objectEventsOf = (cluster: string, from: number) =>
  events.slice(from).filter((e) => e.type !== 'cluster' && e.object.cluster === cluster);

async function waitForState(cluster: string, state: string, timeoutMs: number): Promise<Partial<RccStatus>> {
  return eventually(
    async () => {
      const s = await rcc(cluster);
      assert.equal(s.state, state, `${cluster}: ${s.state} ${s.message}`);
      return s;
    },
    timeoutMs,
    100,
  );
}

async function connectionStatusMetric(cluster: string): Promise<number | undefined> {
  const m = new RegExp(`^fedmesh_remote_cluster_connection_status\\{cluster="${cluster}"\\} (\\d+)$`, 'm').exec(
    await registry.metrics(),
  );
  return m ? Number(m[1]) : undefined;
}

/** Joins `remote` to east with its own read-only access; `rules` narrows the remote ClusterRole. */
async function joinToEast(remote: TestCluster, rules?: unknown[]): Promise<void> {
  const access = await grantRemoteAccess(remote.client);
  if (rules) await applyManifest(remote.client, { ...remoteAccessClusterRole(), rules });
  const kubeconfig = accessKubeconfig({ clusterName: remote.name, server: remote.server, ...access });
  for (const m of localJoinManifests({ clusterName: remote.name, kubeconfig })) await applyManifest(east.client, m);
}

before(async () => {
  tb = await startTestbed({ name: 'federation', clusters: ['east', 'west', 'north'] });
  east = tb.cluster('east');
  west = tb.cluster('west');
  north = tb.cluster('north');
  await installCrds(east.client);
  await west.seed({
    namespaces: [{ name: 'shop', labels: { team: 'shop' } }],
    nodes: [{ name: 'w-node', count: 2, labels: { zone: 'a' } }],
    pods: [{ namespace: 'shop', name: 'web', count: 3, labels: { app: 'web' } }],
  });
  await east.seed({
    nodes: [{ name: 'e-node', count: 1 }],
    pods: [{ namespace: 'default', name: 'local', count: 1, labels: { app: 'local' } }],
  });
  await joinToEast(west);
  // north's access lacks pods: its status must say so.
  const noPods = (remoteAccessClusterRole().rules as { apiGroups: string[]; resources: string[]; verbs: string[] }[])
    .map((r) => ({ ...r, resources: r.resources.filter((x) => x !== 'pods') }))
    .filter((r) => r.resources.length > 0);
  await joinToEast(north, noPods);

  const kc = new KubeConfig();
  kc.loadFromFile(east.kubeconfig);
  const log = createLogger('federation-e2e', 'info', createWriteStream(join(tb.dir, 'federation-e2e.log')));
  fed = await startFederation({ localKubeConfig: kc, clusterName: 'east', log, registry });
  const sub = fed.cache.subscribe((ev) => events.push(ev), { kinds: ['WorkloadEndpoint'] });
  assert.ok(sub.snapshot);
  await fed.ready;
});

after(async () => {
  await fed?.stop();
  await tb?.down();
});

describe('mesh cache', () => {
  test('remote pods and nodes arrive with their labels, the cluster label and inherited namespace labels', async () => {
    await eventually(async () => assert.equal(westPods().length, 3));
    const pod = fed.cache.get('WorkloadEndpoint', 'west', 'shop', 'web-0');
    assert.ok(pod);
    assert.equal(pod.labels.app, 'web');
    assert.match(pod.ips[0] ?? '', /^10\.244\./);
    const labels = fed.cache.selectorLabels(pod);
    assert.equal(labels.get('fedmesh.io/cluster'), 'west');
    assert.equal(labels.get('pcns.team'), 'shop', 'namespace labels are inherited as pcns.*');
    assert.equal(labels.get('projectcalico.org/namespace'), 'shop');
    const nodes = fed.cache.list('HostEndpoint', { cluster: 'west' });
    assert.deepEqual(nodes.map((n) => n.name).sort(), ['w-node-0', 'w-node-1']);
    assert.equal(nodes[0]?.labels.zone, 'a');
    assert.equal(nodes[0]?.podCIDRs.length, 1);
    const local = fed.cache.get('WorkloadEndpoint', 'east', 'default', 'local-0');
    assert.ok(local, 'local endpoints are in the cache too');
    assert.equal(fed.cache.selectorLabels(local).get('fedmesh.io/cluster'), 'east');
    assert.equal(fed.cache.clusterStatus('east')?.local, true);
    const s = await waitForState('west', 'InSync', 30_000);
    assert.equal(condition(s, 'Ready')?.status, 'True');
    assert.equal(condition(s, 'Synced')?.status, 'True');
    await eventually(async () => assert.equal((await rcc('west')).counts?.workloads, 3));
    assert.equal((await rcc('west')).counts?.nodes, 2);
    assert.equal(await connectionStatusMetric('west'), 2);
  });

  test('a snapshot plus the events after it always equals the cache', async () => {
    const sub = fed.cache.subscribe(() => {}, { kinds: ['WorkloadEndpoint'] });
    sub.unsubscribe();
    const snap = sub.snapshot;
    assert.ok(snap);
    const state = new Map(snap.objects.map((o) => [o.uid, o]));
    const replay = fed.cache.subscribe(
      (ev) => {
        if (ev.type === 'cluster') return;
        if (ev.type === 'deleted') state.delete(ev.object.uid);
        else state.set(ev.object.uid, ev.object);
      },
      { kinds: ['WorkloadEndpoint'], fromRevision: snap.revision },
    );
    await west.client.mergePatch('/api/v1/namespaces/shop/pods/web-2', { metadata: { labels: { extra: 'yes' } } });
    await eventually(async () =>
      assert.equal(fed.cache.get('WorkloadEndpoint', 'west', 'shop', 'web-2')?.labels.extra, 'yes'),
    );
    replay.unsubscribe();
    const now = new Map(fed.cache.list('WorkloadEndpoint').map((o) => [o.uid, o]));
    assert.deepEqual([...state.keys()].sort(), [...now.keys()].sort());
    for (const [uid, o] of now) assert.equal(state.get(uid)?.revision, o.revision);
    assert.throws(() => fed.cache.subscribe(() => {}, { fromRevision: fed.cache.revision + 5 }), /too old/);
  });

  test('a pod created, relabelled, re-IPed and deleted in west shows up in east, in order', async () => {
    const from = events.length;
    await west.seed({
      pods: [{ namespace: 'shop', name: 'extra', node: 'w-node-0', ip: '10.244.0.200', labels: { app: 'extra' } }],
    });
    await eventually(async () => assert.ok(fed.cache.get('WorkloadEndpoint', 'west', 'shop', 'extra')));
    await eventually(async () => assert.equal((await rcc('west')).counts?.workloads, 4));
    await west.client.mergePatch('/api/v1/namespaces/shop/pods/extra', { metadata: { labels: { tier: 'gold' } } });
    await eventually(async () =>
      assert.equal(fed.cache.get('WorkloadEndpoint', 'west', 'shop', 'extra')?.labels.tier, 'gold'),
    );
    await west.client.mergePatch('/api/v1/namespaces/shop/pods/extra/status', {
      status: { podIP: '10.244.0.201', podIPs: [{ ip: '10.244.0.201' }] },
    });
    await eventually(async () => assert.equal(fed.cache.endpointsByIp('10.244.0.201')[0]?.name, 'extra'));
    assert.equal(fed.cache.endpointsByIp('10.244.0.200').length, 0, 'the old IP is no longer indexed');
    await west.client.delete('/api/v1/namespaces/shop/pods/extra');
    await eventually(async () => assert.equal(fed.cache.get('WorkloadEndpoint', 'west', 'shop', 'extra'), undefined));
    await eventually(async () => assert.equal((await rcc('west')).counts?.workloads, 3));

    const seen = objectEventsOf('west', from)
      .filter((e) => e.type !== 'cluster' && e.object.name === 'extra')
      .map((e) => {
        const o = (e as { object: WorkloadEndpoint }).object;
        return `${e.type} ${o.labels.tier ?? '-'} ${o.ips.join(',')}`;
      });
    assert.deepEqual(seen, [
      'added - 10.244.0.200',
      'modified gold 10.244.0.200',
      'modified gold 10.244.0.201',
      'deleted gold 10.244.0.201',
    ]);
    const revisions = events.slice(from).map((e) => e.revision);
    assert.deepEqual(
      revisions,
      [...revisions].sort((a, b) => a - b),
      'revisions increase',
    );
  });
});

describe('outages', () => {
  test('west down (Retain): ConnectionFailed within 10 s, objects stay stale, and come back without churn', async () => {
    const from = events.length;
    const t0 = Date.now();
    await killApiserver(tb.state, 'west');
    const failed = await waitForState('west', 'ConnectionFailed', 10_000);
    assert.ok(Date.now() - t0 < 10_000, `ConnectionFailed after ${Date.now() - t0} ms`);
    assert.equal(condition(failed, 'Ready')?.reason, 'Unreachable');
    assert.match(condition(failed, 'Ready')?.message ?? '', /cannot reach/);
    assert.equal(await connectionStatusMetric('west'), 0);
    assert.equal(westPods().length, 3, 'Retain keeps the objects');
    assert.ok(fed.cache.clusterStatus('west')?.staleSince, 'they are marked stale');
    await eventually(async () => assert.equal(condition(await rcc('west'), 'Synced')?.reason, 'Stale'));

    await restartApiserver(tb.state, 'west');
    const back = await waitForState('west', 'InSync', 60_000);
    assert.equal(condition(back, 'Synced')?.status, 'True');
    assert.equal(fed.cache.clusterStatus('west')?.staleSince, null);
    assert.equal(westPods().length, 3);
    assert.deepEqual(
      objectEventsOf('west', from).map((e) => e.type),
      [],
      'no delete, re-add or modify for pods that did not change',
    );
  });

  test('west down (Withdraw, ttl 3s): objects go after the ttl, and return with west', async () => {
    await east.client.mergePatch(`${rccPath}/west`, { spec: { staleEndpoints: { mode: 'Withdraw', ttl: '3s' } } });
    await new Promise((r) => setTimeout(r, 500));
    const from = events.length;
    await killApiserver(tb.state, 'west');
    await waitForState('west', 'ConnectionFailed', 10_000);
    assert.equal(westPods().length, 3, 'still there before the ttl');
    await eventually(async () => assert.equal(westPods().length, 0), 15_000);
    assert.equal(objectEventsOf('west', from).filter((e) => e.type === 'deleted').length, 3);
    await eventually(async () => {
      const s = await rcc('west');
      assert.equal(condition(s, 'Synced')?.reason, 'Withdrawn');
      assert.equal(s.counts?.workloads, 0);
    });
    await restartApiserver(tb.state, 'west');
    await waitForState('west', 'InSync', 60_000);
    assert.equal(westPods().length, 3);
    await east.client.mergePatch(`${rccPath}/west`, { spec: { staleEndpoints: { mode: 'Retain', ttl: null } } });
  });

  test('a wrong token in the Secret: Unauthorized within 10 s; fixed: InSync again, same process', async () => {
    const path = '/api/v1/namespaces/fedmesh-system/secrets/remote-cluster-west';
    const secret = await east.client.get<{ data: { kubeconfig: string } }>(path);
    const good = secret.data.kubeconfig;
    const bad = Buffer.from(
      Buffer.from(good, 'base64')
        .toString()
        .replace(/token: .*/, 'token: not-a-valid-token'),
    ).toString('base64');
    const from = events.length;
    const t0 = Date.now();
    await east.client.mergePatch(path, { data: { kubeconfig: bad } });
    const failed = await waitForState('west', 'ConnectionFailed', 10_000);
    assert.ok(Date.now() - t0 < 10_000);
    assert.equal(condition(failed, 'Ready')?.reason, 'Unauthorized');
    assert.match(failed.message ?? '', /401 Unauthorized/);
    assert.doesNotMatch(JSON.stringify(failed), /not-a-valid-token/, 'the status never quotes the credentials');
    assert.equal(westPods().length, 3, 'objects are kept (Retain) while the credentials are wrong');
    await east.client.mergePatch(path, { data: { kubeconfig: good } });
    await waitForState('west', 'InSync', 30_000);
    assert.deepEqual(
      objectEventsOf('west', from).map((e) => e.type),
      [],
      'no churn after the fix',
    );
  });

  test('a remote whose RBAC lacks list pods: the status names the permission; granting it recovers', async () => {
    const s = await waitForState('north', 'ConnectionFailed', 30_000);
    assert.equal(condition(s, 'Ready')?.reason, 'Forbidden');
    assert.match(s.message ?? '', /missing permission: list pods/);
    assert.ok(fed.cache.counts('north').Namespace > 0, 'what is permitted is still mirrored');
    await applyManifest(north.client, remoteAccessClusterRole() as Manifest);
    await waitForState('north', 'InSync', 40_000);
  });

  test('a status written by another writer (a former leader, late) is put right', async () => {
    await waitForState('west', 'InSync', 30_000);
    const truth = await rcc('west');
    await east.client.mergePatch(`${rccPath}/west/status`, {
      status: { state: 'ConnectionFailed', message: 'written by a replica that no longer leads' },
    });
    await eventually(async () => {
      const s = await rcc('west');
      assert.equal(s.state, 'InSync');
      assert.equal(s.message, truth.message);
    }, 10_000);
  });

  test('deleting an RCC removes all of its cluster’s objects', async () => {
    assert.ok(fed.cache.counts('north').Namespace > 0);
    await east.client.delete(`${rccPath}/north`);
    await eventually(async () => {
      const c = fed.cache.counts('north');
      assert.equal(c.Namespace + c.Service + c.HostEndpoint + c.WorkloadEndpoint + c.EndpointSlice, 0);
      assert.equal(fed.cache.clusterStatus('north'), undefined);
    });
    assert.equal(await connectionStatusMetric('north'), undefined);
  });
});
