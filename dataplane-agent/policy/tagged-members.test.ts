import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TaggedMembers } from './tagged-members.js';

test('elements are `ip . tag`; one shared by two contributors stays until both are gone', () => {
  const a = { text: '0x00000001' };
  const b = { text: '0x00000002' };
  const m = new TaggedMembers();
  assert.equal(m.add(a, '10.0.0.1'), true);
  assert.equal(m.add(a, '10.0.0.1'), false, 'a second pod with the same IP');
  assert.equal(m.add(b, '10.0.0.1'), true);
  assert.deepEqual([...m], ['10.0.0.1 . 0x00000001', '10.0.0.1 . 0x00000002']);
  assert.equal(m.size, 2);
  assert.equal(m.delete(a, '10.0.0.1'), false);
  assert.equal(m.delete(a, '10.0.0.1'), true);
  assert.equal(m.delete(a, '10.0.0.1'), false, 'not there any more');
  assert.deepEqual([...m], ['10.0.0.1 . 0x00000002']);
  assert.equal(m.size, 1);
});
