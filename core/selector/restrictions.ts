// What a selector demands of a label map before it can match: the labels that must be present and, for some, the
// only values they may have. Sound, not complete: a selector may demand more than this says, never less. The index
// uses it to find the few selectors an item could match, and the cluster scope reads it for fedmesh.io/cluster.
// Same rules as Calico's LabelRestrictions (parser/ast.go); `!has()` absence is not tracked, nothing here needs it.

import type { SelectorNode } from './ast.js';

/** `'any'`: present with any value; a set: present with one of these values (an empty set: can never match). */
export type ValueConstraint = 'any' | ReadonlySet<string>;

export type RequiredLabels = ReadonlyMap<string, ValueConstraint>;

export function requiredLabels(node: SelectorNode): RequiredLabels {
  switch (node.kind) {
    case 'eq':
      return new Map([[node.label, new Set([node.value])]]);
    case 'in':
      return new Map([[node.label, new Set(node.values)]]);
    case 'has':
    case 'contains':
    case 'startsWith':
    case 'endsWith':
      return new Map([[node.label, 'any']]);
    case 'and':
      return node.operands.map(requiredLabels).reduce(bothOf);
    case 'or':
      return node.operands.map(requiredLabels).reduce(eitherOf);
    default:
      // ne, notIn, all, global, not: each can match with any given label absent.
      return new Map();
  }
}

/**
 * What the selector demands of one label: `requiredLabels(node).get(label)`, without building a map for every
 * label (the cluster scope of every peer of every admission review asks this for fedmesh.io/cluster alone).
 */
export function requiredValues(node: SelectorNode, label: string): ValueConstraint | undefined {
  switch (node.kind) {
    case 'eq':
      return node.label === label ? new Set([node.value]) : undefined;
    case 'in':
      return node.label === label ? new Set(node.values) : undefined;
    case 'has':
    case 'contains':
    case 'startsWith':
    case 'endsWith':
      return node.label === label ? 'any' : undefined;
    case 'and': {
      // bothOf, left to right: the first operand that requires the label, intersected with each later one.
      let out: ValueConstraint | undefined;
      for (const op of node.operands) {
        const c = requiredValues(op, label);
        if (c !== undefined) out = out === undefined ? c : intersect(out, c);
      }
      return out;
    }
    case 'or': {
      // eitherOf, left to right: required only while every operand so far requires it.
      let out = requiredValues(node.operands[0]!, label);
      for (let i = 1; i < node.operands.length && out !== undefined; i++) {
        const c = requiredValues(node.operands[i]!, label);
        out = c === undefined ? undefined : union(out, c);
      }
      return out;
    }
    default:
      return undefined;
  }
}

/** Both must hold: every label of either is required, with the intersection of their value sets. */
function bothOf(a: RequiredLabels, b: RequiredLabels): RequiredLabels {
  const out = new Map(a);
  for (const [label, constraint] of b) {
    const mine = out.get(label);
    out.set(label, mine === undefined ? constraint : intersect(mine, constraint));
  }
  return out;
}

/** Either may hold: only labels both require, with the union of their value sets. */
function eitherOf(a: RequiredLabels, b: RequiredLabels): RequiredLabels {
  const out = new Map<string, ValueConstraint>();
  for (const [label, mine] of a) {
    const theirs = b.get(label);
    if (theirs !== undefined) out.set(label, union(mine, theirs));
  }
  return out;
}

function intersect(a: ValueConstraint, b: ValueConstraint): ValueConstraint {
  if (a === 'any') return b;
  if (b === 'any') return a;
  return new Set([...a].filter((v) => b.has(v)));
}

function union(a: ValueConstraint, b: ValueConstraint): ValueConstraint {
  if (a === 'any' || b === 'any') return 'any';
  return new Set([...a, ...b]);
}
