import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { structurallyEqual } from './structural-equal.js';

test('key order does not count; array order, values and extra keys do', () => {
  assert.ok(structurallyEqual({ a: 1, b: { c: [1, 2], d: 'x' } }, { b: { d: 'x', c: [1, 2] }, a: 1 }));
  assert.ok(!structurallyEqual({ a: [1, 2] }, { a: [2, 1] }));
  assert.ok(!structurallyEqual({ a: 1 }, { a: 1, b: 2 }));
  assert.ok(!structurallyEqual({ a: 1, b: 2 }, { a: 1 }));
  assert.ok(!structurallyEqual({ a: '1' }, { a: 1 }));
  assert.ok(!structurallyEqual({ a: [] }, { a: {} }));
  assert.ok(structurallyEqual({ a: 1, u: undefined }, { a: 1 }), 'undefined is absent, as in JSON');
  assert.ok(structurallyEqual({ a: 1, revision: 3 }, { revision: 4, a: 1 }, new Set(['revision'])));
  assert.ok(
    !structurallyEqual({ x: { revision: 3 } }, { x: { revision: 4 } }, new Set(['revision'])),
    'top level only',
  );
});

test('agrees with comparing JSON with sorted keys', () => {
  // JSON text with every object's keys in sorted order: the reference the comparison must agree with.
  const sortedJson = (v: unknown) =>
    JSON.stringify(v, (_k, x: unknown) =>
      x !== null && typeof x === 'object' && !Array.isArray(x)
        ? Object.fromEntries(Object.entries(x).sort(([p], [q]) => (p < q ? -1 : p > q ? 1 : 0)))
        : x,
    );
  fc.assert(
    fc.property(fc.jsonValue(), fc.jsonValue(), (a, b) => {
      assert.equal(structurallyEqual(a, b), sortedJson(a) === sortedJson(b));
      assert.ok(structurallyEqual(a, JSON.parse(sortedJson(a))));
    }),
    { numRuns: 500 },
  );
});
