import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ABSENT, ValueIds } from './value-ids.js';

test('a value keeps its id while an item or a selector holds it, and the id is reused after', () => {
  const ids = new ValueIds();
  const x = ids.idOf('x');
  assert.notEqual(x, ABSENT);
  assert.equal(ids.idOf('x'), x);
  ids.moveItem(ABSENT, x);
  ids.moveItem(ABSENT, x);
  ids.retainBySelector(x);
  assert.equal(ids.itemCount(x), 2);
  assert.equal(ids.itemTotal, 2);
  ids.moveItem(x, ABSENT);
  ids.moveItem(x, ABSENT);
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
  ids.moveItem(ABSENT, a);
  const b = ids.idOf('b');
  ids.moveItem(a, b);
  assert.equal(ids.itemCount(b), 1);
  assert.equal(ids.peek('a'), ABSENT, 'no one holds a');
  assert.equal(ids.itemTotal, 1);
});
