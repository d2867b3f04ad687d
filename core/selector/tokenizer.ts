// Calico's selector tokenizer, rule for rule (libcalico-go/lib/selector/tokenizer/tokenizer.go): whitespace is only
// space and tab; keyword operators are recognised only right after a label and need a word boundary after them;
// `has(`, `all(` and `global(` must be written without a space before the parenthesis; strings have no escapes.
//
// Instead of failing, tokenize() ends the list with an `error` token, so that the parser reports the leftmost
// problem: a grammar error before a lexical one is found first, as a reader would.

export type TokenKind =
  | 'label'
  | 'string'
  | 'eq'
  | 'ne'
  | 'in'
  | 'notIn'
  | 'contains'
  | 'startsWith'
  | 'endsWith'
  | 'has'
  | 'all'
  | 'global'
  | 'not'
  | 'and'
  | 'or'
  | 'lparen'
  | 'rparen'
  | 'lbrace'
  | 'rbrace'
  | 'comma'
  | 'eof'
  | 'error';

export interface Token {
  readonly kind: TokenKind;
  /** Index of the token's first character (for `error`: where the problem is). */
  readonly start: number;
  /** Index just past the token's last character. */
  readonly end: number;
  /** Label name, string contents, `has(` label; for `error`: what was expected. */
  readonly value: string;
  /** For `error` only: what was found instead. */
  readonly found?: string;
}

export const MAX_LABEL_LENGTH = 512;

/** Tokens of the input; the last is `eof`, or `error` at the first lexical problem. */
export function tokenize(input: string): Token[] {
  const tokens: Token[] = [];
  let pos = 0;
  for (;;) {
    pos = skipWhitespace(input, pos);
    if (pos >= input.length) {
      tokens.push({ kind: 'eof', start: pos, end: pos, value: '' });
      return tokens;
    }
    const previous = tokens[tokens.length - 1];
    const token = readToken(input, pos, previous?.kind === 'label' ? previous.value : undefined);
    tokens.push(token);
    if (token.kind === 'error') return tokens;
    pos = token.end;
  }
}

/** `afterLabel`: the label just read, when there is one; only an operator may follow it. */
function readToken(input: string, pos: number, afterLabel: string | undefined): Token {
  const c = input[pos]!;
  switch (c) {
    case '(':
      return punct('lparen', pos, 1);
    case ')':
      return punct('rparen', pos, 1);
    case '{':
      return punct('lbrace', pos, 1);
    case '}':
      return punct('rbrace', pos, 1);
    case ',':
      return punct('comma', pos, 1);
    case '"':
    case "'":
      return readString(input, pos, c);
    case '=':
      return input.startsWith('==', pos) ? punct('eq', pos, 2) : fail(pos, "'=='", "a single '='");
    case '!':
      return input.startsWith('!=', pos) ? punct('ne', pos, 2) : punct('not', pos, 1);
    case '&':
      return input.startsWith('&&', pos) ? punct('and', pos, 2) : fail(pos, "'&&'", "a single '&'");
    case '|':
      return input.startsWith('||', pos) ? punct('or', pos, 2) : fail(pos, "'||'", "a single '|'");
    default:
      return afterLabel === undefined ? readWord(input, pos) : readOperatorWord(input, pos, afterLabel);
  }
}

function punct(kind: TokenKind, start: number, length: number): Token {
  return { kind, start, end: start + length, value: '' };
}

/** An `error` token. An empty `expected` means "not a token here": the parser then says what it expected. */
function fail(position: number, expected: string, found: string): Token {
  return { kind: 'error', start: position, end: position, value: expected, found };
}

/** What sits at `position`, for error messages. */
export function describeAt(input: string, position: number): string {
  if (position >= input.length) return 'end of selector';
  const cp = input.codePointAt(position)!;
  const ch = String.fromCodePoint(cp);
  if (cp < 0x20 || cp === 0x7f) return `character U+${cp.toString(16).toUpperCase().padStart(4, '0')}`;
  return `'${ch}'`;
}

// No escapes: the literal runs to the next quote of the same kind, newlines and all.
function readString(input: string, pos: number, quote: string): Token {
  const close = input.indexOf(quote, pos + 1);
  if (close === -1) {
    return fail(input.length, `a closing ${quote} for the string that starts at ${pos}`, 'end of selector');
  }
  return { kind: 'string', start: pos, end: close + 1, value: input.slice(pos + 1, close) };
}

// After a label only an operator may follow; Calico tries these spellings in this order. `operand` is what the
// grammar wants after the operator (for error messages only).
const OPERATOR_WORDS: readonly { kind: TokenKind; words: readonly string[]; operand: string }[] = [
  { kind: 'contains', words: ['contains'], operand: 'a quoted string' },
  { kind: 'startsWith', words: ['starts', 'with'], operand: 'a quoted string' },
  { kind: 'endsWith', words: ['ends', 'with'], operand: 'a quoted string' },
  { kind: 'notIn', words: ['not', 'in'], operand: "a set literal '{'" },
  { kind: 'in', words: ['in'], operand: "a set literal '{'" },
];

