// Evaluation against a label map, with Calico's semantics (parser/ast.go, Evaluate): `!=` and `not in` match when
// the label is absent; ==, in, contains, starts with and ends with need it present; all() and global() are true.
// A tree is compiled once into nested closures (cached per node), which is what makes the index's re-evaluation cheap.

import type { SelectorNode } from './ast.js';

/** Anything with Map's `get`: a Map, or a record wrapped by `labelLookup`. */
export interface LabelLookup {
  get(key: string): string | undefined;
}

export type Labels = ReadonlyMap<string, string> | Readonly<Record<string, string>>;

/** Labels that can also be listed: a Map, or the index's own LabelTable. */
export type LabelEntries = LabelLookup & Iterable<readonly [string, string]>;

export type Matcher = (labels: LabelLookup) => boolean;

export function evaluate(node: SelectorNode, labels: Labels): boolean {
  return matcherFor(node)(labelLookup(labels));
}

export function labelLookup(labels: Labels): LabelLookup {
  if (isLabelMap(labels)) return labels;
  // Own properties only: a label called `constructor` or `__proto__` must not find Object.prototype's.
  return { get: (key) => (Object.hasOwn(labels, key) ? labels[key] : undefined) };
}

function isLabelMap(labels: Labels): labels is ReadonlyMap<string, string> {
  return labels instanceof Map;
}

const compiled = new WeakMap<SelectorNode, Matcher>();

/** The compiled form of a tree; trees are immutable, so it is built once per node object. */
export function matcherFor(node: SelectorNode): Matcher {
  let matcher = compiled.get(node);
  if (matcher === undefined) {
    matcher = compile(node);
    compiled.set(node, matcher);
  }
  return matcher;
}

const always: Matcher = () => true;

function compile(node: SelectorNode): Matcher {
  switch (node.kind) {
    case 'all':
    case 'global':
      return always;
    case 'has': {
      const key = node.label;
      return (l) => l.get(key) !== undefined;
    }
    case 'eq': {
      const { label, value } = node;
      return (l) => l.get(label) === value;
    }
    case 'ne': {
      const { label, value } = node;
      return (l) => l.get(label) !== value;
    }
    case 'contains': {
      const { label, value } = node;
      return (l) => l.get(label)?.includes(value) === true;
    }
    case 'startsWith': {
      const { label, value } = node;
      return (l) => l.get(label)?.startsWith(value) === true;
    }
    case 'endsWith': {
      const { label, value } = node;
      return (l) => l.get(label)?.endsWith(value) === true;
    }
    case 'in': {
      const label = node.label;
      const values = new Set(node.values);
      return (l) => {
        const v = l.get(label);
        return v !== undefined && values.has(v);
      };
    }
    case 'notIn': {
      const label = node.label;
      const values = new Set(node.values);
      return (l) => {
        const v = l.get(label);
        return v === undefined || !values.has(v);
      };
    }
    case 'not': {
      const inner = matcherFor(node.operand);
      return (l) => !inner(l);
    }
    case 'and':
      return compileJunction(node.operands.map(matcherFor), false);
    case 'or':
      return compileJunction(node.operands.map(matcherFor), true);
  }
}

// `||` stops at the first true operand, `&&` at the first false one.
function compileJunction(operands: readonly Matcher[], stopOn: boolean): Matcher {
  if (operands.length === 2) {
    const [a, b] = operands as [Matcher, Matcher];
    return stopOn ? (l) => a(l) || b(l) : (l) => a(l) && b(l);
  }
  return (l) => {
    for (const m of operands) if (m(l) === stopOn) return stopOn;
    return !stopOn;
  };
}
