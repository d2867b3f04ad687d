import assert from 'node:assert/strict';
import { test } from 'node:test';
import { registrationManifests } from './registration.js';

test('AGG-01/02, SEC-06, RBAC-01…04: the APIService pins our CA and the server gets only delegation rights', () => {
  const ms = registrationManifests({
    namespace: 'fedmesh-system',
    serviceName: 'fedmesh-api',
    port: 8443,
    caBundlePem: 'PEM',
    serviceAccount: 'fedmesh',
  });
  const byKind = (k: string) => ms.filter((m) => m.kind === k);
  const api = byKind('APIService')[0] as unknown as { metadata: { name: string }; spec: Record<string, unknown> };
  assert.equal(api.metadata.name, 'v1alpha1.federation.fedmesh.io', 'the name is <version>.<group>');
  assert.equal(api.spec.caBundle, Buffer.from('PEM').toString('base64'));
  assert.equal(api.spec.insecureSkipTLSVerify, undefined);
  assert.deepEqual(api.spec.service, { namespace: 'fedmesh-system', name: 'fedmesh-api', port: 8443 });
  const roles = byKind('ClusterRoleBinding').concat(byKind('RoleBinding')) as unknown as {
    metadata: { namespace?: string };
    roleRef: { name: string };
  }[];
  assert.deepEqual(roles.map((r) => `${r.metadata.namespace ?? ''}/${r.roleRef.name}`).sort(), [
    '/system:auth-delegator',
    'kube-system/extension-apiserver-authentication-reader',
  ]);
  const reader = byKind('ClusterRole')[0] as unknown as {
    metadata: { labels: Record<string, string> };
    rules: { verbs: string[] }[];
  };
  assert.equal(reader.metadata.labels['rbac.authorization.k8s.io/aggregate-to-view'], 'true');
  assert.deepEqual(reader.rules[0]?.verbs, ['get', 'list', 'watch']);
  const svc = byKind('Service')[0] as unknown as { spec: { type: string } };
  assert.equal(svc.spec.type, 'ClusterIP');
  const testbed = registrationManifests({
    namespace: 'n',
    serviceName: 's',
    port: 1,
    caBundlePem: 'x',
    externalName: '127.0.0.1',
  });
  assert.deepEqual((testbed.find((m) => m.kind === 'Service') as unknown as { spec: unknown }).spec, {
    type: 'ExternalName',
    externalName: '127.0.0.1',
  });
  assert.equal(testbed.filter((m) => m.kind.endsWith('Binding')).length, 0);
});
