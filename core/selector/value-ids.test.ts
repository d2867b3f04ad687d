import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ABSENT, ValueIds } from './value-ids.js';

test('a value keeps its id while an item or a selector holds it, and the id is reused after', () => {
  const ids = new ValueIds();
  const x = ids.idOf('x');
  assert.notEqual(x, ABSENT);
  assert.equal(ids.idOf('x'), x);
  ids.moveItem(0, ABSENT, x);
  ids.moveItem(1, ABSENT, x);
  ids.retainBySelector(x);
  assert.equal(ids.itemCount(x), 2);
  assert.equal(ids.itemTotal, 2);
  ids.moveItem(0, x, ABSENT);
  ids.moveItem(1, x, ABSENT);
  assert.equal(ids.peek('x'), x, 'still named by a selector');
  assert.equal(ids.valueOf(x), 'x');
  ids.releaseBySelector(x);
  assert.equal(ids.peek('x'), ABSENT);
  assert.equal(ids.size, 0);
  const y = ids.idOf('y');
  assert.equal(y, x, 'the freed id is reused');
  assert.equal(ids.valueOf(y), 'y');
  assert.equal(ids.itemTotal, 0);
});

test('moving an item between values moves the counts', () => {
  const ids = new ValueIds();
  const a = ids.idOf('a');
  ids.moveItem(0, ABSENT, a);
  const b = ids.idOf('b');
  ids.moveItem(0, a, b);
  assert.equal(ids.itemCount(b), 1);
  assert.equal(ids.peek('a'), ABSENT, 'no one holds a');
  assert.equal(ids.itemTotal, 1);
});

test('each value lists the slots holding it, through moves and removals in any order', () => {
  const ids = new ValueIds();
  const a = ids.idOf('a');
  const b = ids.idOf('b');
  for (let slot = 0; slot < 6; slot++) ids.moveItem(slot, ABSENT, a);
  ids.moveItem(0, a, b); // the first: the last slot takes its place in a's list
  ids.moveItem(3, a, ABSENT);
  ids.moveItem(5, a, b); // the last
  const sorted = (xs: readonly number[]) => [...xs].sort((x, y) => x - y);
  assert.deepEqual(sorted(ids.slotsWith(a)), [1, 2, 4]);
  assert.deepEqual(sorted(ids.slotsWith(b)), [0, 5]);
  assert.equal(ids.itemCount(a), 3);
  for (const slot of [2, 1, 4]) ids.moveItem(slot, a, ABSENT);
  assert.deepEqual(ids.slotsWith(a), []);
  assert.equal(ids.itemTotal, 2);
});
