import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { LabelTable } from './label-table.js';

test('get, has, set, delete and listing, like a Map', () => {
  const t = new LabelTable();
  t.set('app', 'db');
  t.set('tier', 'x');
  t.set('app', 'web');
  assert.equal(t.size, 2);
  assert.equal(t.get('app'), 'web');
  assert.equal(t.get('nope'), undefined);
  assert.ok(t.has('tier') && !t.has('nope'));
  t.delete('app');
  t.delete('app');
  assert.deepEqual([...t], [['tier', 'x']]);
  const seen: string[] = [];
  t.forEach((v, k) => {
    seen.push(`${k}=${v}`);
  });
  assert.deepEqual(seen, ['tier=x']);
});

test('indexOf looks from the hint first, then wraps around', () => {
  const t = new LabelTable();
  for (const k of ['a', 'b', 'c']) t.set(k, k.toUpperCase());
  assert.equal(t.indexOf('c', 2), 2);
  assert.equal(t.indexOf('a', 2), 0);
  assert.equal(t.indexOf('b', 9), 1);
  assert.equal(t.indexOf('z', 1), -1);
  assert.equal(t.valueAt(t.indexOf('b', 0)), 'B');
});

test('property: LabelTable agrees with Map', () => {
  const key = fc.constantFrom('a', 'b', 'c', 'd', 'e');
  fc.assert(
    fc.property(
      fc.array(fc.tuple(key, fc.option(fc.string({ maxLength: 3 }), { nil: undefined })), { maxLength: 40 }),
      (ops) => {
        const t = new LabelTable();
        const m = new Map<string, string>();
        for (const [k, v] of ops) {
          if (v === undefined) {
            t.delete(k);
            m.delete(k);
          } else {
            t.set(k, v);
            m.set(k, v);
          }
        }
        assert.equal(t.size, m.size);
        assert.deepEqual(new Map(t), m);
        for (const k of ['a', 'b', 'c', 'd', 'e', 'f']) assert.equal(t.get(k), m.get(k));
      },
    ),
  );
});
