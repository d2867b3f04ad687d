import assert from 'node:assert/strict';
import { test } from 'node:test';
import { stableUid } from './stable-uid.js';

test('a stable uid is a version-5 UUID that depends only on cluster, kind and source uid', () => {
  // Fixed values: a change here would give every derived object a new uid across an upgrade.
  assert.equal(
    stableUid('west', 'Pod', '00000000-0000-4000-8000-000100000007'),
    '663f4a88-a638-570b-a98f-4ad9a0fcac5d',
  );
  assert.equal(stableUid('c1', 'Node', 'n-1-1'), 'e4a4f887-c038-5adc-ba48-31a23b138da1');
  assert.notEqual(stableUid('west', 'Pod', 'u'), stableUid('west', 'Node', 'u'));
});
