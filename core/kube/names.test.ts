import assert from 'node:assert/strict';
import { test } from 'node:test';
import { dns1123LabelError } from './names.js';

test('DNS-1123 labels: accepted and refused names, with reasons', () => {
  for (const ok of ['east', 'us-west-2', 'a', '0', 'a'.repeat(63)]) assert.equal(dns1123LabelError(ok), undefined, ok);
  assert.match(dns1123LabelError('') ?? '', /empty/);
  assert.match(dns1123LabelError('a'.repeat(64)) ?? '', /63 characters \(has 64\)/);
  for (const bad of ['East', 'west.1', '-a', 'a-', 'a_b', 'a b']) {
    assert.match(dns1123LabelError(bad) ?? '', /lower case alphanumeric/, bad);
  }
});
