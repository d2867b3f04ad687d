import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { evaluate } from './evaluate.js';
import { type MatchDelta, SelectorIndex } from './index.js';
import { parseSelector } from './parser.js';

/** A delta as sorted "+id" / "-id" strings, easy to compare. */
function delta(d: MatchDelta<string>): string[] {
  return [...d.gained.map((x) => `+${x}`), ...d.lost.map((x) => `-${x}`)].sort();
}

function index(): SelectorIndex<string, string> {
  return new SelectorIndex<string, string>();
}

test('adding a selector reports the items it matches', () => {
  const idx = index();
  idx.setItem('p1', { app: 'db' });
  idx.setItem('p2', { app: 'web' });
  idx.setItem('p3', {});
  assert.deepEqual(delta(idx.setSelector('s', parseSelector('app == "db"'))), ['+p1']);
  assert.deepEqual(delta(idx.setSelector('n', parseSelector('app != "db"'))), ['+p2', '+p3']);
  assert.deepEqual([...idx.matchingItems('n')].sort(), ['p2', 'p3']);
  assert.deepEqual(idx.selectorsMatching('p1'), ['s']);
  assert.deepEqual(delta(idx.setSelector('none', parseSelector('app == "nope"'))), []);
});

test('adding an item reports the selectors that match it, unfiled ones included', () => {
  const idx = index();
  idx.setSelector('db', parseSelector('app == "db"'));
  idx.setSelector('tiered', parseSelector('has(tier)'));
  idx.setSelector('everything', parseSelector('all()'));
  idx.setSelector('not-prod', parseSelector('env != "prod"'));
  idx.setSelector('never', parseSelector('app == "a" && app == "b"'));
  idx.setSelector('web', parseSelector('app == "web"'));
  assert.deepEqual(delta(idx.setItem('p', { app: 'db', tier: 'x' })), ['+db', '+everything', '+not-prod', '+tiered']);
});

test('relabelling an item reports only the selectors whose result changed', () => {
  const idx = index();
  idx.setSelector('db', parseSelector('app == "db"'));
  idx.setSelector('web', parseSelector('app == "web"'));
  idx.setSelector('prod', parseSelector('env == "prod"'));
  idx.setSelector('not-prod', parseSelector('env != "prod"'));
  idx.setItem('p', { app: 'db', env: 'prod' });
  assert.deepEqual(delta(idx.setItem('p', { app: 'web', env: 'prod' })), ['+web', '-db']);
  assert.deepEqual(delta(idx.setItem('p', { app: 'web' })), ['+not-prod', '-prod']);
  assert.deepEqual(delta(idx.setItem('p', new Map([['app', 'web']]))), [], 'same labels: no change');
  assert.deepEqual(delta(idx.setItem('p', new Map([['app', 'db']]))), ['+db', '-web']);
});

test('a changed label a selector does not read leaves it alone even when it is filed under the item', () => {
  const idx = index();
  idx.setSelector('s', parseSelector('app == "db" && has(tier)'));
  idx.setItem('p', { app: 'db', version: '1' });
  assert.deepEqual(delta(idx.setItem('p', { app: 'db', version: '2' })), []);
  assert.deepEqual(delta(idx.setItem('p', { app: 'db', version: '2', tier: 'x' })), ['+s']);
});

test('replacing a selector reports the difference; an equal one changes nothing', () => {
  const idx = index();
  idx.setItem('a', { app: 'x' });
  idx.setItem('b', { app: 'y' });
  idx.setItem('c', { app: 'z' });
  idx.setSelector('s', parseSelector('app in {"x", "y"}'));
  assert.deepEqual(delta(idx.setSelector('s', parseSelector('app in {"y", "z"}'))), ['+c', '-a']);
  assert.deepEqual(delta(idx.setSelector('s', parseSelector("app in {'z', 'y', 'z'}"))), []);
  assert.deepEqual(idx.selectorsMatching('b'), ['s']);
  assert.deepEqual(idx.selectorsMatching('a'), []);
});

