import assert from 'node:assert/strict';
import { test } from 'node:test';
import { NamespacedStore, splitKey } from './namespaced-store.js';
import { diffRelist } from './relist-diff.js';

const o = (namespace: string, name: string, v = 0) => ({ namespace, name, v });

test('objects are found by namespace and name; counts and namespaces follow sets and deletes', () => {
  const s = new NamespacedStore<ReturnType<typeof o>>();
  assert.equal(s.set(o('a', 'x')), undefined);
  s.set(o('a', 'y'));
  s.set(o('', 'node-1'));
  const prev = s.set(o('a', 'x', 1));
  assert.equal(prev?.v, 0);
  assert.equal(s.size, 3);
  assert.equal(s.get('a', 'x')?.v, 1);
  assert.deepEqual(
    [...s.inNamespace('a')].map((x) => x.name),
    ['x', 'y'],
  );
  assert.equal(s.delete('a', 'nope'), undefined);
  assert.equal(s.delete('a', 'x')?.name, 'x');
  assert.equal(s.delete('a', 'y')?.name, 'y');
  assert.deepEqual([...s.inNamespace('a')], []);
  assert.deepEqual(
    [...s.values()].map((x) => x.name),
    ['node-1'],
  );
  assert.equal(s.size, 1);
});

test('informer keys split into namespace and name', () => {
  assert.deepEqual(splitKey('shop/web-0'), { namespace: 'shop', name: 'web-0' });
  assert.deepEqual(splitKey('node-1'), { namespace: '', name: 'node-1' });
});

test('a relist diff: absent ones deleted, unequal ones modified, new ones added', () => {
  const s = new NamespacedStore<ReturnType<typeof o>>();
  for (const x of [o('a', 'same'), o('a', 'changed'), o('b', 'gone')]) s.set(x);
  const d = diffRelist(s, [o('a', 'same'), o('a', 'changed', 1), o('b', 'new')], (p, q) => p.v === q.v);
  assert.deepEqual(
    d.added.map((x) => x.name),
    ['new'],
  );
  assert.deepEqual(
    d.modified.map(([p, q]) => [p.v, q.v]),
    [[0, 1]],
  );
  assert.deepEqual(
    d.deleted.map((x) => x.name),
    ['gone'],
  );
});
