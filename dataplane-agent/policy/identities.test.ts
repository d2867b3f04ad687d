import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Identities, type Member } from './identities.js';

const labelsOf =
  (labels: Record<string, string>) =>
  (key: string): string | undefined =>
    labels[key];

test('endpoints agreeing on the read keys share an identity; a key read later splits them', () => {
  const ids = new Identities<string, Member>();
  const made: Record<string, string>[] = [];
  const find = (labels: Record<string, string>) => ids.find(labelsOf(labels), (i) => made.push(i.labels));
  ids.addKeys(['app']);
  const a = find({ app: 'web', hash: '1' });
  assert.equal(find({ app: 'web', hash: '2' }), a, 'a key no selector reads does not tell them apart');
  assert.notEqual(find({ app: 'db' }), a);
  const none = find({ hash: '3' });
  assert.notEqual(none, a, 'absent is a value of its own');
  assert.deepEqual(none.labels, {});
  assert.equal(ids.size, 3);
  assert.deepEqual(made, [{ app: 'web' }, { app: 'db' }, {}]);
  assert.equal(ids.addKeys(['app']), false);
  assert.equal(ids.addKeys(['hash', 'app']), true);
  assert.equal(ids.size, 0, 'every identity is forgotten: the caller regroups');
  const web1 = find({ app: 'web', hash: '1' });
  assert.notEqual(find({ app: 'web', hash: '2' }), web1);
  assert.deepEqual(web1.labels, { app: 'web', hash: '1' });
  assert.deepEqual(web1.values, ['web', '1']);
});

test('values cannot run into each other: "a" + "bc" is not "ab" + "c", nor an absent label an empty one', () => {
  const ids = new Identities<string, Member>();
  ids.addKeys(['x', 'y']);
  const noop = () => {};
  const ab = ids.find(labelsOf({ x: 'a', y: 'bc' }), noop);
  assert.notEqual(ids.find(labelsOf({ x: 'ab', y: 'c' }), noop), ab);
  const empty = ids.find(labelsOf({ x: '', y: '' }), noop);
  assert.notEqual(ids.find(labelsOf({}), noop), empty);
});

test('members leave in O(1) and the last one out forgets the identity, so that a new one is made', () => {
  const ids = new Identities<string, Member>();
  ids.addKeys(['app', 'tier']);
  let made = 0;
  const find = () => ids.find(labelsOf({ app: 'web', tier: 'a' }), () => made++);
  const id = find();
  const members = [{ at: -1 }, { at: -1 }, { at: -1 }];
  for (const m of members) ids.join(id, m);
  assert.equal(ids.leave(id, members[0]!), false);
  assert.deepEqual(
    id.members.map((m) => m.at),
    [0, 1],
    'the last member took the place of the one that left',
  );
  assert.equal(ids.leave(id, members[2]!), false);
  assert.equal(ids.leave(id, members[1]!), true);
  assert.equal(ids.size, 0);
  assert.notEqual(find(), id);
  assert.equal(made, 2);
});
