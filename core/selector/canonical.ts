// The canonical string of a selector, as Calico prints it (parser/ast.go, collectFragments): every && and || group
// in parentheses, `!` written directly before its operand, sets sorted and deduplicated and joined by ", ", and one
// quoting rule: double quotes, or single quotes when the value holds a double quote. Equal selectors print equal,
// and the printed form parses back to the same tree (see ast.ts `not` for the one place we differ from Calico).

import type { SelectorNode } from './ast.js';

export function canonicalSelector(node: SelectorNode): string {
  const parts: string[] = [];
  print(node, parts);
  return parts.join('');
}

const COMPARE_SPELLING = {
  eq: ' == ',
  ne: ' != ',
  contains: ' contains ',
  startsWith: ' starts with ',
  endsWith: ' ends with ',
} as const;

function print(node: SelectorNode, out: string[]): void {
  switch (node.kind) {
    case 'all':
      out.push('all()');
      return;
    case 'global':
      out.push('global()');
      return;
    case 'has':
      out.push('has(', node.label, ')');
      return;
    case 'eq':
    case 'ne':
    case 'contains':
    case 'startsWith':
    case 'endsWith':
      out.push(node.label, COMPARE_SPELLING[node.kind], quote(node.value));
      return;
    case 'in':
    case 'notIn':
      out.push(node.label, node.kind === 'in' ? ' in {' : ' not in {', node.values.map(quote).join(', '), '}');
      return;
    case 'not':
      out.push('!');
      print(node.operand, out);
      return;
    case 'and':
    case 'or': {
      const joiner = node.kind === 'and' ? ' && ' : ' || ';
      out.push('(');
      node.operands.forEach((op, i) => {
        if (i > 0) out.push(joiner);
        print(op, out);
      });
      out.push(')');
      return;
    }
  }
}

/** A string literal with the quote it does not contain. The parser never yields a value holding both kinds. */
export function quote(value: string): string {
  if (!value.includes('"')) return `"${value}"`;
  if (value.includes("'")) throw new RangeError(`a selector string cannot hold both quote kinds: ${value}`);
  return `'${value}'`;
}
