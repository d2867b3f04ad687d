import assert from 'node:assert/strict';
import { test } from 'node:test';
import { evaluate } from '../selector/evaluate.js';
import { compileLabelSelector } from '../selector/label-selector.js';
import { LabelSelectorParseError, parseLabelSelectorString } from './label-selector-string.js';

const matches = (sel: string, labels: Record<string, string>) =>
  evaluate(compileLabelSelector(parseLabelSelectorString(sel)), labels);

test('every operator of the string syntax, as Kubernetes means it', () => {
  assert.deepEqual(parseLabelSelectorString('a=1, b==2,c!=3, d in (x, y),e notin (z),f,!g'), {
    matchExpressions: [
      { key: 'a', operator: 'In', values: ['1'] },
      { key: 'b', operator: 'In', values: ['2'] },
      { key: 'c', operator: 'NotIn', values: ['3'] },
      { key: 'd', operator: 'In', values: ['x', 'y'] },
      { key: 'e', operator: 'NotIn', values: ['z'] },
      { key: 'f', operator: 'Exists' },
      { key: 'g', operator: 'DoesNotExist' },
    ],
  });
  assert.ok(matches('fedmesh.io/cluster=west', { 'fedmesh.io/cluster': 'west' }));
  assert.ok(!matches('fedmesh.io/cluster=west', { 'fedmesh.io/cluster': 'east' }));
  assert.ok(matches('app!=web', {}), '!= matches when the label is absent');
  assert.ok(matches('', { any: 'thing' }), 'empty selects everything');
  assert.ok(matches('!tier,app in (a,b)', { app: 'b' }));
});

test('malformed selectors are errors that say where', () => {
  for (const bad of ['=x', 'a in x', 'a in (x', 'a foo b', 'a=1,,b', 'a>3']) {
    assert.throws(() => parseLabelSelectorString(bad), LabelSelectorParseError, bad);
  }
  assert.throws(() => parseLabelSelectorString('a>3'), /numeric operators/);
});
