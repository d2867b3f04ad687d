import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import {
  all,
  and,
  compare,
  compareCodePoints,
  has,
  inSet,
  not,
  or,
  referencedLabels,
  sortCodePoints,
  sortedUnique,
} from './ast.js';

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

test('sortCodePoints and sortedUnique give what a full sort and a Set give, short arrays or long', () => {
  const value = fc.oneof(fc.constantFrom('', 'a', 'b', 'ab', '\uFF21', '\u{1F600}'), fc.string());
  fc.assert(
    fc.property(fc.array(value, { maxLength: 40 }), (values) => {
      const expected = [...values].sort(compareCodePoints);
      const input = [...values];
      assert.deepEqual(sortCodePoints(input), expected);
      assert.deepEqual(sortedUnique(values), [...new Set(expected)]);
      assert.deepEqual(sortedUnique(new Set(values)), [...new Set(expected)]);
    }),
    { numRuns: 2000 },
  );
  const frozen = Object.freeze(['b', 'a']);
  assert.deepEqual(sortedUnique(frozen), ['a', 'b'], 'the input is not sorted in place');
});

test('referencedLabels lists every label read anywhere', () => {
  const node = and([compare('ne', 'a', 'x'), not(or([has('b'), inSet('notIn', 'c', [])])), all()]);
  assert.deepEqual([...referencedLabels(node)].sort(), ['a', 'b', 'c']);
  assert.equal(referencedLabels(all()).size, 0);
});
