import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Gate } from './gate.js';

test('never more than width at once, and every caller runs', async () => {
  const gate = new Gate(2);
  let now = 0;
  let peak = 0;
  const results = await Promise.all(
    Array.from({ length: 7 }, (_, i) =>
      gate.run(async () => {
        now++;
        peak = Math.max(peak, now);
        await new Promise((r) => setTimeout(r, 5));
        now--;
        return i;
      }),
    ),
  );
  assert.equal(peak, 2);
  assert.deepEqual(results, [0, 1, 2, 3, 4, 5, 6]);
});

test('a lane holds at most its width of its parent: a lane whose holders never finish leaves the rest to others', async () => {
  const shared = new Gate(2);
  const hostile = new Gate(1, shared);
  const other = new Gate(1, shared);
  let hostileRunning = 0;
  // Four lists that never end, from one cluster: only one takes a shared slot.
  for (let i = 0; i < 4; i++) {
    void hostile.run(() => {
      hostileRunning++;
      return new Promise<void>(() => {});
    });
  }
  const ran = await Promise.race([
    other.run(async () => 'ran'),
    new Promise((r) => setTimeout(() => r('starved'), 200)),
  ]);
  assert.equal(ran, 'ran');
  assert.equal(hostileRunning, 1);
});
