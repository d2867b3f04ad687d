import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MeshCache, RevisionTooOldError } from './mesh-cache.js';
import type { MeshEvent, WorkloadEndpoint } from './mesh-types.js';

function pod(name: string, over: Partial<WorkloadEndpoint> = {}): WorkloadEndpoint {
  return {
    kind: 'WorkloadEndpoint',
    cluster: 'west',
    namespace: 'shop',
    name,
    uid: `uid-${name}`,
    labels: { app: 'web' },
    ips: [`10.0.0.${name.length}`],
    nodeName: 'n1',
    ready: true,
    serviceAccount: 'default',
    ports: [],
    created: 0,
    revision: 0,
    ...over,
  };
}

const kinds = (evs: MeshEvent[]) =>
  evs.map((e) => (e.type === 'cluster' ? `cluster ${e.status.state}` : `${e.type} ${e.object.name}`));

test('a relist emits only real differences; equal objects keep their revision', () => {
  const cache = new MeshCache();
  cache.replaceAll(
    'west',
    'WorkloadEndpoint',
    new Map([
      ['shop/a', pod('a')],
      ['shop/bb', pod('bb')],
    ]),
  );
  const revA = cache.get('WorkloadEndpoint', 'west', 'shop', 'a')?.revision;
  const events: MeshEvent[] = [];
  cache.subscribe((e) => events.push(e));
  cache.replaceAll(
    'west',
    'WorkloadEndpoint',
    new Map([
      ['shop/a', pod('a')],
      ['shop/ccc', pod('ccc')],
    ]),
  );
  assert.deepEqual(kinds(events), ['deleted bb', 'added ccc']);
  assert.equal(cache.get('WorkloadEndpoint', 'west', 'shop', 'a')?.revision, revA);
});

test('an upsert equal to what is held emits nothing; a changed one is modified; a new uid is delete + add', () => {
  const cache = new MeshCache();
  const events: MeshEvent[] = [];
  cache.subscribe((e) => events.push(e));
  cache.upsert('west', 'WorkloadEndpoint', 'shop/a', pod('a'));
  cache.upsert('west', 'WorkloadEndpoint', 'shop/a', pod('a'));
  cache.upsert('west', 'WorkloadEndpoint', 'shop/a', pod('a', { labels: { app: 'db' } }));
  cache.upsert('west', 'WorkloadEndpoint', 'shop/a', pod('a', { uid: 'other', labels: { app: 'db' } }));
  cache.remove('west', 'WorkloadEndpoint', 'shop/a');
  cache.remove('west', 'WorkloadEndpoint', 'shop/a');
  assert.deepEqual(kinds(events), ['added a', 'modified a', 'deleted a', 'added a', 'deleted a']);
  assert.deepEqual(
    events.map((e) => e.revision),
    [1, 2, 3, 4, 5],
  );
});

