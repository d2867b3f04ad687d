import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { NetworkPolicyObject } from '../core/policy/compile-network-policy.js';
import { isPlainNetworkPolicy } from '../core/policy/plain-network-policy.js';
import { randomNetworkPolicy } from '../core/policy/random-network-policy.js';
import { seededRandom } from '../core/random/seeded-random.js';
import { objectShapes, shapeErrors } from './object-schemas.js';
import { fixedContext, realisticNetworkPolicy } from './test-support.js';
import { clusterNeedsNoWarning, compiledNetworkPolicyVerdict, validateNetworkPolicy } from './validate-policy.js';
import type { ValidationContext } from './validation-context.js';

test('a NetworkPolicy gets the same verdict as from compiling it, plain or not, whatever clusters are known', () => {
  const contexts: ValidationContext[] = [
    fixedContext(),
    { ...fixedContext(), knownClusters: () => undefined },
    { ...fixedContext(), knownClusters: () => new Set(['north']) },
  ];
  const random = seededRandom(12);
  let compared = 0;
  for (let i = 0; i < 6_000; i++) {
    const np = randomNetworkPolicy(random, i);
    if (shapeErrors(objectShapes.NetworkPolicy, np).length > 0) continue; // refused before either path
    compared++;
    for (const ctx of contexts) {
      assert.deepEqual(validateNetworkPolicy(np, ctx), compiledNetworkPolicyVerdict(np, ctx), JSON.stringify(np));
    }
  }
  assert.ok(compared > 5_000, `compared ${compared}`);
});

test('the realistic policies of bench/webhook are plain: their reviews take the fast path', () => {
  const ctx = fixedContext();
  for (let i = 0; i < 200; i++) {
    // As the server has it: parsed from JSON.
    const np = JSON.parse(JSON.stringify(realisticNetworkPolicy(i))) as NetworkPolicyObject;
    assert.equal(isPlainNetworkPolicy(np, clusterNeedsNoWarning(ctx)), true, `policy ${i}`);
    assert.deepEqual(validateNetworkPolicy(np, ctx), { errors: [], warnings: [] });
  }
});

test('a cluster no RCC names gets a warning, but not before the first list of RCCs', () => {
  const np = {
    metadata: { name: 'p', namespace: 'shop' },
    spec: { ingress: [{ from: [{ podSelector: { matchLabels: { 'fedmesh.io/cluster': 'south' } } }] }] },
  };
  const warnings = validateNetworkPolicy(np, fixedContext()).warnings;
  assert.equal(warnings.length, 1);
  assert.match(warnings[0]!, /no RemoteClusterConfiguration "south" exists/);
  assert.deepEqual(validateNetworkPolicy(np, { ...fixedContext(), knownClusters: () => undefined }), {
    errors: [],
    warnings: [],
  });
});
