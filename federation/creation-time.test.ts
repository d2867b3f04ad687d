import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createdSeconds, creationTimestamp } from './creation-time.js';

test('a creationTimestamp survives the round trip, as a small integer', () => {
  const created = createdSeconds('2026-11-29T10:11:12Z');
  assert.ok(Number.isInteger(created) && created > 0 && created < 2 ** 31);
  assert.equal(creationTimestamp(created), '2026-11-29T10:11:12Z');
  assert.equal(creationTimestamp(createdSeconds('2019-06-01T00:00:00Z')), '2019-06-01T00:00:00Z', 'before the epoch');
});

test('a missing or malformed timestamp is unknown', () => {
  assert.equal(createdSeconds(undefined), 0);
  assert.equal(createdSeconds('yesterday'), 0);
  assert.equal(creationTimestamp(0), undefined);
});