/** What the parser and the tokenizer both say when a label is not followed by an operator. */
export function operatorExpected(label: string): string {
  return `an operator (==, !=, in, not in, contains, starts with, ends with) after label '${label}'`;
}

function readOperatorWord(input: string, pos: number, label: string): Token {
  for (const { kind, words, operand } of OPERATOR_WORDS) {
    const match = matchWords(input, pos, words);
    if (match.kind === 'operator') return { kind, start: pos, end: match.end, value: '' };
    if (match.kind === 'blocked') {
      return fail(match.at, `${operand} after '${words.join(' ')}'`, wordAt(input, match.at));
    }
  }
  return fail(pos, operatorExpected(label), wordAt(input, pos));
}

type WordsMatch =
  | { readonly kind: 'operator'; readonly end: number }
  | { readonly kind: 'no' }
  /** All words matched, but a label follows after blanks: Calico's tokenizer fails there (see matchWords). */
  | { readonly kind: 'blocked'; readonly at: number };

/**
 * Whether `words` stand at `pos`, blanks or none between them, followed by a word boundary. Calico differs by arity:
 * a one-word operator (`in`, `contains`) tests the boundary right after the word, so `a in b` tokenizes (and the
 * parser refuses it); a multi-word one skips blanks after its last word first, so `a not in b` fails in the
 * tokenizer. Either way it is an error; we report the latter at the label that blocks it.
 */
function matchWords(input: string, pos: number, words: readonly string[]): WordsMatch {
  let wordEnd = pos;
  let p = pos;
  for (const word of words) {
    if (!input.startsWith(word, p)) return { kind: 'no' };
    wordEnd = p + word.length;
    p = words.length > 1 ? skipWhitespace(input, wordEnd) : wordEnd;
  }
  if (p < input.length && isLabelChar(input.charCodeAt(p)))
    return p > wordEnd ? { kind: 'blocked', at: p } : { kind: 'no' };
  return { kind: 'operator', end: wordEnd };
}

/** The run of label characters at `pos`, quoted, or a description of what is there. */
function wordAt(input: string, pos: number): string {
  let end = pos;
  while (end < input.length && isLabelChar(input.charCodeAt(end))) end++;
  return end > pos ? `'${input.slice(pos, end)}'` : describeAt(input, pos);
}

function readWord(input: string, pos: number): Token {
  if (input.startsWith('has(', pos)) return readHas(input, pos);
  if (input.startsWith('all(', pos)) return readEmptyCall(input, pos, 'all');
  if (input.startsWith('global(', pos)) return readEmptyCall(input, pos, 'global');
  if (!isLabelChar(input.charCodeAt(pos))) return fail(pos, '', describeAt(input, pos));
  return readLabel(input, pos);
}

function readHas(input: string, pos: number): Token {
  const labelStart = skipWhitespace(input, pos + 'has('.length);
  const label = readLabel(input, labelStart);
  if (label.kind === 'error') return label;
  const close = skipWhitespace(input, label.end);
  if (input[close] !== ')') return fail(close, `')' to close has(${label.value}`, describeAt(input, close));
  return { kind: 'has', start: pos, end: close + 1, value: label.value };
}

function readEmptyCall(input: string, pos: number, kind: 'all' | 'global'): Token {
  const close = skipWhitespace(input, pos + kind.length + 1);
  if (input[close] !== ')') return fail(close, `')' to close ${kind}(`, describeAt(input, close));
  return { kind, start: pos, end: close + 1, value: '' };
}

function readLabel(input: string, pos: number): Token {
  let end = pos;
  while (end < input.length && isLabelChar(input.charCodeAt(end))) end++;
  if (end === pos) return fail(pos, 'a label', describeAt(input, pos));
  if (end - pos > MAX_LABEL_LENGTH) {
    return fail(pos, `a label of at most ${MAX_LABEL_LENGTH} characters`, `one of ${end - pos}`);
  }
  return { kind: 'label', start: pos, end, value: input.slice(pos, end) };
}

function skipWhitespace(input: string, pos: number): number {
  let p = pos;
  while (p < input.length) {
    const c = input.charCodeAt(p);
    if (c !== 0x20 && c !== 0x09) break;
    p++;
  }
  return p;
}

/** `[a-zA-Z0-9_./-]`: the characters of a Calico label. */
export function isLabelChar(c: number): boolean {
  return (
    (c >= 0x61 && c <= 0x7a) || // a-z
    (c >= 0x41 && c <= 0x5a) || // A-Z
    (c >= 0x30 && c <= 0x39) || // 0-9
    c === 0x5f || // _
    c === 0x2e || // .
    c === 0x2f || // /
    c === 0x2d // -
  );
}