test('deleting reports losses on either side', () => {
  const idx = index();
  idx.setSelector('s', parseSelector('has(app)'));
  idx.setSelector('t', parseSelector('app == "x"'));
  idx.setItem('p', { app: 'x' });
  idx.setItem('q', { app: 'y' });
  assert.deepEqual(delta(idx.deleteItem('p')), ['-s', '-t']);
  assert.deepEqual(delta(idx.deleteSelector('s')), ['-q']);
  assert.deepEqual(delta(idx.deleteSelector('s')), []);
  assert.deepEqual(delta(idx.deleteItem('p')), []);
  assert.equal(idx.selectorCount, 1);
  assert.equal(idx.itemCount, 1);
  assert.deepEqual([...idx.matchingItems('s')], []);
  assert.deepEqual(idx.selectorsMatching('q'), []);
});

test('a selector added later reads a label no selector read before from the labels the index kept', () => {
  const idx = index();
  idx.setSelector('s', parseSelector('app == "x"'));
  idx.setItem('p', { app: 'x', team: 'a' });
  idx.setItem('q', new Map([['team', 'b']]));
  idx.setItem('p', { app: 'x', team: 'b' });
  assert.deepEqual(delta(idx.setSelector('t', parseSelector('team == "b"'))), ['+p', '+q']);
  // Its column gone with its last reader and made again: filled afresh.
  assert.deepEqual(delta(idx.deleteSelector('t')), ['-p', '-q']);
  idx.setItem('q', new Map([['team', 'c']]));
  assert.deepEqual(delta(idx.setSelector('u', parseSelector('team in {"a", "c"}'))), ['+q']);
  assert.deepEqual(delta(idx.setItem('p', { app: 'x', team: 'a' })), ['+u']);
});

test('selectors filed before the items arrive are re-filed as the counts grow, with the same results', () => {
  const idx = index();
  // Filed by the fewest values while no item is known (cluster), better by app once items are there.
  idx.setSelector('s', parseSelector('app in {"a1", "a2", "a3"} && fedmesh.io/cluster in {"c0", "c1"}'));
  const expected: string[] = [];
  for (let i = 0; i < 300; i++) {
    const labels = { app: `a${i % 50}`, 'fedmesh.io/cluster': `c${i % 4}` };
    const d = idx.setItem(`p${i}`, labels);
    if (['a1', 'a2', 'a3'].includes(labels.app) && ['c0', 'c1'].includes(labels['fedmesh.io/cluster'])) {
      expected.push(`p${i}`);
      assert.deepEqual(d.gained, ['s']);
    } else {
      assert.deepEqual(d.gained, []);
    }
  }
  assert.deepEqual([...idx.matchingItems('s')].sort(), expected.sort());
  // Relabels after the re-filing still find it.
  assert.deepEqual(delta(idx.setItem('p0', { app: 'a2', 'fedmesh.io/cluster': 'c1' })), ['+s']);
  assert.deepEqual(delta(idx.setItem('p0', { app: 'a2', 'fedmesh.io/cluster': 'c2' })), ['-s']);
});

test('forty label columns (rows widened as they come): updates still find exactly the selectors reading a changed key', () => {
  const idx = index();
  for (let i = 0; i < 40; i++) idx.setSelector(`s${i}`, parseSelector(`k${i} == "on" || all()`));
  idx.setSelector('k35-off', parseSelector('k35 != "on"'));
  const labels: Record<string, string> = {};
  for (let i = 0; i < 40; i++) labels[`k${i}`] = 'off';
  assert.equal(idx.setItem('p', labels).gained.length, 41);
  assert.deepEqual(delta(idx.setItem('p', { ...labels, k36: 'on' })), []);
  assert.deepEqual(delta(idx.setItem('p', { ...labels, k36: 'on', k35: 'on' })), ['-k35-off']);
  assert.deepEqual(delta(idx.setItem('p', { ...labels, k36: 'on' })), ['+k35-off']);
});

