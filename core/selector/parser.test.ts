import assert from 'node:assert/strict';
import { test } from 'node:test';
import { all, and, compare, global, has, inSet, not, or, type SelectorNode } from './ast.js';
import { checkSelector, MAX_NESTING, parseSelector } from './parser.js';
import { SelectorSyntaxError } from './syntax-error.js';

const a = compare('eq', 'a', 'b');
const c = compare('eq', 'c', 'd');
const e = compare('eq', 'e', 'f');

test('every operator parses to its node', () => {
  const cases: [string, SelectorNode][] = [
    ['a == "b"', a],
    ["a == 'b'", a],
    ['a != "b"', compare('ne', 'a', 'b')],
    ['a contains "b"', compare('contains', 'a', 'b')],
    ['a starts with "b"', compare('startsWith', 'a', 'b')],
    ['a ends with "b"', compare('endsWith', 'a', 'b')],
    ['a in {"x", "y"}', inSet('in', 'a', ['x', 'y'])],
    ['a not in {"x"}', inSet('notIn', 'a', ['x'])],
    ['has(a)', has('a')],
    ['!has(a)', not(has('a'))],
    ['all()', all()],
    ['global()', global()],
    ['a == "b" && c == "d"', and([a, c])],
    ['a == "b" || c == "d"', or([a, c])],
    ['!a == "b"', not(a)],
    ['(a == "b")', a],
  ];
  for (const [input, node] of cases) assert.deepEqual(parseSelector(input), node, input);
});

test('an empty or blank selector is all()', () => {
  for (const input of ['', ' ', '\t \t']) assert.deepEqual(parseSelector(input), all(), JSON.stringify(input));
});

test('&& binds tighter than ||', () => {
  assert.deepEqual(parseSelector('a == "b" || c == "d" && e == "f"'), or([a, and([c, e])]));
  assert.deepEqual(parseSelector('a == "b" && c == "d" || e == "f"'), or([and([a, c]), e]));
});

test('chains stay flat, parentheses nest', () => {
  assert.deepEqual(parseSelector('a == "b" && c == "d" && e == "f"'), and([a, c, e]));
  assert.deepEqual(parseSelector('a == "b" && (c == "d" && e == "f")'), and([a, and([c, e])]));
  assert.deepEqual(parseSelector('(a == "b" || c == "d") && e == "f"'), and([or([a, c]), e]));
  assert.deepEqual(parseSelector('((((a == "b"))))'), a);
});

test('! applies to one operation or one group, before && and ||', () => {
  assert.deepEqual(parseSelector('!a == "b" && c == "d"'), and([not(a), c]));
  assert.deepEqual(parseSelector('!(a == "b" && c == "d")'), not(and([a, c])));
  assert.deepEqual(parseSelector('! has(my-label) || my-label starts with "prod" && role in {"a"}'), {
    kind: 'or',
    operands: [not(has('my-label')), and([compare('startsWith', 'my-label', 'prod'), inSet('in', 'role', ['a'])])],
  });
});

test('! counts by parity, with blanks anywhere between', () => {
  for (const input of ['!!has(a)', '!! has(a)', '! !has(a)', '!!!!has(a)'])
    assert.deepEqual(parseSelector(input), has('a'));
  for (const input of ['!has(a)', '!!!has(a)', '!! ! has(a)', '! !!has(a)']) {
    assert.deepEqual(parseSelector(input), not(has('a')));
  }
  // A negated group holding a negation folds too (Calico would print `!!a == "b"`).
  assert.deepEqual(parseSelector('!(!a == "b")'), a);
});

test('set literals: empty, one, many, a trailing comma, duplicates removed and sorted', () => {
  assert.deepEqual(parseSelector('a in {}'), inSet('in', 'a', []));
  assert.deepEqual(parseSelector('a not in {}'), inSet('notIn', 'a', []));
  assert.deepEqual(parseSelector('a in {"x",}'), inSet('in', 'a', ['x']));
  assert.deepEqual(parseSelector("a in {'z', \"x\", 'z', 'y',}"), { kind: 'in', label: 'a', values: ['x', 'y', 'z'] });
  assert.deepEqual(parseSelector('a in {"\'", \'"\'}'), { kind: 'in', label: 'a', values: ['"', "'"] });
});

