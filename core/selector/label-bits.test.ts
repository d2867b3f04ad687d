import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LabelBits, OVERFLOW_BIT, readsAnyOf } from './label-bits.js';

test('each read key gets its own bit; unknown keys have none', () => {
  const bits = new LabelBits();
  const ab = bits.maskOf(['a', 'b']);
  assert.equal(ab, 0b11);
  assert.equal(bits.bitOf('b'), 0b10);
  assert.equal(bits.bitOf('never-read'), 0);
  assert.equal(bits.maskOf(['b', 'c']), 0b110);
});

test('past 30 keys, bits are shared and a hit is confirmed against the keys', () => {
  const bits = new LabelBits();
  const keys = Array.from({ length: 40 }, (_, i) => `k${i}`);
  const reads35 = new Set(['k35']);
  const mask35 = bits.maskOf(keys.slice(0, 30).concat(['k35']));
  assert.equal(bits.bitOf('k35'), OVERFLOW_BIT);
  bits.maskOf(['k36']);
  assert.equal(bits.bitOf('k36'), OVERFLOW_BIT);
  // A selector reading only k35: a change of k36 shares the overflow bit but is not read.
  const only35 = bits.maskOf(['k35']);
  assert.equal(readsAnyOf(only35, reads35, bits.bitOf('k36'), ['k36']), false);
  assert.equal(readsAnyOf(only35, reads35, bits.bitOf('k35'), ['k35']), true);
  assert.equal(readsAnyOf(mask35, new Set(keys), bits.bitOf('k0'), ['k0']), true);
  assert.equal(readsAnyOf(only35, reads35, 0, []), false);
});
