// Property tests of the language as a whole. Random selectors are generated here together with their meaning (an
// evaluator written independently of evaluate.ts), rendered in random but valid styles (either quote, blanks or
// none, startswith/notin spellings, extra parentheses, runs of !), and then must parse, evaluate as meant, and keep
// that meaning through the canonical form, which must be a fixpoint. Random text must never raise anything but
// SelectorSyntaxError.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { canonicalSelector } from './canonical.js';
import { evaluate } from './evaluate.js';
import { SelectorIndex } from './index.js';
import { parseSelector } from './parser.js';
import { SelectorSyntaxError } from './syntax-error.js';

type LabelMap = Record<string, string>;

interface Generated {
  readonly text: string;
  readonly composite: boolean;
  readonly holds: (labels: LabelMap) => boolean;
}

const LABELS = ['a', 'b', 'c.d/e', 'in', '-x_9'] as const;
const VALUES = ['', 'x', 'y', 'xy', "it's", 'say "hi"', 'é', ' && b == ', '😀', 'Ａ'] as const;

const blank = fc.constantFrom('', ' ', '  ', '\t');
const someBlank = fc.constantFrom(' ', '  ', '\t', ' \t');
const labelArb = fc.constantFrom(...LABELS);
const valueArb = fc.constantFrom(...VALUES);

const get = (l: LabelMap, k: string): string | undefined => (Object.hasOwn(l, k) ? l[k] : undefined);

// A string literal in a quote it does not contain, chosen at random when both would do.
const literal = (value: string) =>
  fc.boolean().map((single) => {
    if (value.includes("'")) return `"${value}"`;
    if (value.includes('"')) return `'${value}'`;
    return single ? `'${value}'` : `"${value}"`;
  });

const compareOps = [
  { spellings: ['=='], holds: (v: string | undefined, x: string) => v === x, word: false },
  { spellings: ['!='], holds: (v: string | undefined, x: string) => v !== x, word: false },
  { spellings: ['contains'], holds: (v: string | undefined, x: string) => v?.includes(x) === true, word: true },
  {
    spellings: ['starts with', 'startswith', 'starts  with'],
    holds: (v: string | undefined, x: string) => v?.startsWith(x) === true,
    word: true,
  },
  {
    spellings: ['ends with', 'endswith', 'ends\twith'],
    holds: (v: string | undefined, x: string) => v?.endsWith(x) === true,
    word: true,
  },
] as const;

const compareArb: fc.Arbitrary<Generated> = fc
  .record({
    label: labelArb,
    op: fc.constantFrom(...compareOps),
    spelling: fc.nat(2),
    value: valueArb,
    b1: blank,
    b1w: someBlank,
    b2: blank,
  })
  .chain(({ label, op, spelling, value, b1, b1w, b2 }) =>
    literal(value).map((lit) => {
      const spelled = op.spellings[spelling % op.spellings.length]!;
      return {
        text: `${label}${op.word ? b1w : b1}${spelled}${b2}${lit}`,
        composite: false,
        holds: (l: LabelMap) => op.holds(get(l, label), value),
      };
    }),
  );

const setArb: fc.Arbitrary<Generated> = fc
  .record({
    label: labelArb,
    negated: fc.boolean(),
    spelling: fc.constantFrom('not in', 'notin', 'not \t in'),
    values: fc.array(valueArb, { maxLength: 4 }),
    trailingComma: fc.boolean(),
    b: someBlank,
    b2: blank,
  })
  .chain(({ label, negated, spelling, values, trailingComma, b, b2 }) =>
    fc.tuple(...values.map(literal)).map((lits) => {
      const members = lits.join(`,${b2}`) + (trailingComma && lits.length > 0 ? ',' : '');
      const set = new Set<string>(values);
      return {
        text: `${label}${b}${negated ? spelling : 'in'}${b2}{${b2}${members}${b2}}`,
        composite: false,
        holds: (l: LabelMap) => {
          const v = get(l, label);
          return negated ? v === undefined || !set.has(v) : v !== undefined && set.has(v);
        },
      };
    }),
  );

