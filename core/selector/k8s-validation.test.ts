import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import {
  dns1123SubdomainErrors,
  isLabelValue,
  isQualifiedName,
  labelValueErrors,
  qualifiedNameErrors,
} from './k8s-validation.js';

test('qualified names: name or prefix/name', () => {
  for (const ok of [
    'a',
    'A9',
    'app',
    'my.name',
    '123-abc',
    'a_b',
    'example.com/MyName',
    'fedmesh.io/cluster',
    'x'.repeat(63),
  ]) {
    assert.deepEqual(qualifiedNameErrors(ok), [], ok);
  }
  assert.deepEqual(qualifiedNameErrors(`${'a'.repeat(253)}/n`), []);
});

test('qualified names: each problem in Kubernetes words', () => {
  assert.deepEqual(qualifiedNameErrors(''), [
    'name part must be non-empty',
    "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')",
  ]);
  assert.equal(qualifiedNameErrors('x'.repeat(64))[0], 'name part must be no more than 63 characters');
  assert.equal(qualifiedNameErrors('/a')[0], 'prefix part must be non-empty');
  assert.match(qualifiedNameErrors('Example.com/a')[0]!, /^prefix part a lowercase RFC 1123 subdomain/);
  assert.match(qualifiedNameErrors(`${'a'.repeat(254)}/n`)[0]!, /^prefix part must be no more than 253 characters/);
  assert.match(
    qualifiedNameErrors('a/b/c')[0]!,
    /^a qualified name must consist of .* with an optional DNS subdomain prefix/,
  );
  assert.equal(qualifiedNameErrors('a/b/c').length, 1);
  for (const bad of ['-a', 'a-', '.a', 'a b', 'a:b', 'é', 'example.com/'])
    assert.notDeepEqual(qualifiedNameErrors(bad), [], bad);
});

test('label values: empty, or up to 63 name characters starting and ending alphanumeric', () => {
  for (const ok of ['', 'a', 'MyValue', 'my_value', '12345', 'a.b-c_d', 'v'.repeat(63)])
    assert.deepEqual(labelValueErrors(ok), [], ok);
  assert.deepEqual(labelValueErrors('v'.repeat(64)), ['must be no more than 63 characters']);
  assert.deepEqual(labelValueErrors('-x'), [
    "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')",
  ]);
  for (const bad of ['a/b', 'a b', "it's", '"', 'x\n']) assert.notDeepEqual(labelValueErrors(bad), [], bad);
});

test('DNS-1123 subdomains are lower case', () => {
  assert.deepEqual(dns1123SubdomainErrors('a.b-c.d'), []);
  for (const bad of ['A', 'a_b', '-a', 'a.', '.a', 'a..b']) assert.notDeepEqual(dns1123SubdomainErrors(bad), [], bad);
});

test('isQualifiedName and isLabelValue agree with the error lists on arbitrary strings', () => {
  const piece = fc.constantFrom(
    'a',
    'Z',
    '9',
    '-',
    '_',
    '.',
    '/',
    'é',
    ' ',
    '\n',
    'example.com',
    'Example.com',
    'a..b',
    'x'.repeat(63),
    'x'.repeat(190),
    '',
  );
  const text = fc.oneof(
    fc.string(),
    fc.array(piece, { maxLength: 8 }).map((p) => p.join('')),
  );
  fc.assert(
    fc.property(text, (s) => {
      assert.equal(isQualifiedName(s), qualifiedNameErrors(s).length === 0, JSON.stringify(s));
      assert.equal(isLabelValue(s), labelValueErrors(s).length === 0, JSON.stringify(s));
    }),
    { numRuns: 5000 },
  );
  for (const s of [
    `${'a'.repeat(253)}/n`,
    `${'a'.repeat(254)}/n`,
    `a/${'x'.repeat(64)}`,
    'a/b/c',
    '/a',
    'a/',
    'a\n',
    'a.b-c.d/e',
    'a-.b/e',
    'a.-b/e',
    'a.b./e',
    '-a/e',
    'a-b/e',
    'ab',
  ]) {
    assert.equal(isQualifiedName(s), qualifiedNameErrors(s).length === 0, s);
  }
});
