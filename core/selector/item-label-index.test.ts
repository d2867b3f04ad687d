import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ItemLabelIndex, type LabelledItem } from './item-label-index.js';

function item(labels: Record<string, string>): LabelledItem & { labels: Map<string, string> } {
  return { labels: new Map(Object.entries(labels)) };
}

test('counts and items are built from the items present on first use, then kept up to date', () => {
  const a = item({ app: 'db', tier: 'x' });
  const b = item({ app: 'web' });
  const items = [a, b];
  const index = new ItemLabelIndex(() => items);
  index.retainCounts('app');
  index.retainItems('app');
  assert.equal(index.countMatching('app', 'any'), 2);
  assert.equal(index.countMatching('app', new Set(['db', 'nope'])), 1);

  const c = item({ app: 'db' });
  items.push(c);
  index.labelChanged(c, 'app', undefined, 'db');
  index.labelChanged(b, 'app', 'web', 'db');
  b.labels.set('app', 'db');
  assert.equal(index.countMatching('app', new Set(['db'])), 3);
  const seen: LabelledItem[] = [];
  index.forEachMatching('app', new Set(['db']), (i) => seen.push(i));
  assert.deepEqual(new Set(seen), new Set([a, b, c]));

  index.labelChanged(a, 'app', 'db', undefined);
  assert.equal(index.countMatching('app', 'any'), 2);
});

test('keys nobody retains cost nothing, and a released key forgets its data', () => {
  const a = item({ app: 'db' });
  const index = new ItemLabelIndex(() => [a]);
  index.labelChanged(a, 'tier', undefined, 'x'); // not retained: ignored
  index.retainCounts('tier');
  assert.equal(index.countMatching('tier', 'any'), 0, 'built from the items: a has no tier');
  index.retainCounts('app');
  index.retainCounts('app');
  index.releaseCounts('app');
  assert.equal(index.countMatching('app', 'any'), 1, 'still retained once');
  index.releaseCounts('app');
  assert.equal(index.countMatching('app', 'any'), 0);
  index.retainItems('app');
  index.releaseItems('app');
  const seen: LabelledItem[] = [];
  index.forEachMatching('app', 'any', (i) => seen.push(i));
  assert.deepEqual(seen, []);
});