test('spellings without blanks: startswith, endswith, notin, and none around symbols', () => {
  assert.deepEqual(parseSelector('a startswith"b"'), compare('startsWith', 'a', 'b'));
  assert.deepEqual(parseSelector('a endswith "b"'), compare('endsWith', 'a', 'b'));
  assert.deepEqual(parseSelector('a notin{"b"}'), inSet('notIn', 'a', ['b']));
  assert.deepEqual(parseSelector('a=="b"&&c=="d"'), and([a, c]));
  assert.deepEqual(parseSelector('a!="b"||!has(c)'), or([compare('ne', 'a', 'b'), not(has('c'))]));
});

test('labels take the whole label character set, and words that are operators elsewhere', () => {
  assert.deepEqual(parseSelector('projectcalico.org/name == "x"'), compare('eq', 'projectcalico.org/name', 'x'));
  assert.deepEqual(parseSelector('_.-/9 == "x"'), compare('eq', '_.-/9', 'x'));
  assert.deepEqual(parseSelector('in in {"in"}'), inSet('in', 'in', ['in']));
  assert.deepEqual(
    parseSelector('has == "x" && all == "y"'),
    and([compare('eq', 'has', 'x'), compare('eq', 'all', 'y')]),
  );
});

test('string values keep everything between the quotes', () => {
  assert.deepEqual(parseSelector(`a == "it's"`), compare('eq', 'a', "it's"));
  assert.deepEqual(parseSelector(`a == '"q"'`), compare('eq', 'a', '"q"'));
  assert.deepEqual(parseSelector('a == " && b == \'"'), compare('eq', 'a', " && b == '"));
  assert.deepEqual(parseSelector('a == "é\n🙂"'), compare('eq', 'a', 'é\n🙂'));
});

