import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { SlotSet } from './slot-set.js';

function members(set: SlotSet): number[] {
  const out: number[] = [];
  set.forEach((slot) => {
    out.push(slot);
  });
  return out.sort((a, b) => a - b);
}

test('a small set behaves as a set', () => {
  const set = new SlotSet();
  set.add(5, 1000);
  set.add(5, 1000);
  set.add(7, 1000);
  assert.equal(set.size, 2);
  assert.ok(set.has(5) && set.has(7) && !set.has(6));
  set.delete(5);
  set.delete(5);
  assert.deepEqual(members(set), [7]);
});

test('a set that grows past the bitmap size turns into a bitmap and back, keeping its members', () => {
  const set = new SlotSet();
  const limit = 10_000;
  for (let slot = 0; slot < 2_000; slot += 2) set.add(slot, limit);
  assert.equal(set.size, 1_000);
  assert.ok(set.has(1_998) && !set.has(1_999));
  set.add(9_999, limit);
  set.add(40_000, 40_001); // past the bitmap's end: it grows
  assert.ok(set.has(40_000));
  for (let slot = 0; slot < 2_000; slot += 2) set.delete(slot);
  assert.deepEqual(members(set), [9_999, 40_000]);
  assert.equal(set.size, 2);
  assert.ok(!set.has(123_456));
});

test('property: SlotSet agrees with Set under any sequence of adds and deletes', () => {
  fc.assert(
    fc.property(
      fc.array(fc.tuple(fc.boolean(), fc.integer({ min: 0, max: 300 })), { maxLength: 400 }),
      fc.integer({ min: 1, max: 400 }),
      (ops, limit) => {
        const set = new SlotSet();
        const model = new Set<number>();
        for (const [add, slot] of ops) {
          if (add) {
            set.add(slot, Math.max(limit, slot + 1));
            model.add(slot);
          } else {
            set.delete(slot);
            model.delete(slot);
          }
          assert.equal(set.size, model.size);
          assert.equal(set.has(slot), model.has(slot));
        }
        assert.deepEqual(
          members(set),
          [...model].sort((a, b) => a - b),
        );
      },
    ),
    { numRuns: 300 },
  );
});
