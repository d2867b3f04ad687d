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
