import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EventHistory } from './event-history.js';

test('holds the last N events and answers "too old" beyond them', () => {
  const h = new EventHistory<{ revision: number }>(3);
  for (let r = 1; r <= 5; r++) h.push({ revision: r });
  assert.equal(h.oldest, 3);
  assert.deepEqual(
    h.since(2, 5)?.map((e) => e.revision),
    [3, 4, 5],
  );
  assert.deepEqual(
    h.since(4, 5)?.map((e) => e.revision),
    [5],
  );
  assert.deepEqual(h.since(5, 5), []);
  assert.equal(h.since(1, 5), undefined);
  assert.equal(h.since(9, 5), undefined);
  assert.throws(() => h.push({ revision: 9 }), /does not follow/);
});
