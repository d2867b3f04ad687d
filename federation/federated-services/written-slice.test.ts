import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { KubeObject } from '../../core/kube/resilient-informer.js';
import { writtenSliceOf } from './written-slice.js';

/** As decoded from the API: anything. */
const raw = (o: unknown) => o as KubeObject;

test('only slices with our managed-by label are ours; whatever else a slice holds, reading it never throws', () => {
  const labels = {
    'endpointslice.kubernetes.io/managed-by': 'federation.fedmesh.io',
    'kubernetes.io/service-name': 'api',
  };
  assert.equal(
    writtenSliceOf(
      raw({
        metadata: {
          name: 'x',
          namespace: 'shop',
          labels: { ...labels, 'endpointslice.kubernetes.io/managed-by': 'other' },
        },
      }),
    ),
    undefined,
  );
  const hostile = writtenSliceOf(
    raw({
      metadata: {
        name: 'x',
        namespace: 'shop',
        labels: { ...labels, bad: 7 },
        ownerReferences: [null, 'x', { kind: 'Service', controller: true, uid: 'u' }],
      },
      addressType: 5,
      endpoints: [
        null,
        { addresses: 'not a list' },
        { addresses: ['10.0.0.1', 3], conditions: { ready: 'yes' }, targetRef: { kind: 'Node', name: 'n' } },
      ],
      ports: [{ name: 1, port: '80', protocol: 'ICMP' }, 'x'],
    }),
  );
  assert.deepEqual(hostile, {
    name: 'x',
    namespace: 'shop',
    resourceVersion: '',
    labels,
    ownerUid: 'u',
    addressType: '',
    endpoints: [{ addresses: ['10.0.0.1'], conditions: { ready: true, serving: true, terminating: false } }],
    ports: [{ name: '', port: 0, protocol: 'TCP' }],
  });
});

test('the owner is the controller owner, whatever its kind (a ServiceImport owns the slices of an import)', () => {
  const slice = writtenSliceOf(
    raw({
      metadata: {
        name: 'x',
        namespace: 'shop',
        labels: { 'endpointslice.kubernetes.io/managed-by': 'mcs.federation.fedmesh.io' },
        ownerReferences: [
          { kind: 'Service', name: 'other', uid: 'not-the-controller' },
          { kind: 'ServiceImport', name: 'api', uid: 'import-uid', controller: true },
        ],
      },
    }),
    'mcs.federation.fedmesh.io',
  );
  assert.equal(slice?.ownerUid, 'import-uid');
});
