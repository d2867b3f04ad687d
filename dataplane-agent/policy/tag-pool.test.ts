import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TagPool, tagExpression, tagText } from './tag-pool.js';

test('a released tag is given out again only after recycle()', () => {
  const pool = new TagPool();
  const a = pool.take();
  const b = pool.take();
  assert.notEqual(a, b);
  pool.release(a);
  const c = pool.take();
  assert.ok(c !== a && c !== b, 'not reused within the batch that released it');
  pool.recycle();
  assert.equal(pool.take(), a);
});

test('tags are written as nft writes marks', () => {
  assert.equal(tagText(42), '0x0000002a');
  assert.equal(tagExpression(1), '(meta mark & 0x00000000 | 0x00000001)');
});
