import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CLUSTER_LABEL, clusterScope, mentionsClusterLabel, namedClusters } from './cluster-scope.js';
import { compileLabelSelector } from './label-selector.js';
import { parseSelector } from './parser.js';

const scope = (s: string) => clusterScope(parseSelector(s));

test('a selector that never reads fedmesh.io/cluster is unmentioned (local only for a policy peer)', () => {
  for (const s of ['', 'all()', 'app == "db"', 'has(fedmesh.io/clusterx)', 'cluster == "west"']) {
    assert.deepEqual(scope(s), { kind: 'unmentioned' }, s);
    assert.equal(mentionsClusterLabel(parseSelector(s)), false, s);
  }
});

test('== and in on the key bound the selector to named clusters', () => {
  assert.deepEqual(scope(`${CLUSTER_LABEL} == "west"`), { kind: 'clusters', names: ['west'] });
  assert.deepEqual(scope('fedmesh.io/cluster in {"west", "east"} && app == "db"'), {
    kind: 'clusters',
    names: ['east', 'west'],
  });
  assert.deepEqual(scope('fedmesh.io/cluster == "west" || fedmesh.io/cluster == "east"'), {
    kind: 'clusters',
    names: ['east', 'west'],
  });
  assert.deepEqual(scope('fedmesh.io/cluster in {}'), { kind: 'clusters', names: [] });
});

test('mentioning the key without naming a bounded set reaches any cluster', () => {
  for (const s of [
    'has(fedmesh.io/cluster)',
    'fedmesh.io/cluster != "west"',
    'fedmesh.io/cluster not in {"west"}',
    'fedmesh.io/cluster starts with "prod-"',
    'fedmesh.io/cluster == "west" || app == "db"',
    '!has(fedmesh.io/cluster)',
  ]) {
    assert.deepEqual(scope(s), { kind: 'any-cluster' }, s);
  }
});

test('a LabelSelector with a matchExpression on the key names its clusters', () => {
  const node = compileLabelSelector({
    matchExpressions: [{ key: CLUSTER_LABEL, operator: 'In', values: ['west', 'east'] }],
  });
  assert.deepEqual(clusterScope(node), { kind: 'clusters', names: ['east', 'west'] });
  assert.deepEqual(
    clusterScope(compileLabelSelector({ matchExpressions: [{ key: CLUSTER_LABEL, operator: 'Exists' }] })),
    {
      kind: 'any-cluster',
    },
  );
  assert.deepEqual(clusterScope(compileLabelSelector({ matchLabels: { app: 'db' } })), { kind: 'unmentioned' });
});

test('namedClusters lists every cluster written against the key, whatever the polarity', () => {
  assert.deepEqual(
    namedClusters(
      parseSelector(
        '!(fedmesh.io/cluster != "b") && (fedmesh.io/cluster not in {"c", "a"} || other == "z" || fedmesh.io/cluster in {"b"})',
      ),
    ),
    ['a', 'b', 'c'],
  );
  assert.deepEqual(namedClusters(parseSelector('has(fedmesh.io/cluster) && app == "x"')), []);
});
