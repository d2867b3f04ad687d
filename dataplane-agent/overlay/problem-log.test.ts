import assert from 'node:assert/strict';
import { test } from 'node:test';
import { OverlayProblemLog } from './problem-log.js';

test('a problem is logged when it appears, not again while it stays; past the bound only counted', () => {
  const log = new OverlayProblemLog(3);
  const many = Array.from({ length: 10_000 }, (_, i) => `node east.n${i}: pod CIDR refused`);
  assert.deepEqual(log.next(many), { lines: many.slice(0, 3), more: 9_997 });
  assert.deepEqual(log.next(many), { lines: [], more: 0 }, 'the same problems on the next flush: nothing');
  assert.deepEqual(log.next([...many, 'new one']), { lines: ['new one'], more: 0 });
  assert.deepEqual(log.next([]), { lines: [], more: 0 });
  assert.deepEqual(log.next(['new one']), { lines: ['new one'], more: 0 }, 'back after it went: logged again');
});
