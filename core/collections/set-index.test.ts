import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SetIndex } from './set-index.js';

test('values move between groups; a group left empty is gone', () => {
  const index = new SetIndex<string, string>();
  index.move('svc-a', [], ['b1', 'b2']);
  index.add('b1', 'svc-b');
  assert.deepEqual([...index.get('b1')], ['svc-a', 'svc-b']);
  index.move('svc-a', ['b1', 'b2'], ['b3']);
  assert.deepEqual([...index.get('b1')], ['svc-b']);
  assert.deepEqual([...index.keys()].sort(), ['b1', 'b3']);
  index.delete('b1', 'svc-b');
  index.delete('b1', 'never-there');
  assert.deepEqual([...index.keys()], ['b3']);
  assert.equal(index.get('b1').size, 0);
});
