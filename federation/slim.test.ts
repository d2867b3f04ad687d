import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { V1Pod } from '@kubernetes/client-node';
import { remoteAccessClusterRole } from './remote-access.js';
import { hashLabels, sameLabels, sameMeshObject, slimNode, slimPod } from './slim.js';

const pod = (over: Partial<V1Pod['status']> = {}, spec: Partial<V1Pod['spec']> = {}): V1Pod => ({
  metadata: { name: 'p', namespace: 'ns', uid: 'u1', labels: { app: 'x' }, annotations: { big: 'y'.repeat(1000) } },
  spec: { containers: [{ name: 'c', ports: [{ name: 'http', containerPort: 80 }] }], nodeName: 'n1', ...spec },
  status: { phase: 'Running', podIP: '10.0.0.1', podIPs: [{ ip: '10.0.0.1' }], ...over },
});

test('a pod keeps only what the mesh reads, with a stable uid', () => {
  const ep = slimPod('west', pod());
  assert.ok(ep);
  assert.deepEqual(ep.ips, ['10.0.0.1']);
  assert.deepEqual(ep.ports, [{ name: 'http', port: 80, protocol: 'TCP' }]);
  assert.equal(JSON.stringify(ep).includes('yyyy'), false, 'annotations are dropped');
  assert.equal(ep.uid, slimPod('west', pod())?.uid);
  assert.notEqual(ep.uid, slimPod('north', pod())?.uid);
  assert.match(ep.uid, /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
});

test('pods without an IP, on the host network or finished are not endpoints', () => {
  assert.equal(slimPod('w', pod({ podIP: undefined, podIPs: [] })), undefined);
  assert.equal(slimPod('w', pod({}, { hostNetwork: true })), undefined);
  assert.equal(slimPod('w', pod({ phase: 'Succeeded' })), undefined);
});

test('equality ignores the revision and sees real changes', () => {
  const a = slimPod('w', pod());
  const b = slimPod('w', pod());
  assert.ok(a && b);
  b.revision = 7;
  assert.ok(sameMeshObject(a, b));
  assert.ok(!sameMeshObject(a, slimPod('w', pod({ podIPs: [{ ip: '10.0.0.2' }] })) ?? a));
});

test('nodes keep VTEP annotations only', () => {
  const n = slimNode('w', {
    metadata: { name: 'n', uid: 'x', annotations: { 'fedmesh.io/vtep-mac': 'aa', other: 'b' } },
    spec: { podCIDRs: ['10.0.0.0/24'] },
  });
  assert.deepEqual(n?.annotations, { 'fedmesh.io/vtep-mac': 'aa' });
  assert.deepEqual(n?.podCIDRs, ['10.0.0.0/24']);
});

test('the remote-access ClusterRole is read-only: list and watch, nothing else', () => {
  const rules = remoteAccessClusterRole().rules as { apiGroups: string[]; resources: string[]; verbs: string[] }[];
  assert.deepEqual(rules, [
    { apiGroups: [''], resources: ['namespaces', 'nodes', 'pods', 'services'], verbs: ['list', 'watch'] },
    { apiGroups: ['discovery.k8s.io'], resources: ['endpointslices'], verbs: ['list', 'watch'] },
  ]);
});

test('pods with equal labels and ports share one frozen copy; different ones do not', () => {
  const a = slimPod('west', pod());
  const b = slimPod('west', { ...pod(), metadata: { name: 'q', namespace: 'ns', uid: 'u2', labels: { app: 'x' } } });
  const c = slimPod('west', { ...pod(), metadata: { name: 'r', namespace: 'ns', uid: 'u3', labels: { app: 'y' } } });
  assert.ok(a && b && c);
  assert.equal(a.labels, b.labels);
  assert.equal(a.ports, b.ports);
  assert.notEqual(a.labels, c.labels);
  assert.deepEqual(c.labels, { app: 'y' });
  assert.ok(Object.isFrozen(a.labels) && Object.isFrozen(a.ports) && Object.isFrozen(a.ports[0]));
});

test('label maps are equal only with the same entries in the same order', () => {
  assert.equal(sameLabels({ a: '1', b: '2' }, { a: '1', b: '2' }), true);
  assert.equal(sameLabels({ a: '1', b: '2' }, { b: '2', a: '1' }), false);
  assert.equal(sameLabels({ a: '1' }, { a: '1', b: '2' }), false);
  assert.equal(sameLabels({ a: '1', b: '2' }, { a: '1' }), false);
  assert.equal(hashLabels({ a: '1', b: '2' }), hashLabels({ a: '1', b: '2' }));
});
