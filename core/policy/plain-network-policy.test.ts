import assert from 'node:assert/strict';
import { test } from 'node:test';
import { seededRandom } from '../random/seeded-random.js';
import { CLUSTER_LABEL, namedClusters } from '../selector/cluster-scope.js';
import { compileNetworkPolicy } from './compile-network-policy.js';
import { isPlainNetworkPolicy } from './plain-network-policy.js';
import { randomNetworkPolicy } from './random-network-policy.js';

const localCluster = 'east';
const known = new Set(['west', 'north']);
const needsNoWarning = (name: string) => name === localCluster || known.has(name);

test('a plain NetworkPolicy compiles with no error and no warning, names only known clusters and no IPv6 net', () => {
  const random = seededRandom(2026);
  let plain = 0;
  let clean = 0;
  const total = 20_000;
  for (let i = 0; i < total; i++) {
    const np = randomNetworkPolicy(random, i);
    const r = compileNetworkPolicy(np, { localCluster });
    const peers =
      r.policy === null ? [] : [...r.policy.ingress, ...r.policy.egress].flatMap((rule) => rule.peers ?? []);
    const named = peers.flatMap((p) => (p.kind === 'endpoints' ? namedClusters(p.selector) : []));
    const v6 = peers.some((p) => p.kind === 'nets' && p.nets.some((n) => n.cidr.includes(':')));
    const compiledClean =
      r.errors.length === 0 && r.warnings.length === 0 && named.every(needsNoWarning) && !v6 && r.policy !== null;
    if (compiledClean) clean++;
    if (!isPlainNetworkPolicy(np, needsNoWarning)) continue;
    plain++;
    assert.ok(
      compiledClean,
      `plain, but the compiler says ${JSON.stringify({ errors: r.errors, warnings: r.warnings, named, v6 })}: ${JSON.stringify(np)}`,
    );
  }
  // The run means something only if it holds many of both kinds, and the check calls most clean policies plain.
  assert.ok(plain > total / 5, `plain: ${plain} of ${total}`);
  assert.ok(total - clean > total / 5, `not clean: ${total - clean} of ${total}`);
  assert.ok(plain > clean * 0.8, `plain ${plain} of ${clean} clean`);
});

test('what is not plain, each on its own: cluster terms outside a positive pod-selector list, ICMP, IPv6, a bad port', () => {
  const base = {
    metadata: { name: 'p', namespace: 'shop' },
    spec: { podSelector: { matchLabels: { app: 'web' } }, ingress: [{ from: [{ podSelector: {} }] }] },
  };
  const withPeer = (peer: object, ports?: object[]) => ({
    ...base,
    spec: { ...base.spec, ingress: [{ from: [peer], ...(ports === undefined ? {} : { ports }) }] },
  });
  assert.equal(isPlainNetworkPolicy(base, needsNoWarning), true);
  const inWest = { key: CLUSTER_LABEL, operator: 'In', values: ['west'] };
  assert.equal(isPlainNetworkPolicy(withPeer({ podSelector: { matchExpressions: [inWest] } }), needsNoWarning), true);
  const notPlain: [string, object][] = [
    ['main selector names a cluster', { ...base, spec: { podSelector: { matchLabels: { [CLUSTER_LABEL]: 'east' } } } }],
    ['NotIn', withPeer({ podSelector: { matchExpressions: [{ ...inWest, operator: 'NotIn' }] } })],
    ['unknown cluster', withPeer({ podSelector: { matchLabels: { [CLUSTER_LABEL]: 'south' } } })],
    ['not a cluster name', withPeer({ podSelector: { matchLabels: { [CLUSTER_LABEL]: 'West' } } })],
    [
      'two cluster terms',
      withPeer({ podSelector: { matchLabels: { [CLUSTER_LABEL]: 'west' }, matchExpressions: [inWest] } }),
    ],
    ['namespace selector names a cluster', withPeer({ namespaceSelector: { matchExpressions: [inWest] } })],
    ['empty peer', withPeer({})],
    ['IPv6 block', withPeer({ ipBlock: { cidr: 'fd00::/64' } })],
    ['except not inside', withPeer({ ipBlock: { cidr: '10.0.0.0/16', except: ['10.1.0.0/24'] } })],
    ['ICMP', withPeer({ podSelector: {} }, [{ protocol: 'ICMP' }])],
    ['endPort below port', withPeer({ podSelector: {} }, [{ port: 90, endPort: 80 }])],
    ['bad port name', withPeer({ podSelector: {} }, [{ port: 'a--b' }])],
  ];
  for (const [what, np] of notPlain) assert.equal(isPlainNetworkPolicy(np, needsNoWarning), false, what);
});
