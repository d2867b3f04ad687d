import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { all, and, compare, global, has, inSet, not, or, type SelectorNode } from './ast.js';
import { parseSelector } from './parser.js';
import { requiredLabels, requiredValues, type ValueConstraint } from './restrictions.js';

function required(selector: string): Record<string, string[] | 'any'> {
  const out: Record<string, string[] | 'any'> = {};
  for (const [label, c] of requiredLabels(parseSelector(selector))) out[label] = c === 'any' ? 'any' : [...c].sort();
  return out;
}

test('==, in and has-like terms require their label; in and == bound the value', () => {
  assert.deepEqual(required('a == "x"'), { a: ['x'] });
  assert.deepEqual(required('a in {"x", "y"}'), { a: ['x', 'y'] });
  assert.deepEqual(required('a in {}'), { a: [] });
  for (const s of ['has(a)', 'a contains "x"', 'a starts with "x"', 'a ends with "x"'])
    assert.deepEqual(required(s), { a: 'any' });
});

test('terms that match an absent label require nothing', () => {
  for (const s of ['a != "x"', 'a not in {"x"}', '!has(a)', '!a == "x"', 'all()', 'global()', '']) {
    assert.deepEqual(required(s), {}, s);
  }
});

test('&& requires everything either side requires, intersecting values', () => {
  assert.deepEqual(required('a == "x" && has(b)'), { a: ['x'], b: 'any' });
  assert.deepEqual(required('a in {"x", "y"} && a in {"y", "z"}'), { a: ['y'] });
  assert.deepEqual(required('a == "x" && a == "y"'), { a: [] });
  assert.deepEqual(required('has(a) && a == "x"'), { a: ['x'] });
});

test('|| requires only what every side requires, joining values', () => {
  assert.deepEqual(required('a == "x" || a == "y"'), { a: ['x', 'y'] });
  assert.deepEqual(required('a == "x" || has(a)'), { a: 'any' });
  assert.deepEqual(required('a == "x" || b == "y"'), {});
  assert.deepEqual(required('(a == "x" && b == "1") || (a == "y" && c == "2")'), { a: ['x', 'y'] });
  assert.deepEqual(required('a == "x" || all()'), {});
});

// Random trees over few labels and values, so that && and || often meet the same label on both sides.
const treeArb: fc.Arbitrary<SelectorNode> = fc.letrec<{ node: SelectorNode }>((tie) => {
  const label = fc.constantFrom('a', 'b', 'fedmesh.io/cluster');
  const value = fc.constantFrom('x', 'y', 'z');
  return {
    node: fc.oneof(
      { depthSize: 'small', withCrossShrink: true },
      fc.constant(all()),
      fc.constant(global()),
      label.map(has),
      fc
        .tuple(fc.constantFrom('eq', 'ne', 'contains', 'startsWith', 'endsWith') as fc.Arbitrary<'eq'>, label, value)
        .map(([k, l, v]) => compare(k, l, v)),
      fc
        .tuple(fc.constantFrom('in', 'notIn') as fc.Arbitrary<'in'>, label, fc.array(value, { maxLength: 3 }))
        .map(([k, l, vs]) => inSet(k, l, vs)),
      tie('node').map(not),
      fc.array(tie('node'), { minLength: 2, maxLength: 4 }).map(and),
      fc.array(tie('node'), { minLength: 2, maxLength: 4 }).map(or),
    ),
  };
}).node;

const sorted = (c: ValueConstraint | undefined) => (c === undefined || c === 'any' ? c : [...c].sort());

test('requiredValues of one label is what requiredLabels gives for it', () => {
  fc.assert(
    fc.property(treeArb, (node) => {
      const all = requiredLabels(node);
      for (const label of ['a', 'b', 'fedmesh.io/cluster', 'absent']) {
        assert.deepEqual(sorted(requiredValues(node, label)), sorted(all.get(label)), label);
      }
    }),
    { numRuns: 2000 },
  );
  assert.deepEqual(sorted(requiredValues(parseSelector('a in {"x", "y"} && (a == "y" || a == "z")'), 'a')), ['y']);
  assert.equal(requiredValues(parseSelector('a == "x" || b == "y"'), 'a'), undefined);
});
