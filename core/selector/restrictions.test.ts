import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseSelector } from './parser.js';
import { requiredLabels } from './restrictions.js';

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
