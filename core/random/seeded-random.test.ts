import assert from 'node:assert/strict';
import { test } from 'node:test';
import { seededRandom } from './seeded-random.js';

test('seededRandom: the same seed gives the same sequence, in [0, 1); another seed another one', () => {
  const take = (seed: number) => {
    const r = seededRandom(seed);
    return Array.from({ length: 100 }, () => r());
  };
  const a = take(42);
  assert.deepEqual(take(42), a);
  assert.notDeepEqual(take(43), a);
  for (const x of a) assert.ok(x >= 0 && x < 1, `${x} out of range`);
  assert.ok(new Set(a).size > 95);
});
