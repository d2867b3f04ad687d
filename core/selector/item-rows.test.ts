import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ItemRows } from './item-rows.js';

test('rows and columns keep their values when rows or columns are added', () => {
  const rows = new ItemRows();
  rows.ensure(2, 3);
  rows.set(2, 1, 7);
  rows.set(1, 3, 5);
  rows.ensure(500, 0);
  rows.ensure(3, 9);
  assert.ok(rows.stride > 9);
  assert.equal(rows.data[rows.base(2) + 1], 7);
  assert.equal(rows.data[rows.base(1) + 3], 5);
  assert.equal(rows.byColumn[1]![2], 7);
  assert.equal(rows.byColumn[3]![1], 5);
  assert.equal(rows.byColumn.length, 10);
  assert.ok(rows.byColumn[9]!.length > 500, 'a new column has room for every row');
  assert.equal(rows.data[rows.base(500) + 9], 0);
  rows.clearRow(2);
  assert.equal(rows.data[rows.base(2) + 1], 0);
  assert.equal(rows.byColumn[1]![2], 0);
  assert.equal(rows.byColumn[3]![1], 5);
});
