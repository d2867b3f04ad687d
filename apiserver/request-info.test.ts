import assert from 'node:assert/strict';
import { test } from 'node:test';
import { requestInfo } from './request-info.js';

const u = (p: string) => new URL(p, 'https://x');

test('AUTHZ-02: verbs, namespaces and names from method and path', () => {
  assert.deepEqual(
    requestInfo('GET', u('/apis/federation.fedmesh.io/v1alpha1/namespaces/shop/remoteworkloads/west.a')),
    {
      kind: 'resource',
      verb: 'get',
      resource: 'remoteworkloads',
      namespace: 'shop',
      name: 'west.a',
      allNamespaces: false,
    },
  );
  const all = requestInfo('GET', u('/apis/federation.fedmesh.io/v1alpha1/remoteworkloads?limit=500'));
  assert.equal(all.kind === 'resource' && all.verb === 'list' && all.allNamespaces, true);
  const w = requestInfo(
    'GET',
    u('/apis/federation.fedmesh.io/v1alpha1/remotenodes?watch=1&fieldSelector=metadata.name%3Dwest.n1'),
  );
  assert.equal(w.kind === 'resource' && w.verb === 'watch' && w.name === 'west.n1' && !w.allNamespaces, true);
  const notWatch = requestInfo('GET', u('/apis/federation.fedmesh.io/v1alpha1/remotenodes?watch=false'));
  assert.equal(notWatch.kind === 'resource' && notWatch.verb, 'list');
  const del = requestInfo('DELETE', u('/apis/federation.fedmesh.io/v1alpha1/namespaces/a/federatedendpoints'));
  assert.equal(del.kind === 'resource' && del.verb, 'deletecollection');
  assert.equal(
    requestInfo('POST', u('/apis/federation.fedmesh.io/v1alpha1/namespaces/a/remoteworkloads')).verb,
    'create',
  );
});

test('non-resource paths and unknown resources', () => {
  assert.deepEqual(requestInfo('GET', u('/apis/federation.fedmesh.io/v1alpha1')), {
    kind: 'non-resource',
    verb: 'get',
    path: '/apis/federation.fedmesh.io/v1alpha1',
  });
  assert.equal(requestInfo('GET', u('/openapi/v3')).kind, 'non-resource');
  assert.equal(requestInfo('GET', u('/apis/federation.fedmesh.io/v1alpha1/pods')).kind, 'unknown-resource');
  assert.equal(
    requestInfo('GET', u('/apis/federation.fedmesh.io/v1alpha1/namespaces/a/remotenodes')).kind,
    'unknown-resource',
  );
  assert.equal(
    requestInfo('GET', u('/apis/federation.fedmesh.io/v1alpha1/namespaces/a/remoteworkloads/x/status')).kind,
    'unknown-resource',
  );
});
