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
  assert.equal([...index.get('b1')].length, 0);
});

test('a group changes between one value and several without losing or duplicating any', () => {
  const index = new SetIndex<string, string>();
  index.add('ip', 'a');
  index.add('ip', 'a'); // again: still one
  assert.deepEqual([...index.get('ip')], ['a']);
  index.add('ip', 'b');
  index.add('ip', 'c');
  assert.deepEqual([...index.get('ip')].sort(), ['a', 'b', 'c']);
  index.delete('ip', 'b');
  index.delete('ip', 'a');
  assert.deepEqual([...index.get('ip')], ['c']);
  assert.deepEqual([...index.keys()], ['ip']);
  index.add('ip', 'd');
  assert.deepEqual([...index.get('ip')].sort(), ['c', 'd']);
  index.delete('ip', 'x'); // never there
  index.delete('ip', 'c');
  index.delete('ip', 'd');
  assert.deepEqual([...index.get('ip')], []);
  assert.deepEqual([...index.keys()], []);
  // Keys listed once each, whichever shape their group has.
  index.add('one', 'a');
  index.move('b', [], ['two', 'one']);
  assert.deepEqual([...index.keys()].sort(), ['one', 'two']);
});

test('undefined is a value like any other', () => {
  const index = new SetIndex<string, string | undefined>();
  index.add('k', undefined);
  assert.deepEqual([...index.get('k')], [undefined]);
  assert.deepEqual([...index.keys()], ['k']);
  index.add('k', 'v');
  assert.deepEqual([...index.get('k')], [undefined, 'v']);
  index.delete('k', 'v');
  assert.deepEqual([...index.get('k')], [undefined]);
  index.delete('k', undefined);
  assert.deepEqual([...index.keys()], []);
});
