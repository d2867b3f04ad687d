import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { compileFederatedNetworkPolicy } from './compile-fnp.js';
import { type ExplainEndpoint, type ExplainMesh, explainPolicy, refOf } from './explain.js';
import type { FnpRule } from './fnp-types.js';
import { decidingRule } from './match.js';

// The explanation goes through the selector index; the reference (match.ts) evaluates each selector directly.
// For random policies and endpoints across clusters and namespaces they must decide alike.

const clusters = ['east', 'west', 'north'];
const namespaces = ['shop', 'ops'];
const nsLabels: Record<string, Record<string, Record<string, string>>> = {
  east: { shop: { team: 'a' }, ops: { team: 'b' } },
  west: { shop: { team: 'b' }, ops: { team: 'a' } },
  north: { shop: { team: 'a' } },
};

const term = fc.oneof(
  fc.constantFrom('app', 'role').chain((k) => fc.constantFrom('web', 'db', 'batch').map((v) => `${k} == '${v}'`)),
  fc.constantFrom('has(app)', '!has(role)', "app != 'web'", "role in {'batch', 'db'}"),
  fc.constantFrom(
    "fedmesh.io/cluster == 'west'",
    "fedmesh.io/cluster in {'east', 'north'}",
    'has(fedmesh.io/cluster)',
    "fedmesh.io/cluster != 'north'",
  ),
);
const selector = fc
  .array(term, { minLength: 1, maxLength: 3 })
  .chain((ts) => fc.constantFrom(' && ', ' || ').map((op) => ts.join(op)));
const rule: fc.Arbitrary<FnpRule> = fc.record({
  action: fc.constantFrom('Allow', 'Deny'),
  source: fc.oneof(
    fc.record({ selector }),
    fc.record({
      selector,
      namespaceSelector: fc.constantFrom("team == 'a'", 'all()', "team == 'a' && has(fedmesh.io/cluster)"),
    }),
  ),
});
const endpoint: fc.Arbitrary<ExplainEndpoint> = fc.record({
  cluster: fc.constantFrom(...clusters),
  namespace: fc.constantFrom(...namespaces),
  name: fc.integer({ min: 0, max: 30 }).map((i) => `p-${i}`),
  labels: fc.record(
    {
      app: fc.constantFrom('web', 'db'),
      role: fc.constantFrom('batch', 'db'),
      'fedmesh.io/cluster': fc.constantFrom('west', 'x'),
    },
    { requiredKeys: [] },
  ),
  ips: fc.constant([]),
});

test('explain (through the selector index) decides like the reference matcher', () => {
  fc.assert(
    fc.property(
      fc.array(rule, { minLength: 1, maxLength: 5 }),
      fc.uniqueArray(endpoint, { selector: refOf, maxLength: 40 }),
      (rules, endpoints) => {
        const r = compileFederatedNetworkPolicy(
          { metadata: { name: 'p', namespace: 'shop' }, spec: { ingress: rules } },
          { localCluster: 'east' },
        );
        assert.ok(r.policy, JSON.stringify(r.errors));
        const mesh: ExplainMesh = {
          localCluster: 'east',
          remoteNamespaceLabels: true,
          namespaceLabels: (c, ns) => nsLabels[c]?.[ns],
        };
        const x = explainPolicy(r.policy, endpoints, mesh);
        const decided = new Map(x.directions[0]!.decisions.map((d) => [d.endpoint, d.rule]));
        for (const e of endpoints) {
          assert.equal(decided.get(refOf(e)) ?? -1, decidingRule(r.policy, 'Ingress', e, mesh), refOf(e));
        }
      },
    ),
    { numRuns: 300 },
  );
});
