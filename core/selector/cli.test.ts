// End to end through the real entry point: `node bin/fedmesh.js selector …` (needs the compiled dist/).

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { evalRequest } from './cli.js';

const bin = fileURLToPath(new URL('../../../bin/fedmesh.js', import.meta.url));

function fedmesh(args: string[], input?: string) {
  const res = spawnSync(process.execPath, [bin, 'selector', ...args], { input, encoding: 'utf8' });
  return { code: res.status, stdout: res.stdout, stderr: res.stderr };
}

test('check prints the canonical form and exits 0', () => {
  const r = fedmesh(['check', "app in {'web','api',} && !has(canary)"]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, '(app in {"api", "web"} && !has(canary))\n');
  assert.equal(fedmesh(['check', '']).stdout, 'all()\n');
});

test('check shows the error with a caret under its position and exits 1', () => {
  const r = fedmesh(['check', 'app == web']);
  assert.equal(r.code, 1);
  assert.equal(r.stdout, '');
  assert.equal(
    r.stderr,
    "fedmesh selector: invalid selector at position 7: expected a quoted string after '==', found label 'web'\n" +
      '  app == web\n' +
      '         ^\n',
  );
});

test('check takes an expression starting with - after --', () => {
  const r = fedmesh(['check', '--', "-x == 'y'"]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, '-x == "y"\n');
});

test('usage mistakes exit 2 with a pointer to --help', () => {
  for (const args of [[], ['frobnicate'], ['check'], ['check', 'a', 'b'], ['check', '--bogus', 'x'], ['eval', 'x']]) {
    const r = fedmesh(args);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, /fedmesh selector/);
    assert.match(r.stderr, /--help/);
  }
});

test('--help describes both subcommands', () => {
  for (const args of [['--help'], ['check', '--help'], ['eval', '-h']]) {
    const r = fedmesh(args);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /check EXPR/);
    assert.match(r.stdout, /eval/);
  }
});

test('eval answers each JSON line in order, and goes on after a bad one', () => {
  const input = [
    JSON.stringify({ selector: "app == 'web'", labels: { app: 'web' } }),
    'this is not json',
    JSON.stringify({ selector: 'env != "prod"', labels: { env: 'prod' } }),
    JSON.stringify({ selector: 'app ==', labels: {} }),
    '',
    JSON.stringify({ selector: 'has(x)' }),
  ].join('\n');
  const r = fedmesh(['eval'], `${input}\n`);
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.trimEnd().split('\n');
  assert.equal(lines.length, 6);
  const out = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
  assert.deepEqual(out[0], { valid: true, match: true, canonical: 'app == "web"' });
  assert.equal(out[1]?.valid, false);
  assert.equal(typeof out[1]?.error, 'string');
  assert.equal('position' in (out[1] ?? {}), false);
  assert.deepEqual(out[2], { valid: true, match: false, canonical: 'env != "prod"' });
  assert.deepEqual(out[3], {
    valid: false,
    error: "expected a quoted string after '==', found end of selector",
    position: 6,
  });
  assert.equal(out[4]?.valid, false);
  assert.deepEqual(out[5], { valid: true, match: false, canonical: 'has(x)' });
});

test('eval handles CRLF input and no trailing newline', () => {
  const r = fedmesh(['eval'], '{"selector":"all()","labels":{}}\r\n{"selector":"!all()","labels":{}}');
  assert.deepEqual(
    r.stdout
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l)),
    [
      { valid: true, match: true, canonical: 'all()' },
      { valid: true, match: false, canonical: '!all()' },
    ],
  );
});

test('evalRequest checks the shape of each request', () => {
  assert.deepEqual(evalRequest('[1]'), {
    valid: false,
    error: 'expected a JSON object {"selector": "...", "labels": {...}}',
  });
  assert.deepEqual(evalRequest('{"labels":{}}'), { valid: false, error: '"selector" must be a string' });
  assert.deepEqual(evalRequest('{"selector":"all()","labels":{"a":1}}'), {
    valid: false,
    error: '"labels" must be an object of string values',
  });
  assert.deepEqual(evalRequest('{"selector":"all()","labels":["a"]}'), {
    valid: false,
    error: '"labels" must be an object of string values',
  });
  assert.deepEqual(evalRequest('{"selector":"has(a)","labels":null}'), {
    valid: true,
    match: false,
    canonical: 'has(a)',
  });
  assert.deepEqual(evalRequest('{"selector":"__proto__ == \\"x\\"","labels":{"__proto__":"x"}}'), {
    valid: true,
    match: true,
    canonical: '__proto__ == "x"',
  });
});
