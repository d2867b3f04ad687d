import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EndpointTable } from './endpoint-table.js';

test('entries by cluster, namespace and name: replaced, counted, deleted, listed', () => {
  const t = new EndpointTable<number>();
  t.set('east', 'demo', 'a', 1);
  t.set('east', 'demo', 'a', 2);
  t.set('east', 'other', 'a', 3);
  t.set('west', 'demo', 'a', 4);
  assert.equal(t.size, 3);
  assert.equal(t.get('east', 'demo', 'a'), 2);
  assert.equal(t.get('east', 'demo', 'b'), undefined);
  assert.deepEqual([...t.values()].sort(), [2, 3, 4]);
  // Names that would run into each other if they were joined into one key.
  t.set('east', 'demo/x', 'y', 5);
  t.set('east', 'demo', 'x/y', 6);
  assert.equal(t.get('east', 'demo/x', 'y'), 5);
  assert.equal(t.get('east', 'demo', 'x/y'), 6);
  assert.equal(t.delete('east', 'demo', 'a'), true);
  assert.equal(t.delete('east', 'demo', 'a'), false);
  assert.equal(t.delete('south', 'demo', 'a'), false);
  assert.equal(t.size, 4);
  assert.deepEqual([...t.values()].sort(), [3, 4, 5, 6]);
});
