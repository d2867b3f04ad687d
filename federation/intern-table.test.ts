import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setImmediate } from 'node:timers/promises';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { hashSeed, hashString, InternTable } from './intern-table.js';

type Pair = { a: string; b: string };
const hashPair = (p: Pair) => hashString(hashString(hashSeed, p.a), p.b);
const samePair = (x: Pair, y: Pair) => x.a === y.a && x.b === y.b;

test('equal values share one frozen copy; adopt runs only for a new value', () => {
  const t = new InternTable<Pair>(hashPair, samePair);
  let adopted = 0;
  const adopt = (p: Pair) => {
    adopted++;
    return { ...p };
  };
  const first = t.intern({ a: 'x', b: 'y' }, adopt);
  assert.equal(t.intern({ a: 'x', b: 'y' }, adopt), first);
  assert.notEqual(t.intern({ a: 'x', b: 'z' }, adopt), first);
  assert.equal(adopted, 2);
  assert.ok(Object.isFrozen(first));
});

test('values whose hashes collide stay apart', () => {
  const t = new InternTable<Pair>(() => 7, samePair);
  const p = t.intern({ a: 'p', b: '' });
  const q = t.intern({ a: 'q', b: '' });
  const r = t.intern({ a: 'r', b: '' });
  assert.notEqual(p, q);
  assert.equal(t.intern({ a: 'q', b: '' }), q);
  assert.equal(t.intern({ a: 'r', b: '' }), r);
  assert.equal(t.size, 1);
});

test('the hash separates fields: (ab, c) and (a, bc) differ', () => {
  assert.notEqual(hashPair({ a: 'ab', b: 'c' }), hashPair({ a: 'a', b: 'bc' }));
});

test('a value nobody holds is collected and swept', async () => {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  const t = new InternTable<Pair>(hashPair, samePair);
  let held: Pair | undefined = t.intern({ a: 'kept', b: '1' });
  (() => t.intern({ a: 'dropped', b: '1' }))();
  assert.equal(t.size, 2);
  // WeakRef targets stay alive until the current job ends.
  await setImmediate();
  gc();
  t.sweep();
  assert.equal(t.size, 1);
  assert.equal(t.intern({ a: 'kept', b: '1' }), held);
  held = undefined;
});
