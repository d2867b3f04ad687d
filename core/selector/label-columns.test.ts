import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LabelColumns } from './label-columns.js';

test('a column lives while a selector reads its key, and is reused with fresh value ids', () => {
  const columns = new LabelColumns();
  const app = columns.retain('app');
  assert.deepEqual(app, { column: 0, created: true });
  assert.deepEqual(columns.retain('app'), { column: 0, created: false });
  assert.equal(columns.retain('env').column, 1);
  columns.values[0]!.idOf('web');
  assert.deepEqual(columns.activeKeys, ['app', 'env']);
  columns.release('app');
  assert.equal(columns.columnOf('app'), 0, 'one reader left');
  columns.release('app');
  assert.equal(columns.columnOf('app'), undefined);
  assert.deepEqual(columns.active, [1]);
  assert.deepEqual(columns.retain('tier'), { column: 0, created: true });
  assert.equal(columns.values[0]!.peek('web'), 0, 'the reused column starts with no values');
  assert.deepEqual(columns.activeKeys, ['tier', 'env']);
});
