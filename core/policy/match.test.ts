import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compileFederatedNetworkPolicy } from './compile-fnp.js';
import { compileNetworkPolicy } from './compile-network-policy.js';
import { decidingRule, type MeshFacts, type PolicyEndpoint, policyAppliesTo, ruleSelectsEndpoint } from './match.js';
import type { NormalizedPolicy } from './model.js';

const namespaces: Record<string, Record<string, Record<string, string>>> = {
  east: { shop: { team: 'a' }, ops: { team: 'ops' } },
  west: { shop: { team: 'a' }, ops: { team: 'ops' } },
  north: { shop: { team: 'b' } },
};
const mesh: MeshFacts = {
  localCluster: 'east',
  namespaceLabels: (cluster, ns) => namespaces[cluster]?.[ns],
};

const ep = (cluster: string, namespace: string, labels: Record<string, string>): PolicyEndpoint => ({
  cluster,
  namespace,
  labels,
});

function fnp(spec: Parameters<typeof compileFederatedNetworkPolicy>[0]['spec']): NormalizedPolicy {
  const r = compileFederatedNetworkPolicy(
    { metadata: { name: 'p', namespace: 'shop' }, spec },
    { localCluster: 'east' },
  );
  assert.ok(r.policy, JSON.stringify(r.errors));
  return r.policy;
}

test('the main selector applies to local endpoints of the namespace only, even to a remote pod labelled alike', () => {
  const p = fnp({ selector: "app == 'db'" });
  assert.equal(policyAppliesTo(p, ep('east', 'shop', { app: 'db' }), mesh), true);
  assert.equal(policyAppliesTo(p, ep('east', 'ops', { app: 'db' }), mesh), false);
  assert.equal(policyAppliesTo(p, ep('west', 'shop', { app: 'db' }), mesh), false);
  assert.equal(policyAppliesTo(p, ep('east', 'shop', { app: 'web' }), mesh), false);
});

test('an unscoped peer selects local endpoints only; a scoped one its clusters, in the same-named namespace', () => {
  const p = fnp({
    ingress: [
      { action: 'Allow', source: { selector: "app == 'web'" } },
      { action: 'Allow', source: { selector: "app == 'batch' && fedmesh.io/cluster in {'west', 'east'}" } },
      { action: 'Allow', source: { selector: "app == 'any' && has(fedmesh.io/cluster)" } },
    ],
  });
  const [unscoped, named, anywhere] = p.ingress;
  assert.equal(ruleSelectsEndpoint(unscoped!, ep('east', 'shop', { app: 'web' }), mesh), true);
  assert.equal(ruleSelectsEndpoint(unscoped!, ep('west', 'shop', { app: 'web' }), mesh), false);
  assert.equal(ruleSelectsEndpoint(unscoped!, ep('east', 'ops', { app: 'web' }), mesh), false);
  assert.equal(ruleSelectsEndpoint(named!, ep('west', 'shop', { app: 'batch' }), mesh), true);
  assert.equal(ruleSelectsEndpoint(named!, ep('east', 'shop', { app: 'batch' }), mesh), true);
  assert.equal(ruleSelectsEndpoint(named!, ep('north', 'shop', { app: 'batch' }), mesh), false);
  assert.equal(ruleSelectsEndpoint(named!, ep('west', 'ops', { app: 'batch' }), mesh), false);
  assert.equal(ruleSelectsEndpoint(anywhere!, ep('north', 'shop', { app: 'any' }), mesh), true);
});

test('a real label called fedmesh.io/cluster cannot move a pod into another cluster', () => {
  const p = fnp({ ingress: [{ action: 'Allow', source: { selector: "fedmesh.io/cluster == 'west'" } }] });
  assert.equal(ruleSelectsEndpoint(p.ingress[0]!, ep('north', 'shop', { 'fedmesh.io/cluster': 'west' }), mesh), false);
  assert.equal(ruleSelectsEndpoint(p.ingress[0]!, ep('west', 'shop', { 'fedmesh.io/cluster': 'north' }), mesh), true);
});

test("namespaceSelector matches each cluster's own namespace labels; unknown namespaces match nothing", () => {
  const p = fnp({
    ingress: [{ action: 'Allow', source: { namespaceSelector: "team == 'a' && has(fedmesh.io/cluster)" } }],
  });
  const rule = p.ingress[0]!;
  assert.equal(ruleSelectsEndpoint(rule, ep('west', 'shop', {}), mesh), true);
  assert.equal(ruleSelectsEndpoint(rule, ep('north', 'shop', {}), mesh), false, 'north labels its shop team b');
  assert.equal(ruleSelectsEndpoint(rule, ep('west', 'ops', {}), mesh), false);
  assert.equal(ruleSelectsEndpoint(rule, ep('west', 'ghost', {}), mesh), false);
});

test('the first rule that takes an endpoint in decides; nets peers never take endpoints in by labels', () => {
  const p = fnp({
    ingress: [
      { action: 'Allow', source: { nets: ['10.0.0.0/8'] } },
      { action: 'Deny', source: { selector: "role == 'batch' && fedmesh.io/cluster == 'west'" } },
      { action: 'Allow', source: { selector: 'has(fedmesh.io/cluster)' } },
    ],
  });
  assert.equal(decidingRule(p, 'Ingress', ep('west', 'shop', { role: 'batch' }), mesh), 1);
  assert.equal(decidingRule(p, 'Ingress', ep('north', 'shop', { role: 'batch' }), mesh), 2);
  assert.equal(decidingRule(p, 'Egress', ep('north', 'shop', {}), mesh), -1);
});

test('a NetworkPolicy peer with only a namespaceSelector takes in every pod of those namespaces, locally', () => {
  const r = compileNetworkPolicy(
    {
      metadata: { name: 'np', namespace: 'shop' },
      spec: { ingress: [{ from: [{ namespaceSelector: { matchLabels: { team: 'ops' } } }] }] },
    },
    { localCluster: 'east' },
  );
  const rule = r.policy!.ingress[0]!;
  assert.equal(ruleSelectsEndpoint(rule, ep('east', 'ops', { anything: 'x' }), mesh), true);
  assert.equal(ruleSelectsEndpoint(rule, ep('west', 'ops', { anything: 'x' }), mesh), false);
  assert.equal(ruleSelectsEndpoint(rule, ep('east', 'shop', {}), mesh), false);
});
