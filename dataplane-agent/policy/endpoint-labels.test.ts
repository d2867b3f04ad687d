import assert from 'node:assert/strict';
import { test } from 'node:test';
import { seededRandom } from '../../core/random/seeded-random.js';
import { endpointLabel, endpointLabels, NAMESPACE_LABELS_KNOWN, namespaceLabelView } from './endpoint-labels.js';

test('endpointLabel(key) is endpointLabels(…)[key], reserved and virtual keys included', () => {
  const random = seededRandom(7);
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(random() * xs.length)]!;
  // Keys a pod may try to set itself, reserved ones among them, and keys of the views fedmesh adds.
  const keys = [
    'app',
    'tier',
    'fedmesh.io/cluster',
    'projectcalico.org/namespace',
    'projectcalico.org/other',
    'pcns.team',
    'pcns.fedmesh.io/cluster',
    'pcsa.name',
    NAMESPACE_LABELS_KNOWN,
    'toString',
    'constructor',
    '__proto__',
  ];
  for (let i = 0; i < 2000; i++) {
    // Parsed from JSON, as a remote cluster's labels are: `__proto__` is then an own key.
    const labels = JSON.parse(
      JSON.stringify(Object.fromEntries(keys.filter(() => random() < 0.3).map((k) => [k, pick(['a', 'b', ''])]))),
    ) as Record<string, string>;
    const cluster = pick(['west', 'east']);
    const ns = random() < 0.5 ? namespaceLabelView({ team: pick(['x', 'y']) }, cluster) : undefined;
    const full = endpointLabels(labels, cluster, 'demo', ns);
    for (const k of keys) {
      const expected = Object.hasOwn(full, k) ? full[k] : undefined;
      assert.equal(endpointLabel(labels, cluster, 'demo', ns, k), expected, `${k} of ${JSON.stringify(labels)}`);
    }
  }
});
