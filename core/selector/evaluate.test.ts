import assert from 'node:assert/strict';
import { test } from 'node:test';
import { canonicalSelector } from './canonical.js';
import { evaluate, labelLookup, matcherFor } from './evaluate.js';
import { parseSelector } from './parser.js';

type L = Record<string, string>;

// selector, label maps it matches, label maps it does not (Calico's parser_test.go cases and more).
const table: [string, L[], L[]][] = [
  ['a == "b"', [{ a: 'b' }, { a: 'b', c: 'd' }], [{}, { a: 'c' }, { c: 'd' }, { a: 'B' }, { a: '' }]],
  ['a == ""', [{ a: '' }], [{}, { a: 'x' }]],
  ['a != "b"', [{}, { a: 'a' }, { c: 'b' }, { a: '' }], [{ a: 'b' }]],
  ['a in {"x", "y"}', [{ a: 'x' }, { a: 'y' }], [{}, { a: 'z' }, { b: 'x' }]],
  ['a in {}', [], [{}, { a: '' }, { a: 'x' }]],
  ['a not in {"x", "y"}', [{}, { a: 'z' }, { b: 'x' }], [{ a: 'x' }, { a: 'y' }]],
  ['a not in {}', [{}, { a: 'x' }], []],
  [`a in {"'", '"', "c"}`, [{ a: 'c' }, { a: '"' }, { a: "'" }], [{}, { a: 'e' }]],
  ['a contains "a"', [{ a: 'a' }, { a: 'bab' }, { a: 'aaa', b: 'c' }], [{}, { a: 'b' }, { b: 'aaa' }]],
  ['a contains ""', [{ a: '' }, { a: 'x' }], [{}]],
  ['a starts with "a"', [{ a: 'a' }, { a: 'abb' }], [{}, { a: 'b' }, { a: 'baa' }, { b: 'aaa' }]],
  ['a ends with "a"', [{ a: 'a' }, { a: 'bba' }], [{}, { a: 'b' }, { a: 'aab' }, { b: 'aaa' }]],
  ['has(a)', [{ a: 'b' }, { a: '' }], [{}, { b: 'a' }]],
  ['!has(a)', [{}, { b: 'b' }], [{ a: 'b' }, { a: '' }]],
  ['!!has(a)', [{ a: 'b' }], [{ b: 'a' }]],
  ['', [{}, { a: 'b' }], []],
  ['all()', [{}, { a: 'b' }], []],
  ['!all()', [], [{}, { a: 'b' }]],
  ['global()', [{}, { a: 'b' }], []],
  ['!a in {"a"}', [{ a: 'b' }, {}], [{ a: 'a' }]],
  ['a == "a1" && b == "b1"', [{ a: 'a1', b: 'b1' }], [{ a: 'a1' }, { b: 'b1' }, { a: 'a1', b: 'b2' }]],
  ['a == "a1" || b == "b1"', [{ a: 'a1' }, { b: 'b1' }, { a: 'a1', b: 'b1' }], [{}, { a: 'x', b: 'y' }]],
  ['a != "a1" || b != "b1"', [{}, { a: 'a1' }], [{ a: 'a1', b: 'b1' }]],
  ['! a == "a1" || ! b == "b1"', [{ a: 'a1' }], [{ a: 'a1', b: 'b1' }]],
  ['has(a) && !has(b)', [{ a: 'a' }], [{ a: 'a', b: 'b' }, {}]],
  ['!(!has(a) || has(b))', [{ a: 'a' }], [{ a: 'a', b: 'b' }, {}]],
  // && before ||: x || (y && z)
  ['x == "1" || y == "1" && z == "1"', [{ x: '1' }, { y: '1', z: '1' }], [{ y: '1' }, { z: '1' }]],
  [
    '(x == "1" || y == "1") && z == "1"',
    [
      { x: '1', z: '1' },
      { y: '1', z: '1' },
    ],
    [{ x: '1' }, { z: '1' }],
  ],
  ['fedmesh.io/cluster in {"east", "west"}', [{ 'fedmesh.io/cluster': 'west' }], [{ 'fedmesh.io/cluster': 'north' }]],
];

test('evaluation follows Calico: != and not in match absent labels, the rest need them present', () => {
  for (const [selector, matches, nonMatches] of table) {
    const node = parseSelector(selector);
    for (const labels of matches)
      assert.equal(evaluate(node, labels), true, `${selector} should match ${JSON.stringify(labels)}`);
    for (const labels of nonMatches) {
      assert.equal(evaluate(node, labels), false, `${selector} should not match ${JSON.stringify(labels)}`);
    }
  }
});

test('the canonical form evaluates the same as the original', () => {
  for (const [selector, matches, nonMatches] of table) {
    const again = parseSelector(canonicalSelector(parseSelector(selector)));
    for (const labels of matches) assert.equal(evaluate(again, labels), true, selector);
    for (const labels of nonMatches) assert.equal(evaluate(again, labels), false, selector);
  }
});

test('records and Maps evaluate alike', () => {
  const node = parseSelector('a == "1" && !has(b)');
  assert.equal(evaluate(node, new Map([['a', '1']])), true);
  assert.equal(
    evaluate(
      node,
      new Map([
        ['a', '1'],
        ['b', ''],
      ]),
    ),
    false,
  );
});

test("a record's inherited properties are not labels", () => {
  for (const key of ['constructor', 'toString', '__proto__', 'hasOwnProperty']) {
    assert.equal(evaluate(parseSelector(`has(${key})`), {}), false, key);
    assert.equal(evaluate(parseSelector(`${key} != "x"`), {}), true, key);
  }
  const own = JSON.parse('{"__proto__": "x"}') as Record<string, string>;
  assert.equal(evaluate(parseSelector('__proto__ == "x"'), own), true);
  assert.equal(labelLookup({ constructor: 'c' }).get('constructor'), 'c');
});

test('a compiled matcher is built once per tree and reused', () => {
  const node = parseSelector('a in {"x"}');
  assert.equal(matcherFor(node), matcherFor(node));
});

test('long chains evaluate with short-circuit semantics', () => {
  const node = parseSelector(Array.from({ length: 50 }, (_, i) => `k${i} == "v"`).join(' && '));
  const labels = Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`k${i}`, 'v']));
  assert.equal(evaluate(node, labels), true);
  assert.equal(evaluate(node, { ...labels, k49: 'w' }), false);
  const anyOf = parseSelector(Array.from({ length: 50 }, (_, i) => `k${i} == "v"`).join(' || '));
  assert.equal(evaluate(anyOf, { k49: 'v' }), true);
  assert.equal(evaluate(anyOf, { k0: 'w' }), false);
});