test('indexes follow changes: by namespace, by IP, federated services, slices by service', () => {
  const cache = new MeshCache();
  cache.upsert('west', 'WorkloadEndpoint', 'shop/a', pod('a', { ips: ['10.1.1.1'] }));
  cache.upsert('north', 'WorkloadEndpoint', 'shop/a', pod('a', { cluster: 'north', ips: ['10.1.1.1'] }));
  assert.equal(cache.endpointsByIp('10.1.1.1').length, 2);
  cache.upsert('west', 'WorkloadEndpoint', 'shop/a', pod('a', { ips: ['10.1.1.2'] }));
  assert.deepEqual(
    cache.endpointsByIp('10.1.1.1').map((e) => e.cluster),
    ['north'],
  );
  assert.equal(cache.list('WorkloadEndpoint', { namespace: 'shop' }).length, 2);
  assert.equal(cache.list('WorkloadEndpoint', { namespace: 'shop', cluster: 'west' }).length, 1);
  cache.upsert('west', 'Service', 'shop/fed', {
    kind: 'Service',
    cluster: 'west',
    namespace: 'shop',
    name: 'fed',
    uid: 's1',
    labels: {},
    type: 'ClusterIP',
    selector: null,
    ports: [],
    annotations: { 'federation.tigera.io/serviceSelector': "app == 'web'" },
    created: 0,
    revision: 0,
  });
  assert.equal(cache.serviceSelectorOf(cache.federatedServices()[0]!), "app == 'web'");
  cache.upsert('west', 'EndpointSlice', 'shop/fed-x', {
    kind: 'EndpointSlice',
    cluster: 'west',
    namespace: 'shop',
    name: 'fed-x',
    uid: 'e1',
    labels: {},
    serviceName: 'fed',
    addressType: 'IPv4',
    endpoints: [],
    ports: [],
    created: 0,
    revision: 0,
  });
  assert.equal(cache.slicesOfService('west', 'shop', 'fed').length, 1);
  cache.removeObjects('west');
  assert.equal(cache.slicesOfService('west', 'shop', 'fed').length, 0);
  assert.equal(cache.federatedServices().length, 0);
  assert.equal(cache.endpointsByIp('10.1.1.2').length, 0);
  assert.equal(cache.counts('west').WorkloadEndpoint, 0);
});

test('subscribe resumes from a held revision, and refuses one the history dropped', () => {
  const cache = new MeshCache({ historySize: 3 });
  for (const n of ['a', 'bb', 'ccc', 'dddd', 'eeeee']) cache.upsert('west', 'WorkloadEndpoint', `shop/${n}`, pod(n));
  const got: MeshEvent[] = [];
  cache.subscribe((e) => got.push(e), { fromRevision: 3 });
  assert.deepEqual(kinds(got), ['added dddd', 'added eeeee']);
  assert.throws(() => cache.subscribe(() => {}, { fromRevision: 1 }), RevisionTooOldError);
  assert.equal(cache.oldestRevision, 2);
  const s = cache.subscribe(() => {});
  assert.equal(s.snapshot?.objects.length, 5);
  assert.equal(s.snapshot?.revision, 5);
});

test('selector labels: the virtual cluster label wins, namespace labels come in as pcns.*', () => {
  const cache = new MeshCache();
  cache.upsert('west', 'Namespace', 'shop', {
    kind: 'Namespace',
    cluster: 'west',
    namespace: '',
    name: 'shop',
    uid: 'n',
    labels: { team: 'blue' },
    created: 0,
    revision: 0,
  });
  const ep = pod('a', { labels: { app: 'web', 'fedmesh.io/cluster': 'spoofed', 'pcsa.x': 'y' } });
  const l = cache.selectorLabels(ep);
  assert.equal(l.get('fedmesh.io/cluster'), 'west');
  assert.equal(l.get('pcns.team'), 'blue');
  assert.equal(l.get('pcns.projectcalico.org/name'), 'shop');
  assert.equal(l.get('projectcalico.org/serviceaccount'), 'default');
  assert.equal(l.get('pcsa.x'), undefined);
  assert.equal(l.get('app'), 'web');
  assert.equal(l.get('constructor'), undefined);
});

test('cluster status events only on change; forgetting a cluster removes its objects', () => {
  const cache = new MeshCache();
  const events: MeshEvent[] = [];
  cache.subscribe((e) => events.push(e), { kinds: [] });
  const status = {
    cluster: 'west',
    local: false,
    state: 'InSync' as const,
    reason: 'InSync',
    message: '',
    staleSince: null,
    withdrawn: false,
    lastSyncTime: null,
  };
  cache.setClusterStatus(status);
  cache.setClusterStatus({ ...status });
  cache.upsert('west', 'WorkloadEndpoint', 'shop/a', pod('a'));
  assert.deepEqual(kinds(events), ['cluster InSync']);
  cache.forgetCluster('west');
  assert.equal(cache.clusterStatus('west'), undefined);
  assert.equal(cache.list('WorkloadEndpoint').length, 0);
});
