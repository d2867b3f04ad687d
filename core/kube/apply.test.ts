import assert from 'node:assert/strict';
import { test } from 'node:test';
import { objectPath } from './apply.js';

test('paths of core, grouped, namespaced and cluster-scoped objects', () => {
  assert.equal(
    objectPath({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'a', namespace: 'ns' } }),
    '/api/v1/namespaces/ns/secrets/a',
  );
  assert.equal(
    objectPath({ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name: 'r' } }),
    '/apis/rbac.authorization.k8s.io/v1/clusterroles/r',
  );
  assert.throws(() => objectPath({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' } }), /no REST path/);
});
