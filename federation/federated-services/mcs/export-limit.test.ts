import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Announcement } from './announcement.js';
import { ExportLimit } from './export-limit.js';

const ann = (cluster: string, name: string, exportedAt: number, namespace = 'shop'): Announcement => ({
  cluster,
  namespace,
  name,
  exportedAt,
  headless: false,
});
const everywhere = () => true;
const admitted = (l: ExportLimit, cluster: string, names: readonly string[], namespace = 'shop') =>
  names.filter((n) => l.admits(cluster, `${namespace}/${n}`));

describe('ExportLimit', () => {
  test('within the limit every export is imported at once; the local cluster has no limit', () => {
    const l = new ExportLimit(2, 'east');
    l.set(ann('west', 'a', 10));
    l.set(ann('west', 'b', 5));
    for (let i = 0; i < 5; i++) l.set(ann('east', `own-${i}`, i));
    assert.deepEqual(admitted(l, 'west', ['a', 'b']), ['a', 'b']);
    assert.deepEqual(admitted(l, 'east', ['own-0', 'own-4']), ['own-0', 'own-4']);
    assert.equal(l.needsSettle, false);
    assert.deepEqual([...l.overLimit()], []);
    assert.equal(l.admits('west', 'shop/unknown'), false);
  });

  test("past the limit the oldest exports are imported; a new one waits for settle; other clusters' are untouched", () => {
    const l = new ExportLimit(3, 'east');
    l.set(ann('north', 'n', 1));
    for (const [name, at] of [
      ['d', 40],
      ['b', 20],
      ['c', 30],
    ] as const)
      l.set(ann('west', name, at));
    l.set(ann('west', 'a', 10)); // the oldest, arriving fourth
    assert.deepEqual(admitted(l, 'west', ['a', 'b', 'c', 'd']), ['b', 'c', 'd'], 'the new one waits');
    assert.equal(l.needsSettle, true);
    const changed = l.settle(everywhere);
    assert.deepEqual(changed.sort(), ['shop/a', 'shop/d']);
    assert.deepEqual(admitted(l, 'west', ['a', 'b', 'c', 'd']), ['a', 'b', 'c']);
    assert.deepEqual([...l.overLimit()], [['west', { announced: 4, leftOut: 1 }]]);
    assert.equal(l.admits('north', 'shop/n'), true);
    // Equal times: namespace, then name.
    l.set(ann('west', 'aa', 10, 'alpha'));
    l.settle(everywhere);
    assert.deepEqual(admitted(l, 'west', ['aa'], 'alpha'), ['aa']);
    assert.deepEqual(admitted(l, 'west', ['a', 'b', 'c']), ['a', 'b']);
  });

  test('exports whose namespace does not exist here neither take a place nor count as left out', () => {
    const l = new ExportLimit(2, 'east');
    l.set(ann('west', 'x', 1, 'nowhere'));
    l.set(ann('west', 'y', 2, 'nowhere'));
    l.set(ann('west', 'a', 10));
    l.set(ann('west', 'b', 20));
    const here = (ns: string) => ns === 'shop';
    l.settle(here);
    assert.deepEqual(admitted(l, 'west', ['a', 'b']), ['a', 'b']);
    assert.deepEqual([...l.overLimit()], [], 'nothing that could be imported is left out');
    // The namespace appears: the oldest exports win again.
    l.namespacesChanged();
    assert.equal(l.needsSettle, true);
    assert.deepEqual(l.settle(everywhere).sort(), ['nowhere/x', 'nowhere/y', 'shop/a', 'shop/b']);
    assert.deepEqual(admitted(l, 'west', ['x', 'y'], 'nowhere'), ['x', 'y']);
    assert.deepEqual([...l.overLimit()], [['west', { announced: 4, leftOut: 2 }]]);
  });

  test('a withdrawn export leaves at once; the next waiting one comes with settle; back within the limit, all', () => {
    const l = new ExportLimit(2, 'east');
    for (let i = 0; i < 4; i++) l.set(ann('west', `s${i}`, i));
    l.settle(everywhere);
    assert.deepEqual(admitted(l, 'west', ['s0', 's1', 's2', 's3']), ['s0', 's1']);
    l.delete('west', 'shop', 's0');
    assert.equal(l.admits('west', 'shop/s0'), false);
    assert.deepEqual(l.settle(everywhere), ['shop/s2']);
    l.delete('west', 'shop', 's1');
    assert.deepEqual(l.settle(everywhere), ['shop/s3']);
    assert.deepEqual(admitted(l, 'west', ['s2', 's3']), ['s2', 's3']);
    assert.deepEqual([...l.overLimit()], []);
    l.delete('west', 'shop', 's2');
    l.delete('west', 'shop', 's3');
    l.set(ann('west', 'new', 99));
    assert.equal(l.admits('west', 'shop/new'), true, 'an empty cluster starts within its limit');
  });

  test('refuses a limit that is not a positive integer', () => {
    assert.throws(() => new ExportLimit(0, 'east'), RangeError);
    assert.throws(() => new ExportLimit(1.5, 'east'), RangeError);
  });
});
