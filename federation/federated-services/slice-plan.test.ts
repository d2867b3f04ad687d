import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { FederatedEndpointAddress } from './endpoints.js';
import {
  planSlices,
  type SliceBody,
  type SlicePlan,
  type SliceTarget,
  serviceOwner,
  type WrittenSlice,
} from './slice-plan.js';

const target: SliceTarget = {
  localCluster: 'east',
  namespace: 'shop',
  service: 'api',
  owner: serviceOwner('api', 'uid-1'),
};
const http = [{ name: 'http', port: 8080, protocol: 'TCP' as const }];
const ep = (cluster: string, ip: string, extra: Partial<FederatedEndpointAddress> = {}): FederatedEndpointAddress => ({
  cluster,
  service: 'api',
  addressType: 'IPv4',
  ip,
  nodeName: `${cluster}-node`,
  podName: `pod-${ip}`,
  zone: '',
  ready: true,
  serving: true,
  terminating: false,
  ports: http,
  ...extra,
});

let rv = 0;
/** What the API server holds after a plan is carried out. */
function applyPlan(held: readonly WrittenSlice[], plan: SlicePlan): WrittenSlice[] {
  const out = new Map(held.map((s) => [s.name, s]));
  for (const d of plan.delete) out.delete(d.name);
  const stored = (b: SliceBody): WrittenSlice => ({
    name: b.metadata.name,
    namespace: b.metadata.namespace,
    resourceVersion: String(++rv),
    labels: b.metadata.labels,
    ownerUid: b.metadata.ownerReferences[0]?.uid ?? '',
    addressType: b.addressType,
    endpoints: b.endpoints,
    ports: b.ports,
  });
  for (const b of [...plan.create, ...plan.update]) out.set(b.metadata.name, stored(b));
  return [...out.values()];
}
const ips = (n: number, prefix: string) => Array.from({ length: n }, (_, i) => `${prefix}.${i}`);

test('one slice family per source cluster and port set, at most the limit each, with the labels and owner', () => {
  const eps = [...ips(5, '10.1.0').map((ip) => ep('west', ip)), ...ips(2, '10.2.0').map((ip) => ep('east', ip))];
  const plan = planSlices(target, eps, [], 3);
  assert.equal(plan.update.length + plan.delete.length, 0);
  const west = plan.create.filter((s) => s.metadata.labels['multicluster.kubernetes.io/source-cluster'] === 'west');
  assert.deepEqual(
    west.map((s) => s.endpoints.length),
    [3, 2],
  );
  const s = plan.create[0];
  assert.ok(s);
  assert.equal(s.metadata.labels['kubernetes.io/service-name'], 'api');
  assert.equal(s.metadata.labels['endpointslice.kubernetes.io/managed-by'], 'federation.fedmesh.io');
  assert.equal(s.metadata.labels['multicluster.kubernetes.io/service-name'], 'api');
  assert.deepEqual(s.metadata.ownerReferences, [
    { apiVersion: 'v1', kind: 'Service', name: 'api', uid: 'uid-1', controller: true },
  ]);
  assert.equal(new Set(plan.create.map((x) => x.metadata.name)).size, plan.create.length, 'names are unique');
});

test('a remote endpoint has its zone but names no node nor pod of this cluster; a local one keeps both', () => {
  const plan = planSlices(target, [ep('west', '10.1.0.1', { zone: 'west-a' }), ep('east', '10.2.0.1')], []);
  const byCluster = (c: string) =>
    plan.create.find((s) => s.metadata.labels['fedmesh.io/cluster'] === c)?.endpoints[0] ?? assert.fail(c);
  assert.equal(byCluster('west').nodeName, undefined);
  assert.equal(byCluster('west').zone, 'west-a');
  assert.equal(byCluster('east').zone, undefined, 'no zone where none is known');
  // targetRef names a pod of the slice's own namespace in this cluster: anything resolving it (Prometheus, a
  // service mesh) would give the remote IP the metadata of a local pod that happens to have that name.
  assert.equal(byCluster('west').targetRef, undefined);
  assert.deepEqual(byCluster('east').targetRef, { kind: 'Pod', namespace: 'shop', name: 'pod-10.2.0.1' });
  assert.equal(byCluster('east').nodeName, 'east-node');
});

