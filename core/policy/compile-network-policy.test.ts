import assert from 'node:assert/strict';
import { test } from 'node:test';
import { canonicalSelector } from '../selector/canonical.js';
import { compileNetworkPolicy, type NetworkPolicyObject } from './compile-network-policy.js';
import type { EndpointPeer, NormalizedPolicy } from './model.js';

const local = { localCluster: 'east' };

function np(spec: NetworkPolicyObject['spec']): NetworkPolicyObject {
  return { metadata: { name: 'p', namespace: 'shop' }, spec };
}

function compiled(spec: NetworkPolicyObject['spec']): NormalizedPolicy {
  const r = compileNetworkPolicy(np(spec), local);
  assert.deepEqual(r.errors, []);
  assert.ok(r.policy);
  return r.policy;
}

function endpointPeer(p: NormalizedPolicy, rule = 0, peer = 0, dir: 'ingress' | 'egress' = 'ingress'): EndpointPeer {
  const x = p[dir][rule]!.peers![peer]!;
  assert.equal(x.kind, 'endpoints');
  return x;
}

test('a plain NetworkPolicy keeps its meaning: order 1000, Allow rules, unscoped peers local only, same namespace', () => {
  const p = compiled({
    podSelector: { matchLabels: { app: 'db' } },
    ingress: [{ from: [{ podSelector: { matchLabels: { app: 'web' } } }], ports: [{ port: 5432 }] }],
  });
  assert.equal(p.kind, 'NetworkPolicy');
  assert.equal(p.order, 1000);
  assert.equal(p.appliesToText, 'app == "db"');
  assert.deepEqual(p.types, ['Ingress']);
  const rule = p.ingress[0]!;
  assert.equal(rule.action, 'Allow');
  assert.equal(rule.protocol, 'TCP');
  assert.deepEqual(rule.ports, [{ kind: 'range', from: 5432, to: 5432 }]);
  assert.equal(rule.path, 'spec.ingress[0]');
  const peer = endpointPeer(p);
  assert.deepEqual(peer.clusters, { kind: 'local' });
  assert.deepEqual(peer.namespaces, { kind: 'same', name: 'shop' });
  assert.equal(peer.text, 'app == "web"');
  assert.equal(peer.path, 'spec.ingress[0].from[0]');
});

test('policy types default to Ingress, plus Egress with egress rules; declared types are kept', () => {
  assert.deepEqual(compiled({ egress: [{}] }).types, ['Ingress', 'Egress']);
  assert.deepEqual(compiled({ policyTypes: ['Egress'] }).types, ['Egress']);
  assert.deepEqual(compiled({ policyTypes: ['Egress', 'Ingress'] }).types, ['Ingress', 'Egress']);
});

test('a rule without peers takes in everything; a rule without ports every protocol', () => {
  const p = compiled({ ingress: [{}], egress: [{ to: [] }] });
  assert.equal(p.ingress[0]!.peers, null);
  assert.equal(p.ingress[0]!.protocol, null);
  assert.equal(p.egress[0]!.peers, null);
});

test('ports of several protocols become one rule per protocol; a port-less entry opens its protocol', () => {
  const p = compiled({
    ingress: [
      {
        ports: [
          { protocol: 'UDP', port: 53 },
          { protocol: 'TCP', port: 53 },
          { protocol: 'TCP', port: 8000, endPort: 8080 },
          { protocol: 'TCP', port: 'metrics' },
          { protocol: 'SCTP' },
          { protocol: 'SCTP', port: 9 },
        ],
      },
    ],
  });
  assert.deepEqual(
    p.ingress.map((r) => [r.protocol, r.ports, r.path]),
    [
      ['UDP', [{ kind: 'range', from: 53, to: 53 }], 'spec.ingress[0]'],
      [
        'TCP',
        [
          { kind: 'range', from: 53, to: 53 },
          { kind: 'range', from: 8000, to: 8080 },
          { kind: 'named', name: 'metrics' },
        ],
        'spec.ingress[0]',
      ],
      ['SCTP', [], 'spec.ingress[0]'],
    ],
  );
});

test('a peer with fedmesh.io/cluster terms selects in those clusters; namespaceSelector over namespace labels', () => {
  const p = compiled({
    ingress: [
      {
        from: [
          {
            podSelector: {
              matchLabels: { app: 'web' },
              matchExpressions: [{ key: 'fedmesh.io/cluster', operator: 'In', values: ['west', 'north'] }],
            },
          },
          { namespaceSelector: { matchLabels: { team: 'a', 'fedmesh.io/cluster': 'west' } } },
          { podSelector: { matchExpressions: [{ key: 'fedmesh.io/cluster', operator: 'Exists' }] } },
          { namespaceSelector: {} },
        ],
      },
    ],
  });
  const [named, byNamespace, anyCluster, allNamespaces] = [0, 1, 2, 3].map((i) => endpointPeer(p, 0, i));
  assert.deepEqual(named!.clusters, { kind: 'named', names: ['north', 'west'] });
  assert.deepEqual(named!.namespaces, { kind: 'same', name: 'shop' });
  assert.deepEqual(byNamespace!.clusters, { kind: 'named', names: ['west'] });
  assert.equal(byNamespace!.text, 'all()');
  assert.equal(byNamespace!.namespaces.kind, 'selector');
  assert.equal(
    byNamespace!.namespaces.kind === 'selector' && byNamespace!.namespaces.text,
    '(fedmesh.io/cluster == "west" && team == "a")',
  );
  assert.deepEqual(anyCluster!.clusters, { kind: 'any' });
  assert.deepEqual(allNamespaces!.clusters, { kind: 'local' });
  assert.equal(
    allNamespaces!.namespaces.kind === 'selector' && canonicalSelector(allNamespaces!.namespaces.selector),
    'all()',
  );
});

