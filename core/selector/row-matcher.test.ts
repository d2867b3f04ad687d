import assert from 'node:assert/strict';
import { test } from 'node:test';
import { referencedLabels } from './ast.js';
import { evaluate } from './evaluate.js';
import { LabelColumns } from './label-columns.js';
import { parseSelector } from './parser.js';
import { compileRowMatcher } from './row-matcher.js';

/** A row for these labels in the columns' value ids (base 0). */
function rowOf(columns: LabelColumns, labels: Record<string, string>): Int32Array {
  const row = new Int32Array(16);
  for (const [key, value] of Object.entries(labels)) {
    const column = columns.columnOf(key);
    if (column !== undefined) row[column] = columns.values[column]!.idOf(value);
  }
  return row;
}

const selectors = [
  'a == "x"',
  'a != "x"',
  'a in {"x", "y"}',
  'a not in {"x", "y"}',
  'a in {"1", "2", "3", "4", "5", "6"}',
  'a not in {}',
  'a in {}',
  'has(a)',
  '!has(a)',
  'a contains "x"',
  'a starts with "x"',
  'a ends with "y"',
  'all()',
  'global()',
  'a == "x" && b != "y"',
  'a == "x" || b == "y" || !has(c)',
  '!(a == "x" && (b == "y" || c == ""))',
];
const labelSets: Record<string, string>[] = [
  {},
  { a: 'x' },
  { a: 'xy', b: 'y' },
  { a: 'y', c: '' },
  { a: '4', b: 'z', c: 'q' },
  { b: 'y' },
];

test('compiled against rows, every operator means what evaluate() says it means', () => {
  for (const text of selectors) {
    const node = parseSelector(text);
    const columns = new LabelColumns();
    for (const key of referencedLabels(node)) columns.retain(key);
    const { matcher } = compileRowMatcher(node, columns);
    for (const labels of labelSets) {
      assert.equal(matcher(rowOf(columns, labels), 0), evaluate(node, labels), `${text} on ${JSON.stringify(labels)}`);
    }
  }
});

test('the values a selector names keep their ids until it releases them', () => {
  const columns = new LabelColumns();
  columns.retain('a');
  const { heldValues } = compileRowMatcher(parseSelector('a in {"x", "y"} && a != "z"'), columns);
  const ids = columns.values[0]!;
  assert.equal(heldValues.length, 6, 'three (column, id) pairs');
  assert.notEqual(ids.peek('z'), 0, 'named, though no item has it');
  for (let i = 0; i < heldValues.length; i += 2) ids.releaseBySelector(heldValues[i + 1]!);
  assert.equal(ids.size, 0);
});

test('a label without a column is a programming error, said as such', () => {
  assert.throws(() => compileRowMatcher(parseSelector('a == "x"'), new LabelColumns()), /no column for label a/);
});
