import assert from 'node:assert/strict';
import { test } from 'node:test';
import { newRvOrigin } from './resource-version.js';
import { type ServedObject, ServedStore, type StoreEvent } from './served-store.js';

function rwl(name: string, labels: Record<string, string> = {}, ip = '10.0.0.1'): ServedObject {
  return {
    resource: 'remoteworkloads',
    key: `shop/${name}`,
    namespace: 'shop',
    name,
    labels,
    fields: { 'metadata.name': name },
    object: { kind: 'RemoteWorkload', metadata: { name, namespace: 'shop', labels }, spec: { ip } },
    cells: [name],
  };
}

test('every change gets its own increasing resourceVersion; no-op updates are no events', () => {
  const s = new ServedStore(100, newRvOrigin(1_700_000_000n));
  const seen: StoreEvent[] = [];
  s.subscribe((evs) => seen.push(...evs));
  const start = s.currentRv;
  s.apply([
    { type: 'upsert', object: rwl('a') },
    { type: 'upsert', object: rwl('b') },
  ]);
  s.apply([{ type: 'upsert', object: rwl('a') }]); // same content
  s.apply([
    { type: 'upsert', object: rwl('a', {}, '10.0.0.2') },
    { type: 'delete', resource: 'remoteworkloads', key: 'shop/b' },
  ]);
  assert.deepEqual(
    seen.map((e) => [e.type, e.object.name, e.object.rv - start]),
    [
      ['ADDED', 'a', 1n],
      ['ADDED', 'b', 2n],
      ['MODIFIED', 'a', 3n],
      ['DELETED', 'b', 4n],
    ],
  );
  assert.equal(seen[2]?.prev?.object.spec && (seen[2].prev.object.spec as { ip: string }).ip, '10.0.0.1');
  assert.equal(s.get('remoteworkloads', 'shop/a')?.object.metadata.resourceVersion, String(start + 3n));
  assert.equal(String(s.currentRv).slice(0, 10), '1700000000', 'resourceVersions carry the epoch');
});

test('snapshots are sorted by key and shared until the next change', () => {
  const s = new ServedStore();
  s.apply([
    { type: 'upsert', object: rwl('c') },
    { type: 'upsert', object: rwl('a') },
  ]);
  const one = s.snapshot('remoteworkloads');
  assert.deepEqual(
    one.items.map((o) => o.name),
    ['a', 'c'],
  );
  assert.equal(s.snapshot('remoteworkloads').items, one.items);
  s.apply([{ type: 'upsert', object: rwl('b') }]);
  assert.notEqual(s.snapshot('remoteworkloads').items, one.items);
  assert.equal(one.items.length, 2, 'an earlier snapshot is not changed');
});

test('watch resume: events after a version, expired beyond the history or from another epoch', () => {
  const s = new ServedStore(3, newRvOrigin(1_700_000_000n));
  s.apply([{ type: 'upsert', object: rwl('a') }]);
  const afterA = s.currentRv;
  s.apply([
    { type: 'upsert', object: rwl('b') },
    { type: 'upsert', object: rwl('c') },
  ]);
  const since = s.eventsSince(afterA);
  assert.ok(since !== 'expired');
  assert.deepEqual(
    since.map((e) => e.object.name),
    ['b', 'c'],
  );
  s.apply([
    { type: 'upsert', object: rwl('d') },
    { type: 'upsert', object: rwl('e') },
  ]);
  assert.equal(s.eventsSince(afterA), 'expired', 'the history holds only 3 events');
  assert.equal(s.eventsSince(1_600_000_000_000_000_005n), 'expired', 'a version from another process');
  const other = new ServedStore(3, newRvOrigin(1_800_000_000n));
  assert.equal(other.ownsRv(s.currentRv), false);
});

test('two replicas started in the same second issue different versions: neither resumes from the other', () => {
  const a = new ServedStore(100, newRvOrigin(1_700_000_000n));
  const b = new ServedStore(100, newRvOrigin(1_700_000_000n));
  for (const s of [a, b]) s.apply([{ type: 'upsert', object: rwl('a') }]);
  const fromA = a.currentRv;
  for (const s of [a, b]) s.apply([{ type: 'upsert', object: rwl('b') }]);
  assert.notEqual(a.currentRv, b.currentRv, 'the same history on two replicas still gives different versions');
  assert.equal(b.ownsRv(fromA), false);
  assert.equal(b.eventsSince(fromA), 'expired', "a version of the other replica: 410, not a diff against b's history");
  assert.deepEqual(
    (a.eventsSince(fromA) as StoreEvent[]).map((e) => e.object.name),
    ['b'],
  );
});

test('the history keeps the newest events when it wraps, each read without copying the rest', () => {
  const s = new ServedStore(4, newRvOrigin());
  const start = s.currentRv;
  for (let i = 0; i < 10; i++) s.apply([{ type: 'upsert', object: rwl(`p${i}`) }]);
  assert.equal(s.eventsSince(start + 5n), 'expired');
  assert.deepEqual(
    (s.eventsSince(start + 6n) as StoreEvent[]).map((e) => e.object.name),
    ['p6', 'p7', 'p8', 'p9'],
  );
  assert.equal(s.oldestResumableRv, start + 6n);
});
