import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compare, inSet } from './ast.js';
import { canonicalSelector, quote } from './canonical.js';
import { parseSelector } from './parser.js';

const canon = (s: string) => canonicalSelector(parseSelector(s));

// Calico's own canonicalisation cases (parser_test.go) and more: input, canonical form.
const cases: [string, string][] = [
  ['', 'all()'],
  [' all() ', 'all()'],
  [' (all() )', 'all()'],
  [' global( ) ', 'global()'],
  ['! (has( b)||! has(a ))', '!(has(b) || !has(a))'],
  ['! (a == "b"&&! c != "d")', '!(a == "b" && !c != "d")'],
  [`a == "'"`, `a == "'"`],
  [`a == '"'`, `a == '"'`],
  [`a contains '"'`, `a contains '"'`],
  [`a contains "'"`, `a contains "'"`],
  [`a startswith '"'`, `a starts with '"'`],
  [`a endswith "'"`, `a ends with "'"`],
  [`a!='"'`, `a != '"'`],
  ["a == 'plain'", 'a == "plain"'],
  ['a in {"d"}', 'a in {"d"}'],
  ['a in {"a", "b"}', 'a in {"a", "b"}'],
  ['a in {"d", "a", "b"}', 'a in {"a", "b", "d"}'],
  ['a in {"z", "z", "x", "y", "x", "a"}', 'a in {"a", "x", "y", "z"}'],
  ["a notin {'b','a',}", 'a not in {"a", "b"}'],
  ['a in {}', 'a in {}'],
  [`a in {"'", '"', "c"}`, `a in {'"', "'", "c"}`],
  ['!(k == "v")', '!k == "v"'],
  ['!(!(k == "v" && has(t) || all()) && (a in {"b", "c"}))', '!(!((k == "v" && has(t)) || all()) && a in {"b", "c"})'],
  ['a == "1" && (b == "2" && c == "3")', '(a == "1" && (b == "2" && c == "3"))'],
  ['a == "1" && b == "2" && c == "3"', '(a == "1" && b == "2" && c == "3")'],
  ['!!a == "1"', 'a == "1"'],
  ['!(!a == "1")', 'a == "1"'],
];

test('canonical form: Calico style, and the same for equal selectors', () => {
  for (const [input, expected] of cases) assert.equal(canon(input), expected, input);
});

test('the canonical form parses back to itself', () => {
  for (const [input] of cases) {
    const once = canon(input);
    assert.equal(canon(once), once, input);
    assert.deepEqual(parseSelector(once), parseSelector(input), input);
  }
});

test('quoting: double quotes unless the value holds one', () => {
  assert.equal(quote('x'), '"x"');
  assert.equal(quote("it's"), `"it's"`);
  assert.equal(quote('say "hi"'), `'say "hi"'`);
  assert.equal(quote(''), '""');
  assert.throws(() => quote(`both ' and "`), RangeError);
});

test('set members sort by code point, as Calico sorts bytes', () => {
  // U+FF21 (BMP, above the surrogates) sorts before U+1F600 in code point and UTF-8 byte order, after it in UTF-16.
  assert.equal(canonicalSelector(inSet('in', 'a', ['😀', 'Ａ', 'B', 'a'])), 'a in {"B", "a", "Ａ", "😀"}');
});

test('trees built by hand print the same as parsed ones', () => {
  assert.equal(canonicalSelector(compare('startsWith', 'x/y', 'p')), 'x/y starts with "p"');
});