const hasArb: fc.Arbitrary<Generated> = fc
  .record({ label: labelArb, b1: blank, b2: blank })
  .map(({ label, b1, b2 }) => ({
    text: `has(${b1}${label}${b2})`,
    composite: false,
    holds: (l: LabelMap) => get(l, label) !== undefined,
  }));

const constantArb: fc.Arbitrary<Generated> = fc
  .tuple(fc.constantFrom('all', 'global'), blank)
  .map(([name, b]) => ({ text: `${name}(${b})`, composite: false, holds: () => true }));

const leafArb = fc.oneof(compareArb, setArb, hasArb, constantArb);

const parenthesised = (g: Generated, b: string): Generated => ({ ...g, text: `(${b}${g.text}${b})`, composite: false });

const selectorArb: fc.Arbitrary<Generated> = fc.letrec<{ node: Generated }>((tie) => ({
  node: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    leafArb,
    fc.tuple(tie('node'), fc.integer({ min: 1, max: 4 }), blank).map(([g, bangs, b]) => {
      const inner = g.composite ? parenthesised(g, b) : g;
      const odd = bangs % 2 === 1;
      return {
        text: `${'!'.repeat(bangs)}${b}${inner.text}`,
        composite: false,
        holds: (l: LabelMap) => (odd ? !g.holds(l) : g.holds(l)),
      };
    }),
    fc.tuple(fc.array(tie('node'), { minLength: 2, maxLength: 4 }), fc.boolean(), blank).map(([gs, isAnd, b]) => {
      const parts = gs.map((g) => (g.composite ? parenthesised(g, b) : g));
      return {
        text: parts.map((p) => p.text).join(`${b}${isAnd ? '&&' : '||'}${b}`),
        composite: true,
        holds: (l: LabelMap) => (isAnd ? gs.every((g) => g.holds(l)) : gs.some((g) => g.holds(l))),
      };
    }),
    fc.tuple(tie('node'), blank).map(([g, b]) => parenthesised(g, b)),
  ),
})).node;

const labelsArb = fc.dictionary(fc.constantFrom(...LABELS), fc.constantFrom(...VALUES), { maxKeys: 5 });

test('property: a random selector parses and evaluates as it was meant', () => {
  fc.assert(
    fc.property(selectorArb, fc.array(labelsArb, { minLength: 1, maxLength: 8 }), (g, labelSets) => {
      const node = parseSelector(g.text);
      for (const labels of labelSets) assert.equal(evaluate(node, labels), g.holds(labels), g.text);
    }),
    { numRuns: 1000 },
  );
});

test('property: the canonical form evaluates as the original and parses back to itself', () => {
  fc.assert(
    fc.property(selectorArb, fc.array(labelsArb, { minLength: 1, maxLength: 8 }), (g, labelSets) => {
      const original = parseSelector(g.text);
      const canonical = canonicalSelector(original);
      const again = parseSelector(canonical);
      assert.equal(canonicalSelector(again), canonical);
      for (const labels of labelSets) assert.equal(evaluate(again, labels), evaluate(original, labels), canonical);
    }),
    { numRuns: 1000 },
  );
});