// Model-based: any sequence of operations must leave exactly the brute-force match sets, and the reported changes
// must be exactly the difference each operation made.
const labelKeys = ['app', 'env', 'tier', 'fedmesh.io/cluster'] as const;
const labelValues = ['a', 'b', 'c', ''] as const;
const selectorPool = [
  'app == "a"',
  'app in {"a", "b"}',
  'app in {}',
  'app != "a"',
  'app not in {"a", "c"}',
  'has(env)',
  '!has(env)',
  'env == "a" && tier == "b"',
  'env == "a" || tier == "b"',
  'app == "a" && env != "b"',
  'tier starts with "b"',
  'app contains "" && !has(tier)',
  'all()',
  'global()',
  'app == "a" && app == "b"',
  '(app == "a" || app == "b") && fedmesh.io/cluster in {"a", "c"}',
  '!(app == "a" || env == "b")',
  'has(fedmesh.io/cluster) && tier ends with "c"',
];

const labelsArb = fc.dictionary(fc.constantFrom(...labelKeys), fc.constantFrom(...labelValues), { maxKeys: 4 });
// Few ids and mostly relabels, so that sequences revisit the same items and selectors often.
const opArb = fc.oneof(
  {
    arbitrary: fc.record({
      op: fc.constant('setItem' as const),
      id: fc.integer({ min: 0, max: 4 }),
      labels: labelsArb,
    }),
    weight: 6,
  },
  { arbitrary: fc.record({ op: fc.constant('deleteItem' as const), id: fc.integer({ min: 0, max: 4 }) }), weight: 1 },
  {
    arbitrary: fc.record({
      op: fc.constant('setSelector' as const),
      id: fc.integer({ min: 0, max: 5 }),
      selector: fc.constantFrom(...selectorPool),
    }),
    weight: 3,
  },
  {
    arbitrary: fc.record({ op: fc.constant('deleteSelector' as const), id: fc.integer({ min: 0, max: 5 }) }),
    weight: 1,
  },
);

test('property: the index always equals brute force, and reports exactly the differences', () => {
  fc.assert(
    fc.property(fc.array(opArb, { minLength: 10, maxLength: 80, size: 'max' }), fc.boolean(), (ops, refileEarly) => {
      // Re-filing early makes every few items choose filing keys again, so that path is exercised too.
      const idx = new SelectorIndex<string, string>(refileEarly ? { firstRefileAt: 1 } : {});
      const items = new Map<string, Record<string, string>>();
      const selectors = new Map<string, string>();
      const truth = () => {
        const pairs = new Set<string>();
        for (const [s, text] of selectors) {
          const node = parseSelector(text);
          for (const [i, labels] of items) if (evaluate(node, labels)) pairs.add(`${s}|${i}`);
        }
        return pairs;
      };
      let before = truth();
      for (const op of ops) {
        let gained: string[];
        let lost: string[];
        if (op.op === 'setItem') {
          const d = idx.setItem(`i${op.id}`, op.labels);
          [gained, lost] = [d.gained.map((s) => `${s}|i${op.id}`), d.lost.map((s) => `${s}|i${op.id}`)];
          items.set(`i${op.id}`, op.labels);
        } else if (op.op === 'deleteItem') {
          const d = idx.deleteItem(`i${op.id}`);
          [gained, lost] = [d.gained.map((s) => `${s}|i${op.id}`), d.lost.map((s) => `${s}|i${op.id}`)];
          items.delete(`i${op.id}`);
        } else if (op.op === 'setSelector') {
          const d = idx.setSelector(`s${op.id}`, parseSelector(op.selector));
          [gained, lost] = [d.gained.map((i) => `s${op.id}|${i}`), d.lost.map((i) => `s${op.id}|${i}`)];
          selectors.set(`s${op.id}`, op.selector);
        } else {
          const d = idx.deleteSelector(`s${op.id}`);
          [gained, lost] = [d.gained.map((i) => `s${op.id}|${i}`), d.lost.map((i) => `s${op.id}|${i}`)];
          selectors.delete(`s${op.id}`);
        }
        const after = truth();
        const where = JSON.stringify(op);
        assert.deepEqual(gained.sort(), [...after].filter((p) => !before.has(p)).sort(), where);
        assert.deepEqual(lost.sort(), [...before].filter((p) => !after.has(p)).sort(), where);
        for (const s of selectors.keys()) {
          const expected = [...after].filter((p) => p.startsWith(`${s}|`)).map((p) => p.slice(s.length + 1));
          assert.deepEqual([...idx.matchingItems(s)].sort(), expected.sort());
        }
        for (const i of items.keys()) {
          const expected = [...after].filter((p) => p.endsWith(`|${i}`)).map((p) => p.slice(0, -(i.length + 1)));
          assert.deepEqual(idx.selectorsMatching(i).sort(), expected.sort());
        }
        before = after;
      }
    }),
    { numRuns: 300 },
  );
});

