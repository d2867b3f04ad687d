import assert from 'node:assert/strict';
import { test } from 'node:test';
import { accessManifests } from './access-manifests.js';

const base = {
  namespace: 'ns',
  serviceAccount: 'sa',
  roleName: 'fedmesh:x',
  labels: { a: 'b' },
  clusterRules: [{ apiGroups: [''], resources: ['pods'], verbs: ['get'] }],
};

test('accessManifests: a Role and RoleBinding only with namespace rules, a token Secret only when named', () => {
  assert.deepEqual(
    accessManifests(base).map((m) => m.kind),
    ['Namespace', 'ServiceAccount', 'ClusterRole', 'ClusterRoleBinding'],
  );
  const full = accessManifests({ ...base, namespaceRules: [], tokenSecret: 'sa-token' });
  assert.deepEqual(
    full.map((m) => m.kind),
    ['Namespace', 'ServiceAccount', 'ClusterRole', 'ClusterRoleBinding', 'Role', 'RoleBinding', 'Secret'],
  );
  const secret = full[6];
  assert.equal(secret?.metadata.name, 'sa-token');
  assert.deepEqual(secret?.metadata.annotations, { 'kubernetes.io/service-account.name': 'sa' });
});

test('accessManifests: the bindings name the role and the ServiceAccount in its namespace', () => {
  const ms = accessManifests({
    ...base,
    namespaceRules: [{ apiGroups: [''], resources: ['secrets'], verbs: ['get'] }],
  });
  for (const kind of ['ClusterRoleBinding', 'RoleBinding']) {
    const b = ms.find((m) => m.kind === kind);
    assert.deepEqual(b?.roleRef, {
      apiGroup: 'rbac.authorization.k8s.io',
      kind: kind.replace('Binding', ''),
      name: 'fedmesh:x',
    });
    assert.deepEqual(b?.subjects, [{ kind: 'ServiceAccount', name: 'sa', namespace: 'ns' }]);
  }
  assert.deepEqual(ms.find((m) => m.kind === 'Role')?.metadata, {
    name: 'fedmesh:x',
    namespace: 'ns',
    labels: { a: 'b' },
  });
  assert.deepEqual(ms.find((m) => m.kind === 'ClusterRole')?.rules, base.clusterRules);
});
