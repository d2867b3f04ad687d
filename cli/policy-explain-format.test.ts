import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compileFederatedNetworkPolicy } from '../core/policy/compile-fnp.js';
import { type ExplainEndpoint, explainPolicy } from '../core/policy/explain.js';
import { formatExplanation } from './policy-explain-format.js';

test('policy explain text: the policy, each rule with what it takes in, and the deciding rule per endpoint', () => {
  const r = compileFederatedNetworkPolicy(
    {
      metadata: { name: 'db-access', namespace: 'shop' },
      spec: {
        selector: "app == 'db'",
        order: 10,
        ingress: [
          { action: 'Deny', source: { selector: "role == 'batch' && fedmesh.io/cluster == 'west'" } },
          {
            action: 'Allow',
            protocol: 'TCP',
            source: { selector: "app == 'web'" },
            destination: { ports: [5432, '6000:6010'] },
          },
        ],
      },
    },
    { localCluster: 'east' },
  );
  const endpoints: ExplainEndpoint[] = [
    { cluster: 'east', namespace: 'shop', name: 'db-0', labels: { app: 'db' }, ips: [] },
    { cluster: 'east', namespace: 'shop', name: 'web-0', labels: { app: 'web' }, ips: [] },
    { cluster: 'west', namespace: 'shop', name: 'batch-0', labels: { role: 'batch' }, ips: [] },
  ];
  const x = explainPolicy(r.policy!, endpoints, {
    localCluster: 'east',
    remoteNamespaceLabels: false,
    namespaceLabels: () => undefined,
  });
  assert.equal(
    formatExplanation(x),
    [
      'FederatedNetworkPolicy shop/db-access (order 10)',
      'applies to 1 local endpoint(s) matching app == "db":',
      '  east/shop/db-0',
      '',
      'Ingress:',
      '  [0] Deny any traffic from:   (spec.ingress[0])',
      '      endpoints matching (role == "batch" && fedmesh.io/cluster == "west") in namespace shop, in clusters west   (spec.ingress[0].source)',
      '        west/shop/batch-0',
      '  [1] Allow TCP port 5432, 6000-6010 from:   (spec.ingress[1])',
      '      endpoints matching app == "web" in namespace shop, in the local cluster only (east)   (spec.ingress[1].source)',
      '        east/shop/web-0',
      '  deciding rule per endpoint (the first that takes it in):',
      '    east/shop/web-0    [1] Allow',
      '    west/shop/batch-0  [0] Deny',
      '  any other source: no rule here; the next policy in order decides, and it is denied if none allows it',
    ].join('\n'),
  );
});