test('ipBlock becomes a nets peer in canonical form with its excepts', () => {
  const p = compiled({
    egress: [
      { to: [{ ipBlock: { cidr: '10.0.0.0/8', except: ['10.1.0.0/16'] } }, { ipBlock: { cidr: 'FD00::/64' } }] },
    ],
  });
  assert.deepEqual(p.egress[0]!.peers, [
    { kind: 'nets', nets: [{ cidr: '10.0.0.0/8', except: ['10.1.0.0/16'] }], path: 'spec.egress[0].to[0].ipBlock' },
    { kind: 'nets', nets: [{ cidr: 'fd00::/64', except: [] }], path: 'spec.egress[0].to[1].ipBlock' },
  ]);
});

test('podSelector naming another cluster is an error at its path; naming this cluster is fine', () => {
  const r = compileNetworkPolicy(
    np({ podSelector: { matchExpressions: [{ key: 'fedmesh.io/cluster', operator: 'In', values: ['west'] }] } }),
    local,
  );
  assert.equal(r.errors.length, 1);
  assert.equal(r.errors[0]!.path, 'spec.podSelector');
  assert.match(r.errors[0]!.message, /names the cluster "west".*local endpoints only \(this cluster is "east"\)/);
  // The meaning stays clear (it selects no local endpoint), so a consumer that cannot refuse still gets the policy.
  assert.ok(r.policy);
  const ok = compileNetworkPolicy(np({ podSelector: { matchLabels: { 'fedmesh.io/cluster': 'east' } } }), local);
  assert.deepEqual(ok.errors, []);
});

test('cluster names that are not DNS labels are errors at the exact expression', () => {
  const r = compileNetworkPolicy(
    np({
      ingress: [
        {
          from: [
            {
              podSelector: {
                matchExpressions: [
                  { key: 'app', operator: 'Exists' },
                  { key: 'fedmesh.io/cluster', operator: 'In', values: ['West_1'] },
                ],
              },
            },
          ],
        },
      ],
    }),
    local,
  );
  assert.equal(r.errors.length, 1);
  assert.equal(r.errors[0]!.path, 'spec.ingress[0].from[0].podSelector.matchExpressions[1]');
  assert.match(r.errors[0]!.message, /"West_1", which is not a valid cluster name/);
});

test('NotIn and DoesNotExist on fedmesh.io/cluster are explained in warnings', () => {
  const r = compileNetworkPolicy(
    np({
      ingress: [
        {
          from: [
            { podSelector: { matchExpressions: [{ key: 'fedmesh.io/cluster', operator: 'NotIn', values: ['west'] }] } },
            { namespaceSelector: { matchExpressions: [{ key: 'fedmesh.io/cluster', operator: 'DoesNotExist' }] } },
          ],
        },
      ],
    }),
    local,
  );
  assert.deepEqual(r.errors, []);
  assert.deepEqual(
    r.warnings.map((w) => w.path),
    [
      'spec.ingress[0].from[0].podSelector.matchExpressions[0]',
      'spec.ingress[0].from[1].namespaceSelector.matchExpressions[0]',
    ],
  );
  assert.match(r.warnings[0]!.message, /selects local endpoints AND the endpoints of every other remote cluster/);
  assert.match(r.warnings[1]!.message, /matches no endpoint/);
});

test('contradicting cluster terms warn that the peer can never match', () => {
  const r = compileNetworkPolicy(
    np({
      ingress: [
        {
          from: [
            {
              podSelector: { matchLabels: { 'fedmesh.io/cluster': 'west' } },
              namespaceSelector: { matchLabels: { 'fedmesh.io/cluster': 'north' } },
            },
          ],
        },
      ],
    }),
    local,
  );
  assert.deepEqual(r.errors, []);
  assert.equal(r.warnings.length, 1);
  assert.equal(r.warnings[0]!.path, 'spec.ingress[0].from[0]');
  assert.match(r.warnings[0]!.message, /admit no cluster/);
});

test('malformed LabelSelectors and ipBlocks leave no policy and say why with Kubernetes wording', () => {
  const r = compileNetworkPolicy(
    np({
      podSelector: { matchExpressions: [{ key: 'app', operator: 'In', values: [] }] },
      ingress: [{ from: [{ ipBlock: { cidr: '10.0.0.0/8', except: ['11.0.0.0/16', '10.0.0.0/8'] } }, {}] }],
    }),
    local,
  );
  assert.equal(r.policy, null);
  assert.deepEqual(
    r.errors.map((e) => e.path),
    [
      'spec.podSelector.matchExpressions[0].values',
      'spec.ingress[0].from[0].ipBlock.except[0]',
      'spec.ingress[0].from[0].ipBlock.except[1]',
      'spec.ingress[0].from[1]',
    ],
  );
  assert.match(r.errors[1]!.message, /strict subset/);
});
