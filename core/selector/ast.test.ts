import assert from 'node:assert/strict';
import { test } from 'node:test';
import { all, and, compare, compareCodePoints, has, inSet, not, or, referencedLabels, sortedUnique } from './ast.js';

test('constructors give the parser form: no one-operand junctions, no double negation', () => {
  const x = has('x');
  assert.equal(and([]), all());
  assert.equal(and([x]), x);
  assert.equal(or([x]), x);
  assert.throws(() => or([]), RangeError);
  assert.deepEqual(and([x, x]), { kind: 'and', operands: [x, x] });
  assert.equal(not(not(x)), x);
  assert.deepEqual(not(x), { kind: 'not', operand: x });
});

test('sets are sorted by code point and deduplicated', () => {
  assert.deepEqual(inSet('in', 'k', ['b', 'a', 'b', '']).values, ['', 'a', 'b']);
  assert.deepEqual(sortedUnique(['\u{1F600}', '\uFF21', 'z']), ['z', '\uFF21', '\u{1F600}']);
  assert.ok(compareCodePoints('\uFF21', '\u{1F600}') < 0, 'U+FF21 before U+1F600');
  assert.ok('\uFF21' > '\u{1F600}', 'while UTF-16 order says the opposite');
  assert.ok(compareCodePoints('ab', 'abc') < 0);
  assert.equal(compareCodePoints('same', 'same'), 0);
});

test('referencedLabels lists every label read anywhere', () => {
  const node = and([compare('ne', 'a', 'x'), not(or([has('b'), inSet('notIn', 'c', [])])), all()]);
  assert.deepEqual([...referencedLabels(node)].sort(), ['a', 'b', 'c']);
  assert.equal(referencedLabels(all()).size, 0);
});