test('selectors that only need a label present are still found when an item gains it, and after refiling', () => {
  const idx = new SelectorIndex<string, string>({ firstRefileAt: 4 });
  idx.setSelector('webCanary', parseSelector('has(canary) && tier == "web"'));
  idx.setSelector('dbCanary', parseSelector('has(canary) && tier == "db"'));
  for (let i = 0; i < 40; i++) idx.setItem(`p${i}`, { tier: i % 2 ? 'web' : 'db', ...(i < 2 ? { canary: 'y' } : {}) });
  assert.deepEqual(delta(idx.setItem('p3', { tier: 'web', canary: 'true' })), ['+webCanary']);
  assert.deepEqual(delta(idx.setItem('p3', { tier: 'db', canary: 'true' })), ['+dbCanary', '-webCanary']);
  assert.deepEqual(delta(idx.setItem('p3', { tier: 'db' })), ['-dbCanary']);
  assert.deepEqual(delta(idx.deleteSelector('dbCanary')), ['-p0']);
  assert.deepEqual(
    delta(idx.setItem('p3', { tier: 'db', canary: 'x' })),
    [],
    'a deleted selector is gone from its reader keys',
  );
  assert.deepEqual(delta(idx.deleteItem('p1')), ['-webCanary']);
});

test('a label no selector reads changes nothing, and deltas of one side share the empty array', () => {
  const idx = index();
  idx.setSelector('s', parseSelector('app == "x"'));
  idx.setItem('p', { app: 'x', hash: '1' });
  const none = idx.setItem('p', { app: 'x', hash: '2' });
  assert.deepEqual(delta(none), []);
  const lost = idx.setItem('p', { app: 'y', hash: '2' });
  assert.deepEqual(delta(lost), ['-s']);
  assert.ok(Object.isFrozen(lost.gained));
  assert.deepEqual(idx.selectorsMatching('p'), []);
});

test('refiling when label counts move keeps the selector under every reader key it still uses', () => {
  const idx = new SelectorIndex<string, string>({ firstRefileAt: 4 });
  idx.setSelector('webCanary', parseSelector('has(canary) && tier == "web"'));
  // canary rare: filed under canary, its canary readers under tier=web.
  for (let i = 0; i < 40; i++) idx.setItem(`p${i}`, { tier: i % 2 ? 'web' : 'db', ...(i < 2 ? { canary: 'y' } : {}) });
  // canary common: filed under tier=web, which its canary readers already were.
  for (let i = 0; i < 60; i++) idx.setItem(`q${i}`, { tier: 'db', canary: 'y' });
  assert.deepEqual(delta(idx.setItem('p3', { tier: 'web', canary: 'true' })), ['+webCanary']);
  assert.deepEqual(delta(idx.setItem('p5', { tier: 'db', canary: 'true' })), []);
  assert.deepEqual(delta(idx.setItem('p5', { tier: 'web', canary: 'true' })), ['+webCanary']);
});
