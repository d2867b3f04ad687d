import assert from 'node:assert/strict';
import { test } from 'node:test';
import { backoffDelay } from './backoff.js';

const noJitter = { initialMs: 500, maxMs: 30_000, jitter: 0 };

test('doubles from the initial delay and stops at the cap', () => {
  assert.deepEqual(
    [0, 1, 2, 3, 6, 7, 100].map((a) => backoffDelay(noJitter, a)),
    [500, 1000, 2000, 4000, 30_000, 30_000, 30_000],
  );
});

test('jitter stays within its fraction and never passes the cap', () => {
  const p = { initialMs: 1000, maxMs: 5000, jitter: 0.2 };
  assert.equal(
    backoffDelay(p, 0, () => 0),
    800,
  );
  assert.equal(
    backoffDelay(p, 0, () => 1),
    1200,
  );
  assert.equal(
    backoffDelay(p, 10, () => 1),
    5000,
  );
});
