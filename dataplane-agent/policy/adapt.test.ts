import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compileFederatedNetworkPolicy, compileNetworkPolicy } from '../../core/policy/index.js';
import { canonicalSelector } from '../../core/selector/canonical.js';
import { evaluate } from '../../core/selector/evaluate.js';
import { adaptPolicy } from './adapt.js';
import { endpointLabels, namespaceLabelView } from './endpoint-labels.js';

const compile = (peer: Record<string, unknown>) =>
  adaptPolicy(
    compileNetworkPolicy(
      { metadata: { namespace: 'demo', name: 'np' }, spec: { podSelector: {}, ingress: [{ from: [peer] }] } },
      { localCluster: 'west' },
    ).policy!,
    'west',
  );
const peerSelector = (peer: Record<string, unknown>) => {
  const p = compile(peer).ingress[0]?.peers?.[0];
  assert.equal(p?.kind, 'selector');
  return p.selector;
};
const labels = (cluster: string, namespace: string, ns?: Record<string, string>) =>
  endpointLabels({ app: 'client' }, cluster, namespace, ns ? namespaceLabelView(ns, cluster) : undefined);

test('a peer without a cluster term selects local endpoints only; In [east] selects east only', () => {
  const local = peerSelector({ podSelector: { matchLabels: { app: 'client' } } });
  assert.ok(evaluate(local, labels('west', 'demo')));
  assert.ok(!evaluate(local, labels('east', 'demo')));
  const east = peerSelector({
    podSelector: {
      matchLabels: { app: 'client' },
      matchExpressions: [{ key: 'fedmesh.io/cluster', operator: 'In', values: ['east'] }],
    },
  });
  assert.ok(evaluate(east, labels('east', 'demo')));
  assert.ok(!evaluate(east, labels('west', 'demo')));
  assert.ok(!evaluate(east, labels('east', 'other')), 'namespaces are linked by name');
});

test('a namespaceSelector needs the namespace labels: never a remote endpoint, even a negative selector', () => {
  const sel = peerSelector({
    podSelector: { matchExpressions: [{ key: 'fedmesh.io/cluster', operator: 'Exists' }] },
    namespaceSelector: { matchExpressions: [{ key: 'team', operator: 'NotIn', values: ['x'] }] },
  });
  assert.ok(evaluate(sel, labels('west', 'any', { team: 'y' })));
  assert.ok(!evaluate(sel, labels('west', 'any', { team: 'x' })));
  assert.ok(!evaluate(sel, labels('east', 'any')), `remote namespace labels are unknown: ${canonicalSelector(sel)}`);
});

test('the main selector applies to local endpoints of the namespace', () => {
  const p = compile({ podSelector: {} });
  assert.ok(evaluate(p.selector, labels('west', 'demo')));
  assert.ok(!evaluate(p.selector, labels('east', 'demo')));
  assert.ok(!evaluate(p.selector, labels('west', 'other')));
});

test('an ICMP type under another protocol matches nothing: the rule goes, the rest of the policy stays', () => {
  const r = compileFederatedNetworkPolicy(
    {
      metadata: { namespace: 'demo', name: 'odd' },
      spec: {
        selector: 'all()',
        ingress: [
          { action: 'Allow', protocol: 'TCP', icmp: { type: 8 } },
          { action: 'Allow', protocol: 'ICMP', icmp: { type: 8 } },
          { action: 'Allow', icmp: { type: 0 } },
        ],
      },
    },
    { localCluster: 'west' },
  );
  assert.ok(r.errors.length > 0, 'admission refuses it; the agent may still meet it');
  const p = adaptPolicy(r.policy!, 'west');
  assert.deepEqual(
    p.ingress.map((rule) => [rule.protocol, rule.icmp?.type]),
    [
      [1, 8],
      [null, 0],
    ],
  );
});
