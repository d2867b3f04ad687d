// The selector tree: plain immutable data, built only through the constructors below so that every tree is in the
// form the parser would produce (sets sorted and deduplicated, no double negation, no one-operand && or ||).

export interface AllNode {
  readonly kind: 'all';
}

/** `global()`: true everywhere in evaluation; it only means something where a caller rewrites it (namespaceSelector). */
export interface GlobalNode {
  readonly kind: 'global';
}

export interface HasNode {
  readonly kind: 'has';
  readonly label: string;
}

export type CompareKind = 'eq' | 'ne' | 'contains' | 'startsWith' | 'endsWith';

/** `label OP "value"` for ==, !=, contains, starts with, ends with. */
export interface CompareNode {
  readonly kind: CompareKind;
  readonly label: string;
  readonly value: string;
}

export type SetKind = 'in' | 'notIn';

/** `label in {…}` / `label not in {…}`; `values` is sorted (code point order, as Go sorts bytes) and unique. */
export interface SetNode {
  readonly kind: SetKind;
  readonly label: string;
  readonly values: readonly string[];
}

export interface NotNode {
  readonly kind: 'not';
  readonly operand: SelectorNode;
}

/** `&&` or `||` over two or more operands, in source order (Calico keeps nesting as written, and so do we). */
export interface JunctionNode {
  readonly kind: 'and' | 'or';
  readonly operands: readonly SelectorNode[];
}

export type SelectorNode = AllNode | GlobalNode | HasNode | CompareNode | SetNode | NotNode | JunctionNode;

const ALL: AllNode = Object.freeze({ kind: 'all' });
const GLOBAL: GlobalNode = Object.freeze({ kind: 'global' });

export function all(): AllNode {
  return ALL;
}

export function global(): GlobalNode {
  return GLOBAL;
}

export function has(label: string): HasNode {
  return { kind: 'has', label };
}

export function compare(kind: CompareKind, label: string, value: string): CompareNode {
  return { kind, label, value };
}

export function inSet(kind: SetKind, label: string, values: Iterable<string>): SetNode {
  return { kind, label, values: sortedUnique(values) };
}

/**
 * Negation. A negated negation collapses: Calico's parser already folds `!!x` to `x`, but prints `!(!x)` as `!!x`,
 * which its own parser then reads as `x`; collapsing here keeps the canonical form a fixpoint.
 */
export function not(operand: SelectorNode): SelectorNode {
  return operand.kind === 'not' ? operand.operand : { kind: 'not', operand };
}

/** `&&` of the operands; none is `all()`, one is itself. */
export function and(operands: readonly SelectorNode[]): SelectorNode {
  return junction('and', operands);
}

/** `||` of the operands; one is itself. */
export function or(operands: readonly SelectorNode[]): SelectorNode {
  if (operands.length === 0) throw new RangeError('or() needs at least one operand');
  return junction('or', operands);
}

function junction(kind: 'and' | 'or', operands: readonly SelectorNode[]): SelectorNode {
  if (operands.length === 0) return ALL;
  if (operands.length === 1) return operands[0]!;
  return { kind, operands: [...operands] };
}

/** Sorted by code point, which is the byte order of UTF-8 and so the order Go's string `<` gives Calico. */
export function sortedUnique(values: Iterable<string>): string[] {
  const sorted = sortCodePoints(Array.isArray(values) ? values.slice() : [...values]);
  let n = 0;
  for (let i = 0; i < sorted.length; i++) {
    if (n === 0 || sorted[i] !== sorted[n - 1]) sorted[n++] = sorted[i]!;
  }
  sorted.length = n;
  return sorted;
}

/**
 * Sorts in place by code point and returns the array. Selectors hold a few keys and values: an insertion sort of
 * a short array allocates nothing, where Array.prototype.sort allocates its work arrays on every call.
 */
export function sortCodePoints(values: string[]): string[] {
  if (values.length > 16) return values.sort(compareCodePoints);
  for (let i = 1; i < values.length; i++) {
    const v = values[i]!;
    let j = i - 1;
    while (j >= 0 && compareCodePoints(values[j]!, v) > 0) {
      values[j + 1] = values[j]!;
      j--;
    }
    values[j + 1] = v;
  }
  return values;
}

/** Code point order. Plain `<` compares UTF-16 units, which puts U+E000–U+FFFF after astral characters. */
export function compareCodePoints(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) return codePointRank(x) - codePointRank(y);
  }
  return a.length - b.length;
}

// Moves surrogates (D800–DFFF) above E000–FFFF so that unit order matches code point order.
function codePointRank(unit: number): number {
  if (unit < 0xd800) return unit;
  return unit < 0xe000 ? unit + 0x2000 : unit - 0x800;
}

/** Every label key the selector reads, in any position (a selector's result can only change when one of these does). */
export function referencedLabels(node: SelectorNode): Set<string> {
  const out = new Set<string>();
  collectLabels(node, out);
  return out;
}

function collectLabels(node: SelectorNode, out: Set<string>): void {
  switch (node.kind) {
    case 'all':
    case 'global':
      return;
    case 'not':
      collectLabels(node.operand, out);
      return;
    case 'and':
    case 'or':
      for (const op of node.operands) collectLabels(op, out);
      return;
    default:
      out.add(node.label);
  }
}