test('a remote endpoint written with a targetRef (by an earlier version) loses it in one update', () => {
  const held = applyPlan([], planSlices(target, [ep('west', '10.1.0.1')], []));
  const old = held.map((s) => ({
    ...s,
    endpoints: s.endpoints.map((e) => ({ ...e, targetRef: { kind: 'Pod' as const, namespace: 'shop', name: 'p' } })),
  }));
  const plan = planSlices(target, [ep('west', '10.1.0.1')], old);
  assert.equal(plan.update.length, 1);
  assert.equal(plan.update[0]?.endpoints[0]?.targetRef, undefined);
  assert.equal(planSlices(target, [ep('west', '10.1.0.1')], applyPlan(old, plan)).update.length, 0);
});

test('planning again after the writes, or after a restart, plans nothing', () => {
  const eps = ips(250, '10.1.0').map((ip) => ep('west', ip));
  const held = applyPlan([], planSlices(target, eps, []));
  assert.equal(held.length, 3);
  const again = planSlices(target, [...eps].reverse(), held);
  assert.deepEqual(again, { create: [], update: [], delete: [] });
});

test('a readiness change updates the one slice that holds the endpoint; no endpoint moves', () => {
  const eps = ips(150, '10.1.0').map((ip) => ep('west', ip));
  const held = applyPlan([], planSlices(target, eps, []));
  const changed = eps.map((e) => (e.ip === '10.1.0.42' ? { ...e, ready: false } : e));
  const plan = planSlices(target, changed, held);
  assert.equal(plan.create.length + plan.delete.length, 0);
  assert.equal(plan.update.length, 1);
  const before = held.find((s) => s.name === plan.update[0]?.metadata.name);
  assert.deepEqual(
    plan.update[0]?.endpoints.map((e) => e.addresses[0]),
    before?.endpoints.map((e) => e.addresses[0]),
  );
  assert.equal(plan.update[0]?.metadata.resourceVersion, before?.resourceVersion, 'optimistic concurrency');
});

test('endpoints that go leave the others in place; new ones fill the room first; an emptied slice is deleted', () => {
  const eps = ips(6, '10.1.0').map((ip) => ep('west', ip));
  const held = applyPlan([], planSlices(target, eps, [], 3));
  const [first, second] = [...held].sort((a, b) => a.name.localeCompare(b.name));
  assert.ok(first && second);
  const gone = new Set(second.endpoints.map((e) => e.addresses[0]));
  const remaining = eps.filter((e) => !gone.has(e.ip));
  const emptied = planSlices(target, remaining, held, 3);
  assert.deepEqual(emptied, {
    create: [],
    update: [],
    delete: [{ name: second.name, resourceVersion: second.resourceVersion }],
  });
  // A new endpoint takes the room the others left (one update), instead of a new slice and a deletion.
  const refilled = planSlices(target, [...remaining, ep('west', '10.1.9.9')], held, 3);
  assert.equal(refilled.create.length + refilled.delete.length, 0);
  assert.deepEqual(
    refilled.update.map((u) => [u.metadata.name, u.endpoints.map((e) => e.addresses[0]).join()]),
    [[second.name, '10.1.9.9']],
  );
  const grown = planSlices(target, [...eps, ep('west', '10.1.9.9')], held, 3);
  assert.equal(grown.update.length + grown.delete.length, 0, 'full slices are not touched');
  assert.equal(grown.create.length, 1);
});

test('slices owned by an earlier Service of the same name, or of a family no longer wanted, are deleted', () => {
  const held = applyPlan([], planSlices(target, [ep('west', '10.1.0.1')], []));
  const recreated = planSlices({ ...target, owner: serviceOwner('api', 'uid-2') }, [ep('west', '10.1.0.1')], held);
  assert.equal(recreated.delete.length, 1);
  assert.equal(recreated.create.length, 1);
  assert.notEqual(recreated.create[0]?.metadata.name, held[0]?.name, 'a new name: the old slice may still exist');
  const otherPort = planSlices(target, [ep('west', '10.1.0.1', { ports: [{ ...http[0]!, port: 9090 }] })], held);
  assert.equal(otherPort.delete.length, 1);
  assert.equal(otherPort.create.length, 1);
});

test('labels others added to a slice are kept on update', () => {
  const held = applyPlan([], planSlices(target, [ep('west', '10.1.0.1')], [])).map((s) => ({
    ...s,
    labels: { ...s.labels, team: 'shop' },
  }));
  const plan = planSlices(target, [ep('west', '10.1.0.1', { ready: false })], held);
  assert.equal(plan.update[0]?.metadata.labels.team, 'shop');
});
