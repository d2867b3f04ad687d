// The canonical string of a selector, as Calico prints it (parser/ast.go, collectFragments): every && and || group
// in parentheses, `!` written directly before its operand, sets sorted and deduplicated and joined by ", ", and one
// quoting rule: double quotes, or single quotes when the value holds a double quote. Equal selectors print equal,
// and the printed form parses back to the same tree (see ast.ts `not` for the one place we differ from Calico).

import type { SelectorNode } from './ast.js';

export function canonicalSelector(node: SelectorNode): string {
  switch (node.kind) {
    case 'all':
      return 'all()';
    case 'global':
      return 'global()';
    case 'has':
      return `has(${node.label})`;
    case 'eq':
    case 'ne':
    case 'contains':
    case 'startsWith':
    case 'endsWith':
      return node.label + COMPARE_SPELLING[node.kind] + quote(node.value);
    case 'in':
    case 'notIn': {
      // Concatenation, not map/join: this prints every selector of every admission review.
      let set = '';
      for (let i = 0; i < node.values.length; i++) set += (i > 0 ? ', ' : '') + quote(node.values[i]!);
      return `${node.label}${node.kind === 'in' ? ' in {' : ' not in {'}${set}}`;
    }
    case 'not':
      return `!${canonicalSelector(node.operand)}`;
    case 'and':
    case 'or': {
      const joiner = node.kind === 'and' ? ' && ' : ' || ';
      let out = '(';
      for (let i = 0; i < node.operands.length; i++)
        out += (i > 0 ? joiner : '') + canonicalSelector(node.operands[i]!);
      return `${out})`;
    }
  }
}

const COMPARE_SPELLING = {
  eq: ' == ',
  ne: ' != ',
  contains: ' contains ',
  startsWith: ' starts with ',
  endsWith: ' ends with ',
} as const;

/** A string literal with the quote it does not contain. The parser never yields a value holding both kinds. */
export function quote(value: string): string {
  if (!value.includes('"')) return `"${value}"`;
  if (value.includes("'")) throw new RangeError(`a selector string cannot hold both quote kinds: ${value}`);
  return `'${value}'`;
}
