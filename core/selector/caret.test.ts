import assert from 'node:assert/strict';
import { test } from 'node:test';
import { caretUnder } from './caret.js';

test('the caret sits under the position', () => {
  assert.equal(caretUnder('a == b', 5), '  a == b\n       ^');
  assert.equal(caretUnder('a == b', 0, ''), 'a == b\n^');
  assert.equal(caretUnder('a ==', 4, ''), 'a ==\n    ^');
});

test('tabs are kept so that the caret lines up', () => {
  assert.equal(caretUnder('a\t==\tb', 5, ''), 'a\t==\tb\n \t  \t^');
});

test('only the line holding the position is shown', () => {
  assert.equal(caretUnder('a == "x\ny" &&\n%', 14, ''), '%\n^');
  assert.equal(caretUnder('a ==\n"b"', 4, ''), 'a ==\n    ^');
  assert.equal(caretUnder('\nabc', 0, ''), '\n^');
});

test('control characters show as pictures, astral characters take one column', () => {
  assert.equal(caretUnder('a\r== %', 5, ''), 'a\u240d== %\n     ^');
  assert.equal(caretUnder('"😀" %', 5, ''), '"😀" %\n    ^');
});
