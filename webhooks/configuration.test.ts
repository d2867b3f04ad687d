import assert from 'node:assert/strict';
import { test } from 'node:test';
import { webhooksAccessManifests } from './access.js';
import { webhookConfigurationManifest } from './configuration.js';

interface Hook {
  name: string;
  clientConfig: {
    url?: string;
    service?: { namespace: string; name: string; port: number; path: string };
    caBundle: string;
  };
  rules: { apiGroups: string[]; resources: string[]; operations: string[]; scope: string }[];
  namespaceSelector: { matchExpressions: { key: string; operator: string; values: string[] }[] };
  matchConditions?: { expression: string }[];
  sideEffects: string;
  failurePolicy: string;
  timeoutSeconds: number;
  admissionReviewVersions: string[];
}

test('the webhook configuration: one webhook per kind, kube-system excluded, no side effects, small timeout', () => {
  const m = webhookConfigurationManifest({
    endpoint: { service: { namespace: 'fedmesh-system', name: 'fedmesh-webhooks' } },
    caBundlePem: 'PEM',
    excludedNamespaces: ['fedmesh-system'],
  });
  const hooks = m.webhooks as Hook[];
  assert.equal(m.metadata.name, 'fedmesh');
  assert.deepEqual(
    hooks.map((h) => `${h.name} ${h.rules[0]!.apiGroups[0]}/${h.rules[0]!.resources[0]} ${h.rules[0]!.scope}`),
    [
      'networkpolicies.webhooks.fedmesh.io networking.k8s.io/networkpolicies Namespaced',
      'federatednetworkpolicies.webhooks.fedmesh.io fedmesh.io/federatednetworkpolicies Namespaced',
      'remoteclusterconfigurations.webhooks.fedmesh.io fedmesh.io/remoteclusterconfigurations Cluster',
      'services.webhooks.fedmesh.io /services Namespaced',
    ],
  );
  for (const h of hooks) {
    assert.deepEqual(h.rules[0]!.operations, ['CREATE', 'UPDATE']);
    assert.deepEqual(h.namespaceSelector.matchExpressions, [
      { key: 'kubernetes.io/metadata.name', operator: 'NotIn', values: ['fedmesh-system', 'kube-system'] },
    ]);
    assert.equal(h.sideEffects, 'None');
    assert.equal(h.failurePolicy, 'Fail');
    assert.ok(h.timeoutSeconds >= 1 && h.timeoutSeconds <= 5);
    assert.deepEqual(h.admissionReviewVersions, ['v1']);
    assert.equal(Buffer.from(h.clientConfig.caBundle, 'base64').toString(), 'PEM');
    assert.equal(h.clientConfig.service?.path, `/validate/${h.rules[0]!.resources[0]}`);
    assert.equal(h.clientConfig.service?.port, 443);
  }
  // Only federated Services are sent.
  assert.match(hooks[3]!.matchConditions?.[0]?.expression ?? '', /federation\.fedmesh\.io\/serviceSelector/);
  assert.equal(hooks[0]!.matchConditions, undefined);
});

test('failurePolicy is a setting; a URL endpoint for host processes', () => {
  const m = webhookConfigurationManifest({
    endpoint: { url: 'https://127.0.0.1:9443/' },
    caBundlePem: 'PEM',
    failurePolicy: 'Ignore',
    timeoutSeconds: 2,
  });
  const hooks = m.webhooks as Hook[];
  assert.equal(hooks[0]!.clientConfig.url, 'https://127.0.0.1:9443/validate/networkpolicies');
  assert.ok(hooks.every((h) => h.failurePolicy === 'Ignore' && h.timeoutSeconds === 2));
});

test('webhooks RBAC: read RCCs, get Secrets in its namespace, patch only its own webhook configuration', () => {
  const ms = webhooksAccessManifests('fedmesh-system', { webhookConfiguration: 'fedmesh' });
  const role = ms.find((m) => m.kind === 'ClusterRole') as unknown as {
    rules: { resources: string[]; verbs: string[]; resourceNames?: string[] }[];
  };
  assert.deepEqual(role.rules, [
    { apiGroups: ['fedmesh.io'], resources: ['remoteclusterconfigurations'], verbs: ['get', 'list', 'watch'] },
    {
      apiGroups: ['admissionregistration.k8s.io'],
      resources: ['validatingwebhookconfigurations'],
      resourceNames: ['fedmesh'],
      verbs: ['get', 'patch'],
    },
  ]);
  const nsRole = ms.find((m) => m.kind === 'Role') as unknown as { metadata: { namespace: string }; rules: unknown[] };
  assert.equal(nsRole.metadata.namespace, 'fedmesh-system');
  assert.deepEqual(nsRole.rules, [{ apiGroups: [''], resources: ['secrets'], verbs: ['get'] }]);
  assert.equal(ms.filter((m) => m.kind === 'Secret').length, 0, 'no token Secret unless asked');
});
