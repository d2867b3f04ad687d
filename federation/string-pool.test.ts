import assert from 'node:assert/strict';
import { test } from 'node:test';
import { StringPool } from './string-pool.js';

test('equal strings come back as one shared copy', () => {
  const pool = new StringPool(8);
  pool.intern('kube-system');
  pool.intern(['kube', 'system'].join('-'));
  assert.equal(pool.size, 1);
  assert.ok(pool.holds('kube-system'));
});

test('churning strings do not pile up: the pool stays within two generations', () => {
  const pool = new StringPool(100);
  let largest = 0;
  for (let i = 0; i < 10_000; i++) {
    pool.intern(`web-${i.toString(16)}`);
    // Strings in steady use keep being found among the churn.
    pool.intern('default');
    largest = Math.max(largest, pool.size);
  }
  assert.ok(largest <= 200, `pool grew to ${largest}`);
  assert.ok(pool.size > 0);
});

test('a string in use across turnovers stays pooled; one not met for two generations is dropped', () => {
  const pool = new StringPool(4);
  pool.intern('node-a');
  pool.intern('gone');
  for (let round = 0; round < 5; round++) {
    for (let i = 0; i < 4; i++) pool.intern(`churn-${round}-${i}`);
    pool.intern('node-a');
    assert.ok(pool.holds('node-a'), `round ${round}`);
  }
  assert.ok(!pool.holds('gone'));
});
