import assert from 'node:assert/strict';
import { test } from 'node:test';
import { canonicalSelector } from './canonical.js';
import { evaluate } from './evaluate.js';
import { compileLabelSelector, InvalidLabelSelectorError, validateLabelSelector } from './label-selector.js';
import { parseSelector } from './parser.js';

const canon = (s: Parameters<typeof compileLabelSelector>[0]) => canonicalSelector(compileLabelSelector(s));

test('an empty LabelSelector selects everything', () => {
  assert.equal(canon({}), 'all()');
  assert.equal(canon({ matchLabels: {}, matchExpressions: [] }), 'all()');
  assert.equal(canon({ matchLabels: null, matchExpressions: null }), 'all()');
});

test("compiles to Calico's conversion: sorted matchLabels, then expressions in order, joined by &&", () => {
  assert.equal(canon({ matchLabels: { app: 'db' } }), 'app == "db"');
  assert.equal(
    canon({
      matchLabels: { z: '1', a: '2' },
      matchExpressions: [
        { key: 'tier', operator: 'In', values: ['web', 'api', 'web'] },
        { key: 'env', operator: 'NotIn', values: ['prod'] },
        { key: 'team', operator: 'Exists' },
        { key: 'canary', operator: 'DoesNotExist', values: [] },
      ],
    }),
    '(a == "2" && z == "1" && tier in {"api", "web"} && env not in {"prod"} && has(team) && !has(canary))',
  );
  // The same as parsing the string Calico's conversion writes.
  assert.deepEqual(
    compileLabelSelector({ matchLabels: { a: 'b' }, matchExpressions: [{ key: 'c', operator: 'DoesNotExist' }] }),
    parseSelector("a == 'b' && ! has(c)"),
  );
});

test('Kubernetes semantics hold: NotIn and DoesNotExist match an absent label', () => {
  const node = compileLabelSelector({
    matchExpressions: [
      { key: 'env', operator: 'NotIn', values: ['prod'] },
      { key: 'canary', operator: 'DoesNotExist' },
    ],
  });
  assert.equal(evaluate(node, {}), true);
  assert.equal(evaluate(node, { env: 'dev' }), true);
  assert.equal(evaluate(node, { env: 'prod' }), false);
  assert.equal(evaluate(node, { canary: '' }), false);
});

test('operators: In/NotIn need values, Exists/DoesNotExist refuse them, others are invalid', () => {
  assert.deepEqual(validateLabelSelector({ matchExpressions: [{ key: 'a', operator: 'In', values: [] }] }), [
    "matchExpressions[0].values: Required value: must be specified when `operator` is 'In' or 'NotIn'",
  ]);
  assert.deepEqual(validateLabelSelector({ matchExpressions: [{ key: 'a', operator: 'NotIn' }] }), [
    "matchExpressions[0].values: Required value: must be specified when `operator` is 'In' or 'NotIn'",
  ]);
  assert.deepEqual(
    validateLabelSelector({ matchExpressions: [{ key: 'a', operator: 'Exists', values: ['x'] }] }, 'spec.podSelector'),
    [
      "spec.podSelector.matchExpressions[0].values: Forbidden: may not be specified when `operator` is 'Exists' or 'DoesNotExist'",
    ],
  );
  assert.deepEqual(validateLabelSelector({ matchExpressions: [{ key: 'a', operator: 'in', values: ['x'] }] }), [
    'matchExpressions[0].operator: Invalid value: "in": not a valid selector operator',
  ]);
});

test('keys and values are validated as Kubernetes label keys and values', () => {
  const errors = validateLabelSelector({
    matchLabels: { 'bad key': 'ok', good: 'bad value' },
    matchExpressions: [{ key: 'x/y/z', operator: 'In', values: ['fine', '-nope'] }],
  });
  assert.equal(errors.length, 4);
  assert.match(errors[0]!, /^matchLabels: Invalid value: "bad key": name part must consist of/);
  assert.match(errors[1]!, /^matchLabels: Invalid value: "bad value": a valid label must be an empty string/);
  assert.match(errors[2]!, /^matchExpressions\[0\]\.key: Invalid value: "x\/y\/z": a qualified name must/);
  assert.match(errors[3]!, /^matchExpressions\[0\]\.values\[1\]: Invalid value: "-nope": a valid label/);
});

test('compile refuses an invalid selector, listing every problem', () => {
  assert.throws(
    () =>
      compileLabelSelector({ matchLabels: { '': 'x' }, matchExpressions: [{ key: 'a', operator: 'Gt' }] }, 'from[0]'),
    (err: unknown) =>
      err instanceof InvalidLabelSelectorError &&
      err.errors.length === 3 &&
      err.errors.every((e) => e.startsWith('from[0].')) &&
      /not a valid selector operator/.test(err.message),
  );
});
