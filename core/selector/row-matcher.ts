// A selector compiled against the index's rows (item-rows.ts): label keys become column offsets and the values it
// names become value ids, so `app == 'db'` is one integer comparison. Same semantics as evaluate.ts (Calico's):
// `!=` and `not in` match an absent label; the string operators need it present.

import type { SelectorNode } from './ast.js';
import type { LabelColumns } from './label-columns.js';
import { ABSENT, type ValueIds } from './value-ids.js';

export type RowMatcher = (rows: Int32Array, base: number) => boolean;

export interface CompiledSelector {
  readonly matcher: RowMatcher;
  /** The (column, value id) pairs the selector holds, flat: to release when it goes. */
  readonly heldValues: readonly number[];
}

/** Compiles the tree; every key it reads must already have a column (LabelColumns.retain). */
export function compileRowMatcher(node: SelectorNode, columns: LabelColumns): CompiledSelector {
  const heldValues: number[] = [];
  const hold = (column: number, value: string): number => {
    const ids = columns.values[column]!;
    const id = ids.idOf(value);
    ids.retainBySelector(id);
    heldValues.push(column, id);
    return id;
  };
  const columnOf = (label: string): number => {
    const column = columns.columnOf(label);
    if (column === undefined) throw new Error(`selector index: no column for label ${label}`);
    return column;
  };
  const compile = (n: SelectorNode): RowMatcher => {
    switch (n.kind) {
      case 'all':
      case 'global':
        return always;
      case 'has': {
        const c = columnOf(n.label);
        return (r, b) => r[b + c] !== ABSENT;
      }
      case 'eq': {
        const c = columnOf(n.label);
        const id = hold(c, n.value);
        return (r, b) => r[b + c] === id;
      }
      case 'ne': {
        const c = columnOf(n.label);
        const id = hold(c, n.value);
        return (r, b) => r[b + c] !== id;
      }
      case 'contains':
      case 'startsWith':
      case 'endsWith':
        return compileStringTest(n.kind, columnOf(n.label), n.value, columns.values[columnOf(n.label)]!);
      case 'in':
      case 'notIn': {
        const c = columnOf(n.label);
        const isIn = idsTest(n.values.map((v) => hold(c, v)));
        return n.kind === 'in' ? (r, b) => isIn(r[b + c]!) : (r, b) => !isIn(r[b + c]!);
      }
      case 'not': {
        const inner = compile(n.operand);
        return (r, b) => !inner(r, b);
      }
      case 'and':
      case 'or':
        return junction(n.operands.map(compile), n.kind === 'or');
    }
  };
  return { matcher: compile(node), heldValues };
}

const always: RowMatcher = () => true;

function compileStringTest(
  kind: 'contains' | 'startsWith' | 'endsWith',
  c: number,
  x: string,
  ids: ValueIds,
): RowMatcher {
  const test =
    kind === 'contains'
      ? (v: string) => v.includes(x)
      : kind === 'startsWith'
        ? (v: string) => v.startsWith(x)
        : (v: string) => v.endsWith(x);
  return (r, b) => {
    const id = r[b + c]!;
    return id !== ABSENT && test(ids.valueOf(id));
  };
}

/** Membership in a set of ids: a few comparisons for the usual handful, a Set beyond. */
function idsTest(ids: readonly number[]): (id: number) => boolean {
  if (ids.length === 0) return () => false;
  if (ids.length === 1) {
    const a = ids[0];
    return (id) => id === a;
  }
  if (ids.length <= 4) return (id) => ids.includes(id);
  const set = new Set(ids);
  return (id) => set.has(id);
}

// `||` stops at the first true operand, `&&` at the first false one.
function junction(operands: readonly RowMatcher[], stopOn: boolean): RowMatcher {
  if (operands.length === 2) {
    const [x, y] = operands as [RowMatcher, RowMatcher];
    return stopOn ? (r, b) => x(r, b) || y(r, b) : (r, b) => x(r, b) && y(r, b);
  }
  return (r, b) => {
    for (let i = 0; i < operands.length; i++) if (operands[i]!(r, b) === stopOn) return stopOn;
    return !stopOn;
  };
}