// Each error: the selector, the 0-based position, and what must be said to be expected there.
const errors: [string, number, RegExp][] = [
  ['b == b', 5, /expected a quoted string after '==', found label 'b'/],
  ['b != b', 5, /quoted string after '!='/],
  ['b contains b', 11, /quoted string after 'contains'/],
  ['b starts with b', 14, /quoted string after 'starts with'/],
  ['b ends with b', 12, /quoted string after 'ends with'/],
  ["'b1' == b", 0, /expected a label, has\(…\), all\(\), global\(\), '!' or '\(', found a quoted string/],
  ['b', 1, /operator .* after label 'b', found end of selector/],
  ['a b', 2, /operator .* after label 'a', found 'b'/],
  ['a "b"', 2, /operator .* after label 'a', found a quoted string/],
  ['a has(b)', 2, /operator .* after label 'a', found 'has'/],
  ['!', 1, /expected a label.*found end of selector/],
  ['foo == "bar" &', 13, /expected '&&', found a single '&'/],
  ['foo == "bar" |', 13, /expected '\|\|', found a single '\|'/],
  ['foo = "bar"', 4, /expected '==', found a single '='/],
  ['foo != ||', 7, /quoted string after '!=', found '\|\|'/],
  ['foo in {"", ||', 12, /expected a quoted string or '}', found '\|\|'/],
  ['foo in ""', 7, /expected a set literal '\{' after 'in', found a quoted string/],
  ['foo not in "x"', 11, /set literal '\{' after 'not in'/],
  ['foo in {"a" "b"}', 12, /expected ',' or '}', found a quoted string/],
  ['foo in {,}', 8, /expected a quoted string or '}', found ','/],
  ['foo in {"a",,}', 12, /expected a quoted string or '}', found ','/],
  ['foo in {"a"', 11, /expected ',' or '}', found end of selector/],
  ['foo in {a}', 8, /expected a quoted string or '}', found label 'a'/],
  ['"FOO', 4, /closing " for the string that starts at 0/],
  [`"FOO'`, 5, /closing " for the string that starts at 0/],
  ["'FOO", 4, /closing ' for the string that starts at 0/],
  ['(', 1, /expected a label.*found end of selector/],
  ['(a == "foo"', 11, /expected '&&', '\|\|' or '\)', found end of selector/],
  [')', 0, /expected a label.*found '\)'/],
  ['()', 1, /expected a label.*found '\)'/],
  ['a == "b")', 8, /expected '&&', '\|\|' or the end of the selector, found '\)'/],
  ['a == "b" c == "d"', 9, /'&&', '\|\|' or the end of the selector, found label 'c'/],
  ['has(a) has(b)', 7, /the end of the selector, found 'has\(b\)'/],
  ['%', 0, /expected a label.*found '%'/],
  ['a == "b" && %', 12, /expected a label.*found '%'/],
  ['a == "b" || %', 12, /expected a label.*found '%'/],
  ['a ', 2, /operator .* after label 'a', found end of selector/],
  ['has(foo) &&', 11, /expected a label.*found end of selector/],
  ['&& a == "b"', 0, /expected a label.*found '&&'/],
  ['has (a)', 4, /operator .* after label 'has', found '\('/],
  ['has(a b)', 6, /'\)' to close has\(a, found 'b'/],
  ['has()', 4, /expected a label, found '\)'/],
  ['all(x)', 4, /'\)' to close all\(, found 'x'/],
  ['global(', 7, /'\)' to close global\(, found end of selector/],
  ['a inx {}', 2, /operator .* after label 'a', found 'inx'/],
  ['a not in b', 9, /expected a set literal '\{' after 'not in', found 'b'/],
  ['a starts with  x', 15, /expected a quoted string after 'starts with', found 'x'/],
  ['a contains b', 11, /expected a quoted string after 'contains', found label 'b'/],
  ['a in b', 5, /set literal '\{' after 'in', found label 'b'/],
  ['a ==\n"b"', 4, /quoted string after '==', found character U\+000A/],
  ['a == "b" &&\nc == "d"', 11, /expected a label.*found character U\+000A/],
  ['a == "b" && é == "x"', 12, /expected a label.*found 'é'/],
  [`${'x'.repeat(513)} == "a"`, 0, /expected a label of at most 512 characters, found one of 513/],
  ['a == "b" && !', 13, /expected a label.*found end of selector/],
  ['!(a == "b"))', 11, /the end of the selector, found '\)'/],
];

test('every error path reports its position and what was expected there', () => {
  for (const [input, position, message] of errors) {
    assert.throws(
      () => parseSelector(input),
      (err: unknown) => {
        assert.ok(err instanceof SelectorSyntaxError, `${input}: ${String(err)}`);
        assert.equal(err.position, position, `${JSON.stringify(input)}: ${err.message}`);
        assert.match(err.message, message, JSON.stringify(input));
        return true;
      },
    );
  }
});

test('the leftmost problem wins: a grammar error before a lexical one is reported first', () => {
  const r = checkSelector('a == b && "unterminated');
  assert.equal(r.ok, false);
  if (!r.ok) assert.equal(r.error.position, 5);
});

test('checkSelector returns the tree or the error instead of throwing', () => {
  const good = checkSelector('has(a)');
  assert.deepEqual(good, { ok: true, node: has('a') });
  const bad = checkSelector('has(a');
  assert.equal(bad.ok, false);
  if (!bad.ok) {
    assert.ok(bad.error instanceof SelectorSyntaxError);
    assert.equal(bad.error.position, 5);
    assert.equal(bad.error.expected, "')' to close has(a");
  }
});

test(`parentheses nest up to ${MAX_NESTING} deep, and deeper is a parse error, not a crash`, () => {
  const nested = (n: number) => `${'('.repeat(n)}a == "b"${')'.repeat(n)}`;
  assert.deepEqual(parseSelector(nested(MAX_NESTING)), a);
  assert.throws(
    () => parseSelector(nested(MAX_NESTING + 1)),
    (err: unknown) => err instanceof SelectorSyntaxError && err.position === MAX_NESTING && /nested/.test(err.message),
  );
  // Long flat chains and long runs of ! are not nesting.
  const chain = Array.from({ length: 5000 }, (_, i) => `k${i} == "v"`).join(' && ');
  const parsed = parseSelector(chain);
  assert.equal(parsed.kind === 'and' ? parsed.operands.length : 0, 5000);
  assert.deepEqual(parseSelector(`${'!'.repeat(10001)}has(a)`), not(has('a')));
});
