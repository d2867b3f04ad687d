import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { admissionResponseJson, allow, deny } from './admission-review.js';

test('admissionResponseJson is JSON.stringify of the answer, allowed or denied, with or without warnings', () => {
  const uids = ['uid-1', 'ü-1', 'a"b', 'a\\b', 'line\nbreak', '\u2028', '\ud800', '😀', '\u0000\u001f\u007f', ''];
  for (const uid of uids) {
    for (const answer of [
      allow(uid),
      allow(uid, ['one warning', 'two\nlines']),
      deny(uid, 'no'),
      deny(uid, 'no', ['w']),
    ]) {
      assert.equal(admissionResponseJson(answer), JSON.stringify(answer), JSON.stringify(answer));
    }
  }
  fc.assert(
    fc.property(fc.string({ unit: 'binary', maxLength: 40 }), (uid) => {
      assert.equal(admissionResponseJson(allow(uid)), JSON.stringify(allow(uid)));
    }),
    { numRuns: 2000 },
  );
});
