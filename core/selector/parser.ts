// Calico's selector grammar (libcalico-go/lib/selector/parser/parser.go), by recursive descent:
//
//   selector  := <empty> | or EOF                  (empty or blank = all())
//   or        := and ( "||" and )*
//   and       := op ( "&&" op )*
//   op        := "!"* ( has(L) | all() | global() | "(" or ")"
//                     | L ("==" | "!=" | contains | starts with | ends with) STRING
//                     | L ("in" | "not in") "{" [ STRING ("," STRING)* [","] ] "}" )
//
// `!` binds to one op or one parenthesised group, and repeated `!` cancel by parity. Parentheses make no node.

import {
  all,
  and,
  type CompareKind,
  compare,
  global,
  has,
  inSet,
  not,
  or,
  type SelectorNode,
  type SetKind,
} from './ast.js';
import { SelectorSyntaxError } from './syntax-error.js';
import { describeAt, operatorExpected, type Token, type TokenKind, tokenize } from './tokenizer.js';

/**
 * Deepest nesting of parentheses accepted. Calico has no limit (Go stacks grow); ours keeps a hostile selector from
 * exhausting the JavaScript stack in the parser, the evaluator or the printer. Real selectors nest a few levels.
 */
export const MAX_NESTING = 256;

/** Parses a selector as Calico does, or throws SelectorSyntaxError at the leftmost problem. */
export function parseSelector(input: string): SelectorNode {
  return new Parser(input).parseRoot();
}

export type SelectorCheck =
  | { readonly ok: true; readonly node: SelectorNode }
  | { readonly ok: false; readonly error: SelectorSyntaxError };

/** parseSelector without the throw, for callers that report rather than fail. */
export function checkSelector(input: string): SelectorCheck {
  try {
    return { ok: true, node: parseSelector(input) };
  } catch (err) {
    if (err instanceof SelectorSyntaxError) return { ok: false, error: err };
    throw err;
  }
}

const COMPARE_KINDS: Partial<Record<TokenKind, CompareKind>> = {
  eq: 'eq',
  ne: 'ne',
  contains: 'contains',
  startsWith: 'startsWith',
  endsWith: 'endsWith',
};

const SET_KINDS: Partial<Record<TokenKind, SetKind>> = { in: 'in', notIn: 'notIn' };

const OPERATOR_SPELLING: Partial<Record<TokenKind, string>> = {
  eq: '==',
  ne: '!=',
  contains: 'contains',
  startsWith: 'starts with',
  endsWith: 'ends with',
  in: 'in',
  notIn: 'not in',
};

const OPERATION_EXPECTED = "a label, has(…), all(), global(), '!' or '('";

class Parser {
  private readonly tokens: Token[];
  private index = 0;
  private depth = 0;

  constructor(private readonly input: string) {
    this.tokens = tokenize(input);
  }

  parseRoot(): SelectorNode {
    if (this.peek().kind === 'eof') return all();
    const node = this.parseOr();
    if (this.peek().kind !== 'eof') this.fail("'&&', '||' or the end of the selector");
    return node;
  }

  private parseOr(): SelectorNode {
    const first = this.parseAnd();
    if (this.peek().kind !== 'or') return first;
    const operands = [first];
    while (this.peek().kind === 'or') {
      this.index++;
      operands.push(this.parseAnd());
    }
    return or(operands);
  }

  private parseAnd(): SelectorNode {
    const first = this.parseOperation();
    if (this.peek().kind !== 'and') return first;
    const operands = [first];
    while (this.peek().kind === 'and') {
      this.index++;
      operands.push(this.parseOperation());
    }
    return and(operands);
  }

  private parseOperation(): SelectorNode {
    let negated = false;
    while (this.peek().kind === 'not') {
      negated = !negated;
      this.index++;
    }
    const node = this.parseOperand();
    return negated ? not(node) : node;
  }

  private parseOperand(): SelectorNode {
    const token = this.peek();
    switch (token.kind) {
      case 'has':
        this.index++;
        return has(token.value);
      case 'all':
        this.index++;
        return all();
      case 'global':
        this.index++;
        return global();
      case 'lparen':
        return this.parseGroup();
      case 'label':
        this.index++;
        return this.parseMatch(token.value);
      default:
        return this.fail(OPERATION_EXPECTED);
    }
  }

  private parseGroup(): SelectorNode {
    if (this.depth >= MAX_NESTING) this.fail(`at most ${MAX_NESTING} nested parentheses`);
    this.index++;
    this.depth++;
    const inner = this.parseOr();
    this.depth--;
    if (this.peek().kind !== 'rparen') this.fail("'&&', '||' or ')'");
    this.index++;
    return inner;
  }

  private parseMatch(label: string): SelectorNode {
    const op = this.peek();
    const compareKind = COMPARE_KINDS[op.kind];
    const setKind = SET_KINDS[op.kind];
    if (compareKind === undefined && setKind === undefined) {
      return this.fail(operatorExpected(label));
    }
    this.index++;
    const spelling = OPERATOR_SPELLING[op.kind];
    if (compareKind !== undefined) {
      const value = this.peek();
      if (value.kind !== 'string') return this.fail(`a quoted string after '${spelling}'`);
      this.index++;
      return compare(compareKind, label, value.value);
    }
    if (this.peek().kind !== 'lbrace') return this.fail(`a set literal '{' after '${spelling}'`);
    this.index++;
    return inSet(setKind!, label, this.parseSetMembers());
  }

  // After `{`: strings separated by commas, an optional trailing comma, then `}`.
  private parseSetMembers(): string[] {
    const values: string[] = [];
    while (this.peek().kind === 'string') {
      values.push(this.peek().value);
      this.index++;
      if (this.peek().kind !== 'comma') break;
      this.index++;
    }
    if (this.peek().kind !== 'rbrace') {
      this.fail(
        values.length === 0 || this.tokens[this.index - 1]?.kind === 'comma' ? "a quoted string or '}'" : "',' or '}'",
      );
    }
    this.index++;
    return values;
  }

  private peek(): Token {
    return this.tokens[this.index]!;
  }

  /** Throws at the current token: a lexical error as the tokenizer described it, otherwise `expected` there. */
  private fail(expected: string): never {
    const token = this.peek();
    if (token.kind === 'error' && token.value !== '') {
      throw new SelectorSyntaxError(token.start, token.value, token.found ?? describeAt(this.input, token.start));
    }
    throw new SelectorSyntaxError(token.start, expected, this.describe(token));
  }

  private describe(token: Token): string {
    switch (token.kind) {
      case 'eof':
        return 'end of selector';
      case 'label':
        return `label '${token.value}'`;
      case 'string':
        return 'a quoted string';
      case 'error':
        return token.found ?? describeAt(this.input, token.start);
      default:
        return `'${this.input.slice(token.start, token.end)}'`;
    }
  }
}