test('property: the index matches random selectors exactly where they hold, through relabels and deletes', () => {
  const relabelArb = fc.tuple(fc.nat(5), labelsArb);
  fc.assert(
    fc.property(
      fc.array(selectorArb, { minLength: 1, maxLength: 6 }),
      fc.array(relabelArb, { minLength: 1, maxLength: 24 }),
      fc.array(relabelArb, { maxLength: 8 }),
      fc.nat(5),
      fc.array(relabelArb, { maxLength: 4 }),
      (generated, before, after, deleted, last) => {
        // Items before and after the selectors, so that both the selector's scan and the item's candidates count;
        // refiling early, so that keys move under them. Half the selectors come last, after a delete and items
        // that may reuse its slot: their scan reads the value lists the deletes and relabels left.
        const idx = new SelectorIndex<number, number>({ firstRefileAt: 2 });
        const items = new Map<number, LabelMap>();
        const apply = ([id, labels]: [number, LabelMap]) => {
          idx.setItem(id, labels);
          items.set(id, labels);
        };
        const early = Math.ceil(generated.length / 2);
        before.forEach(apply);
        generated.slice(0, early).forEach((g, i) => {
          idx.setSelector(i, parseSelector(g.text));
        });
        after.forEach(apply);
        idx.deleteItem(deleted);
        items.delete(deleted);
        last.forEach(apply);
        generated.slice(early).forEach((g, i) => {
          idx.setSelector(early + i, parseSelector(g.text));
        });
        for (const [id, labels] of items) {
          const expected = generated.flatMap((g, i) => (g.holds(labels) ? [i] : []));
          const texts = generated.map((g) => g.text).join(' ; ');
          assert.deepEqual(
            idx.selectorsMatching(id).sort((a, b) => a - b),
            expected,
            `${JSON.stringify(labels)} | ${texts}`,
          );
        }
        generated.forEach((g, i) => {
          const expected = [...items].flatMap(([id, labels]) => (g.holds(labels) ? [id] : []));
          assert.deepEqual(
            idx.matchingItems(i).sort((a, b) => a - b),
            expected.sort((a, b) => a - b),
            g.text,
          );
        });
      },
    ),
    { numRuns: 500 },
  );
});

/** The property for arbitrary text: a tree (whose canonical form is a fixpoint) or a SelectorSyntaxError in range. */
function parsesOrFailsCleanly(text: string): void {
  let node: ReturnType<typeof parseSelector>;
  try {
    node = parseSelector(text);
  } catch (err) {
    assert.ok(err instanceof SelectorSyntaxError, `${JSON.stringify(text)} raised ${String(err)}`);
    assert.ok(err.position >= 0 && err.position <= text.length, `${JSON.stringify(text)}: position ${err.position}`);
    return;
  }
  const canonical = canonicalSelector(node);
  assert.equal(canonicalSelector(parseSelector(canonical)), canonical, JSON.stringify(text));
}

test('property: random byte strings only ever raise the parse error', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) =>
      parsesOrFailsCleanly(Buffer.from(bytes).toString('latin1')),
    ),
    { numRuns: 3000 },
  );
  fc.assert(fc.property(fc.string({ unit: 'binary', maxLength: 64 }), parsesOrFailsCleanly), { numRuns: 3000 });
});

// Runs of real tokens reach far deeper into the grammar than random bytes do.
const tokenSoup = fc
  .array(
    fc.constantFrom(
      'a',
      'b.c/d',
      ' ',
      '\t',
      '==',
      '!=',
      '!',
      '=',
      '&',
      '|',
      '&&',
      '||',
      '(',
      ')',
      '{',
      '}',
      ',',
      "'x'",
      '"y"',
      "'",
      '"',
      'in',
      'not',
      'in',
      'notin',
      'contains',
      'starts',
      'with',
      'endswith',
      'has(',
      'has(a)',
      'all()',
      'global()',
      'all(',
      '\n',
      '%',
      'é',
    ),
    { maxLength: 24 },
  )
  .map((parts) => parts.join(''));

test('property: random runs of tokens only ever raise the parse error, and what parses is canonical-stable', () => {
  fc.assert(fc.property(tokenSoup, parsesOrFailsCleanly), { numRuns: 5000 });
});

test('property: blanks before and after a selector change nothing', () => {
  fc.assert(
    fc.property(selectorArb, blank, blank, (g, before, after) => {
      assert.equal(
        canonicalSelector(parseSelector(`${before}${g.text}${after}`)),
        canonicalSelector(parseSelector(g.text)),
      );
    }),
    { numRuns: 300 },
  );
});
