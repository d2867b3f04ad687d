import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ItemRows } from './item-rows.js';

test('rows keep their values when rows or columns are added', () => {
  const rows = new ItemRows();
  rows.ensure(2, 0);
  rows.data[rows.base(2) + 1] = 7;
  rows.data[rows.base(1) + 3] = 5;
  rows.ensure(500, 0);
  rows.ensure(3, 9);
  assert.ok(rows.stride > 9);
  assert.equal(rows.data[rows.base(2) + 1], 7);
  assert.equal(rows.data[rows.base(1) + 3], 5);
  assert.equal(rows.data[rows.base(500) + 9], 0);
  rows.clearRow(2);
  assert.equal(rows.data[rows.base(2) + 1], 0);
  assert.equal(rows.data[rows.base(1) + 3], 5);
});
