import assert from 'node:assert/strict';
import { test } from 'node:test';
import { backoffDelay, defaultBackoff, RetryBackoff } from './backoff.js';

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

test('retry waits grow with every failure and start over only after a quiet period (client-go)', () => {
  let now = 0;
  const r = new RetryBackoff({ initialMs: 800, maxMs: 30_000, jitter: 0, resetAfterMs: 120_000 }, () => now);
  const waits: number[] = [];
  for (let i = 0; i < 8; i++) {
    waits.push(r.next());
    now += (waits.at(-1) ?? 0) + 100; // each try fails soon after its wait, whatever worked in between
  }
  assert.deepEqual(waits, [800, 1600, 3200, 6400, 12_800, 25_600, 30_000, 30_000]);
  now += 120_001;
  assert.equal(r.next(), 800, 'two quiet minutes: from the start again');
  assert.deepEqual(
    [defaultBackoff.initialMs, defaultBackoff.maxMs, defaultBackoff.resetAfterMs],
    [800, 30_000, 120_000],
    'the default is client-go reflector’s',
  );
});

test('reset: after a success the next failure waits the first delay again', () => {
  const r = new RetryBackoff({ initialMs: 100, maxMs: 1000, jitter: 0, resetAfterMs: 0 });
  assert.deepEqual([r.next(), r.next(), r.next()], [100, 200, 400]);
  r.reset();
  assert.equal(r.next(), 100);
});
