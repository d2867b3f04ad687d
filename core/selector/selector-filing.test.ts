import assert from 'node:assert/strict';
import { test } from 'node:test';
import { referencedLabels } from './ast.js';
import { parseSelector } from './parser.js';
import { requiredLabels } from './restrictions.js';
import { chooseFilingKey, chooseReaderKey, type FilingKey, SelectorFiling } from './selector-filing.js';

const noItems = () => 0;

function keyOf(selector: string, count: (label: string) => number = noItems): string {
  const key = chooseFilingKey(requiredLabels(parseSelector(selector)), count);
  if (key.kind === 'values') return `${key.label}=${[...key.values].sort().join('|')}`;
  return key.kind === 'label' ? `${key.label}=*` : key.kind;
}

test('a selector is filed under the required label with the fewest items', () => {
  const counts: Record<string, number> = { app: 50, tier: 20_000, team: 900 };
  const count = (label: string) => counts[label] ?? 0;
  assert.equal(keyOf('tier == "web" && app == "db"', count), 'app=db');
  assert.equal(keyOf('tier == "web" && has(team)', count), 'team=*');
  assert.equal(keyOf('tier in {"a", "b"} || tier == "c"', count), 'tier=a|b|c');
});

test('without counts: value restrictions first, then fewer values, then label order', () => {
  assert.equal(keyOf('has(a) && b == "x"'), 'b=x');
  assert.equal(keyOf('a in {"1", "2"} && b == "x"'), 'b=x');
  assert.equal(keyOf('b == "x" && a == "y"'), 'a=y');
});

test('no required label: unfiled; an impossible value set: never', () => {
  for (const s of ['all()', 'a != "x"', '!has(a)', 'a == "x" || b == "y"']) assert.equal(keyOf(s), 'unfiled', s);
  assert.equal(keyOf('a in {}'), 'never');
  assert.equal(keyOf('a == "x" && a == "y" && has(b)'), 'never');
});

interface Sel {
  readonly name: string;
  readonly reads: ReadonlySet<string>;
}

function fileAll(selectors: Record<string, string>): { filing: SelectorFiling<Sel>; keys: Map<Sel, FilingKey> } {
  const filing = new SelectorFiling<Sel>();
  const keys = new Map<Sel, FilingKey>();
  for (const [name, text] of Object.entries(selectors)) {
    const node = parseSelector(text);
    const sel: Sel = { name, reads: referencedLabels(node) };
    const key = chooseFilingKey(requiredLabels(node), noItems);
    filing.file(sel, key);
    keys.set(sel, key);
  }
  return { filing, keys };
}

test('candidates for a new item: its label/value buckets, its label buckets, and the unfiled', () => {
  const { filing } = fileAll({ db: 'app == "db"', web: 'app == "web"', team: 'has(team)', ne: 'env != "prod"' });
  const seen: string[] = [];
  filing.forEachCandidate(
    new Map([
      ['app', 'db'],
      ['team', 'x'],
    ]),
    (s) => seen.push(s.name),
  );
  assert.deepEqual(seen.sort(), ['db', 'ne', 'team']);
});

test('readers of a changed key, limited to those the item passes the filing of', () => {
  const { filing, keys } = fileAll({
    dbProd: 'app == "db" && env == "prod"',
    webProd: 'app == "web" && env == "prod"',
    ne: 'env != "prod"',
    other: 'app == "db" && tier == "x"',
  });
  const seen: string[] = [];
  filing.forEachReader('env', new Map([['app', 'db']]), (s) => seen.push(s.name));
  assert.deepEqual(seen.sort(), ['dbProd', 'ne']);
  // Unfiling removes a selector from both views.
  for (const [sel, key] of keys) if (sel.name === 'dbProd') filing.unfile(sel, key);
  seen.length = 0;
  filing.forEachReader('env', new Map([['app', 'db']]), (s) => seen.push(s.name));
  filing.forEachCandidate(new Map([['app', 'db']]), (s) => seen.push(s.name));
  assert.deepEqual(seen.sort(), ['ne', 'ne', 'other']);
});

test('readers of a label a selector only needs present are filed under another label it requires', () => {
  const count = (label: string) => (label === 'canary' ? 10 : 1000);
  const required = requiredLabels(parseSelector('has(canary) && tier == "web"'));
  const key = chooseFilingKey(required, count);
  assert.deepEqual(key, { kind: 'label', label: 'canary' });
  const readerKey = chooseReaderKey('canary', required, key, count);
  assert.equal(readerKey.kind === 'values' && `${readerKey.label}=${[...readerKey.values].join()}`, 'tier=web');
  // Another key read, or nothing else required: the filing key itself.
  assert.equal(chooseReaderKey('tier', required, key, count), key);
  const alone = requiredLabels(parseSelector('has(canary) && env != "prod"'));
  const aloneKey = chooseFilingKey(alone, count);
  assert.equal(chooseReaderKey('canary', alone, aloneKey, count), aloneKey);
  // A value restriction on the changed label narrows by itself.
  const valued = requiredLabels(parseSelector('canary == "true" && tier == "web"'));
  const valuedKey = chooseFilingKey(valued, count);
  assert.equal(chooseReaderKey('canary', valued, valuedKey, count), valuedKey);
});

test('reader keys: a reader is found under its reader key, not its filing key, and unfiled from both', () => {
  const filing = new SelectorFiling<Sel>();
  const node = parseSelector('has(canary) && tier == "web"');
  const sel: Sel = { name: 'webCanary', reads: referencedLabels(node) };
  const key: FilingKey = { kind: 'label', label: 'canary' };
  const readerKeys = new Map<string, FilingKey>([
    ['canary', { kind: 'values', label: 'tier', values: new Set(['web']) }],
  ]);
  filing.file(sel, key, readerKeys);
  const seen: string[] = [];
  const visit = (s: Sel) => seen.push(s.name);
  filing.forEachReader(
    'canary',
    new Map([
      ['tier', 'db'],
      ['canary', 'true'],
    ]),
    visit,
  );
  assert.deepEqual(seen, [], 'a db item gaining canary does not visit it');
  filing.forEachReader('canary', new Map([['tier', 'web']]), visit);
  filing.forEachReader('tier', new Map([['canary', 'true']]), visit);
  filing.forEachCandidate(new Map([['canary', 'true']]), visit);
  assert.deepEqual(seen, ['webCanary', 'webCanary', 'webCanary']);
  filing.unfile(sel, key, readerKeys);
  seen.length = 0;
  filing.forEachReader('canary', new Map([['tier', 'web']]), visit);
  filing.forEachReader('tier', new Map([['canary', 'true']]), visit);
  filing.forEachCandidate(new Map([['canary', 'true']]), visit);
  assert.deepEqual(seen, []);
});
