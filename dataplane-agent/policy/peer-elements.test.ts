import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PeerElements, type Tag } from './peer-elements.js';

test('elements are implied by the contributions; a shared address counts per tag and is written once', () => {
  const a: Tag = { text: '0x00000001' };
  const b: Tag = { text: '0x00000002' };
  // What the calculation would yield: 10.0.0.1 held by two endpoints, both selected by a.
  let contributions: [Tag, string[]][] = [];
  const els = new PeerElements<Tag>(() => contributions);
  assert.equal(els.contribute(a, '10.0.0.1', true), true);
  assert.equal(els.contribute(b, '10.0.0.1', true), true);
  // A second endpoint takes 10.0.0.1: the first contributes it to a and b.
  els.share('10.0.0.1', [a, b]);
  assert.equal(els.contribute(a, '10.0.0.1', true), false, 'already there');
  contributions = [
    [a, ['10.0.0.1', '10.0.0.1']],
    [b, ['10.0.0.1']],
  ];
  assert.deepEqual([...els], ['10.0.0.1 . 0x00000001', '10.0.0.1 . 0x00000002']);
  assert.equal(els.size, 2);
  assert.equal(els.contribute(a, '10.0.0.1', false), false, 'the other endpoint still contributes it');
  assert.equal(els.contribute(a, '10.0.0.1', false), true);
  assert.equal(els.contribute(a, '10.0.0.1', false), false, 'not there any more');
  assert.equal(els.size, 1);
  els.unshare('10.0.0.1');
  assert.equal(els.isShared('10.0.0.1'), false);
  assert.equal(els.contribute(b, '10.0.0.1', false), true);
  assert.equal(els.size, 0);
});
