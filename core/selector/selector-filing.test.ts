import assert from 'node:assert/strict';
import { test } from 'node:test';
import { referencedLabels } from './ast.js';
import { LabelColumns } from './label-columns.js';
import { parseSelector } from './parser.js';
import { requiredLabels } from './restrictions.js';
import {
  type ColumnConstraint,
  chooseFilingKey,
  chooseReaderKey,
  type FilingKey,
  type RequiredColumns,
  SelectorFiling,
} from './selector-filing.js';

// Labels and values as the index turns them into columns and value ids.
const columns = new LabelColumns();
const col = (label: string): number => columns.columnOf(label) ?? columns.retain(label).column;
const id = (label: string, value: string): number => columns.values[col(label)]!.idOf(value);
const labelOf = (column: number): string => columns.keys[column]!;

function required(selector: string): RequiredColumns {
  const out = new Map<number, ColumnConstraint>();
  for (const [label, constraint] of requiredLabels(parseSelector(selector))) {
    out.set(col(label), constraint === 'any' ? 'any' : [...constraint].map((v) => id(label, v)));
  }
  return out;
}

function row(labels: Record<string, string>): Int32Array {
  const r = new Int32Array(32);
  for (const [k, v] of Object.entries(labels)) r[col(k)] = id(k, v);
  return r;
}

const noItems = () => 0;

function describeKey(key: FilingKey): string {
  if (key.kind === 'values') {
    const values = key.ids.map((i) => columns.values[key.column]!.valueOf(i));
    return `${labelOf(key.column)}=${values.sort().join('|')}`;
  }
  return key.kind === 'label' ? `${labelOf(key.column)}=*` : key.kind;
}

function keyOf(selector: string, count: (label: string) => number = noItems): string {
  return describeKey(chooseFilingKey(required(selector), (column) => count(labelOf(column))));
}

test('a selector is filed under the required label with the fewest items', () => {
  const counts: Record<string, number> = { app: 50, tier: 20_000, team: 900 };
  const count = (label: string) => counts[label] ?? 0;
  assert.equal(keyOf('tier == "web" && app == "db"', count), 'app=db');
  assert.equal(keyOf('tier == "web" && has(team)', count), 'team=*');
  assert.equal(keyOf('tier in {"a", "b"} || tier == "c"', count), 'tier=a|b|c');
});

test('without counts: value restrictions first, then fewer values, then column order', () => {
  col('a');
  col('b');
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
  readonly readColumns: readonly number[];
}

function selectorOf(name: string, text: string): Sel {
  return { name, readColumns: [...referencedLabels(parseSelector(text))].map(col) };
}

function fileAll(selectors: Record<string, string>): { filing: SelectorFiling<Sel>; keys: Map<Sel, FilingKey> } {
  const filing = new SelectorFiling<Sel>();
  const keys = new Map<Sel, FilingKey>();
  for (const [name, text] of Object.entries(selectors)) {
    const sel = selectorOf(name, text);
    const key = chooseFilingKey(required(text), noItems);
    filing.file(sel, key);
    keys.set(sel, key);
  }
  return { filing, keys };
}

test('candidates for a new item: its value buckets, its label buckets, and the unfiled', () => {
  const { filing } = fileAll({ db: 'app == "db"', web: 'app == "web"', team: 'has(team)', ne: 'env != "prod"' });
  const seen: string[] = [];
  filing.forEachCandidate(row({ app: 'db', team: 'x' }), 0, columns.active, (s) => seen.push(s.name));
  assert.deepEqual(seen.sort(), ['db', 'ne', 'team']);
});

test('readers of a changed column, limited to those the item passes the filing of', () => {
  const { filing, keys } = fileAll({
    dbProd: 'app == "db" && env == "prod"',
    webProd: 'app == "web" && env == "prod"',
    ne: 'env != "prod"',
    other: 'app == "db" && has(tier)',
  });
  const seen: string[] = [];
  filing.forEachReader(col('env'), row({ app: 'db' }), 0, (s) => seen.push(s.name));
  assert.deepEqual(seen.sort(), ['dbProd', 'ne']);
  // Unfiling removes a selector from both views.
  for (const [sel, key] of keys) if (sel.name === 'dbProd') filing.unfile(sel, key);
  seen.length = 0;
  filing.forEachReader(col('env'), row({ app: 'db' }), 0, (s) => seen.push(s.name));
  filing.forEachCandidate(row({ app: 'db' }), 0, columns.active, (s) => seen.push(s.name));
  assert.deepEqual(seen.sort(), ['ne', 'ne', 'other']);
});

test('readers of a label a selector only needs present are filed under another label it requires', () => {
  const count = (column: number) => (labelOf(column) === 'canary' ? 10 : 1000);
  const req = required('has(canary) && tier == "web"');
  const key = chooseFilingKey(req, count);
  assert.equal(describeKey(key), 'canary=*');
  assert.equal(describeKey(chooseReaderKey(col('canary'), req, key, count)), 'tier=web');
  // Another column read, or nothing else required: the filing key itself.
  assert.equal(chooseReaderKey(col('tier'), req, key, count), key);
  const alone = required('has(canary) && env != "prod"');
  const aloneKey = chooseFilingKey(alone, count);
  assert.equal(chooseReaderKey(col('canary'), alone, aloneKey, count), aloneKey);
  // A value restriction on the changed label narrows by itself.
  const valued = required('canary == "true" && tier == "web"');
  const valuedKey = chooseFilingKey(valued, count);
  assert.equal(chooseReaderKey(col('canary'), valued, valuedKey, count), valuedKey);
});

test('reader keys: a reader is found under its reader key, not its filing key, and unfiled from both', () => {
  const filing = new SelectorFiling<Sel>();
  const sel = selectorOf('webCanary', 'has(canary) && tier == "web"');
  const key: FilingKey = { kind: 'label', column: col('canary') };
  const readerKeys = new Map<number, FilingKey>([
    [col('canary'), { kind: 'values', column: col('tier'), ids: [id('tier', 'web')] }],
  ]);
  filing.file(sel, key, readerKeys);
  const seen: string[] = [];
  const visit = (s: Sel) => seen.push(s.name);
  filing.forEachReader(col('canary'), row({ tier: 'db', canary: 'true' }), 0, visit);
  assert.deepEqual(seen, [], 'a db item gaining canary does not visit it');
  const visitAll = () => {
    filing.forEachReader(col('canary'), row({ tier: 'web' }), 0, visit);
    filing.forEachReader(col('tier'), row({ canary: 'true' }), 0, visit);
    filing.forEachCandidate(row({ canary: 'true' }), 0, columns.active, visit);
  };
  visitAll();
  assert.deepEqual(seen, ['webCanary', 'webCanary', 'webCanary']);
  filing.unfile(sel, key, readerKeys);
  seen.length = 0;
  visitAll();
  assert.deepEqual(seen, []);
});
