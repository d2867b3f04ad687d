import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { setImmediate } from 'node:timers/promises';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { hashSeed, hashString, InternTable, MAX_BUCKET } from './intern-table.js';

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

test('values built to collide cost a bounded walk each: a full bucket shares no more of them', () => {
  let comparisons = 0;
  const t = new InternTable<Pair>(
    () => 7,
    (x, y) => {
      comparisons++;
      return samePair(x, y);
    },
  );
  const n = 4000;
  const first = Array.from({ length: n }, (_, i) => t.intern({ a: `v${i}`, b: '' }));
  // Walking the whole bucket each time: n²/2, 8 million comparisons here.
  assert.ok(comparisons <= n * MAX_BUCKET, `${comparisons} comparisons for ${n} values`);
  for (let i = 0; i < n; i++) {
    const again = t.intern({ a: `v${i}`, b: '' });
    assert.deepEqual(again, { a: `v${i}`, b: '' });
    assert.ok(Object.isFrozen(again));
    if (i < MAX_BUCKET) assert.equal(again, first[i], 'the first ones stay shared');
  }
});

test('the hash seed is drawn at start (collisions searched offline do not carry over)', () => {
  const seeds = new Set<number>();
  for (let i = 0; i < 3; i++) {
    const r = spawnSync(process.execPath, [
      '--input-type=module',
      '-e',
      `import(${JSON.stringify(new URL('./intern-table.js', import.meta.url).href)}).then((m) => console.log(m.hashSeed))`,
    ]);
    seeds.add(Number(r.stdout.toString().trim()));
  }
  assert.equal(seeds.size, 3);
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
