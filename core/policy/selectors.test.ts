import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CLUSTER_LABEL } from '../selector/cluster-scope.js';
import { compileLabelSelector, type LabelSelector } from '../selector/label-selector.js';
import { labelSelectorParts } from './selectors.js';

test('labelSelectorParts: each fedmesh.io/cluster entry as the tree compileLabelSelector makes of it alone', () => {
  const selector: LabelSelector = {
    matchLabels: { app: 'db', [CLUSTER_LABEL]: 'west' },
    matchExpressions: [
      { key: 'tier', operator: 'In', values: ['a'] },
      { key: CLUSTER_LABEL, operator: 'In', values: ['west', 'east', 'west'] },
      { key: CLUSTER_LABEL, operator: 'NotIn', values: ['north'] },
      { key: CLUSTER_LABEL, operator: 'Exists' },
      { key: CLUSTER_LABEL, operator: 'DoesNotExist' },
    ],
  };
  const parts = labelSelectorParts(selector, 'spec.podSelector');
  assert.deepEqual(
    parts.map((p) => p.path),
    [
      'spec.podSelector.matchLabels',
      'spec.podSelector.matchExpressions[1]',
      'spec.podSelector.matchExpressions[2]',
      'spec.podSelector.matchExpressions[3]',
      'spec.podSelector.matchExpressions[4]',
    ],
  );
  const expressions = selector.matchExpressions ?? [];
  const alone = [
    compileLabelSelector({ matchLabels: { [CLUSTER_LABEL]: 'west' } }),
    ...expressions.slice(1).map((req) => compileLabelSelector({ matchExpressions: [req] })),
  ];
  assert.deepEqual(
    parts.map((p) => p.node),
    alone,
  );
  assert.deepEqual(labelSelectorParts({ matchLabels: { app: 'db' } }, 'x'), []);
  assert.deepEqual(labelSelectorParts({}, 'x'), []);
});
