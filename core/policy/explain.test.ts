import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compileFederatedNetworkPolicy } from './compile-fnp.js';
import { compileNetworkPolicy } from './compile-network-policy.js';
import { type ExplainEndpoint, type ExplainMesh, explainPolicy } from './explain.js';

const ep = (
  cluster: string,
  namespace: string,
  name: string,
  labels: Record<string, string>,
  ip = '',
): ExplainEndpoint => ({
  cluster,
  namespace,
  name,
  labels,
  ips: ip === '' ? [] : [ip],
});

const endpoints = [
  ep('east', 'shop', 'db-0', { app: 'db' }, '10.1.0.5'),
  ep('east', 'shop', 'web-0', { app: 'web' }, '10.1.0.6'),
  ep('east', 'ops', 'web-0', { app: 'web' }),
  ep('west', 'shop', 'web-0', { app: 'web' }, '10.2.0.6'),
  ep('west', 'shop', 'batch-0', { role: 'batch' }),
  ep('north', 'shop', 'batch-0', { role: 'batch', 'fedmesh.io/cluster': 'west' }),
];
const mesh: ExplainMesh = {
  localCluster: 'east',
  remoteNamespaceLabels: false,
  namespaceLabels: (cluster, ns) => (cluster === 'east' ? { team: ns } : undefined),
};

test('explain: what each rule takes in, across clusters, and the rule that decides per endpoint', () => {
  const r = compileFederatedNetworkPolicy(
    {
      metadata: { name: 'db-access', namespace: 'shop' },
      spec: {
        selector: "app == 'db'",
        order: 10,
        ingress: [
          { action: 'Deny', source: { selector: "role == 'batch' && fedmesh.io/cluster == 'west'" } },
          { action: 'Allow', source: { selector: "app == 'web'" } },
          {
            action: 'Allow',
            protocol: 'TCP',
            source: { selector: 'has(fedmesh.io/cluster)' },
            destination: { ports: [5432] },
          },
        ],
        egress: [{ action: 'Allow', destination: { nets: ['10.2.0.0/16'] } }],
      },
    },
    { localCluster: 'east' },
  );
  const x = explainPolicy(r.policy!, endpoints, mesh);
  assert.deepEqual(x.appliesTo, { selector: 'app == "db"', endpoints: ['east/shop/db-0'] });
  const [ingress, egress] = x.directions;
  assert.deepEqual(
    ingress!.rules.map((rule) => rule.peers!.flatMap((p) => p.selects)),
    [
      ['west/shop/batch-0'], // north's batch pod says it is in west: the virtual label wins
      ['east/shop/web-0'], // unscoped: local only, same namespace
      ['east/shop/db-0', 'east/shop/web-0', 'north/shop/batch-0', 'west/shop/batch-0', 'west/shop/web-0'],
    ],
  );
  assert.deepEqual(
    ingress!.decisions.map((d) => `${d.endpoint} [${d.rule}] ${d.action}`),
    [
      'east/shop/db-0 [2] Allow',
      'east/shop/web-0 [1] Allow',
      'north/shop/batch-0 [2] Allow',
      'west/shop/batch-0 [0] Deny',
      'west/shop/web-0 [2] Allow',
    ],
  );
  assert.deepEqual(egress!.rules[0]!.peers![0]!.selects, ['west/shop/web-0']);
});

test('explain: a namespaceSelector reaching remote clusters says that remote namespace labels are unknown', () => {
  const r = compileNetworkPolicy(
    {
      metadata: { name: 'np', namespace: 'shop' },
      spec: {
        ingress: [
          {
            from: [
              {
                namespaceSelector: { matchLabels: { team: 'ops' } },
                podSelector: { matchExpressions: [{ key: 'fedmesh.io/cluster', operator: 'Exists' }] },
              },
            ],
          },
        ],
      },
    },
    { localCluster: 'east' },
  );
  const x = explainPolicy(r.policy!, endpoints, mesh);
  const peer = x.directions[0]!.rules[0]!.peers![0]!;
  assert.deepEqual(peer.selects, ['east/ops/web-0']);
  assert.match(peer.note ?? '', /namespace labels of remote clusters are not served/);
  assert.equal(x.order, 1000);
});
