import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatFlagHelp, parseFlags } from './parse-flags.js';
import { UsageError } from './usage-error.js';

const specs = {
  clusters: { type: 'list', value: 'A,B', description: 'cluster names' },
  output: { type: 'string', short: 'o', value: 'FORMAT', description: 'output format' },
  force: { type: 'boolean', description: 'do it' },
} as const;

test('parses strings, booleans and comma-separated repeatable lists', () => {
  const p = parseFlags('x', ['--clusters', 'east,west', '--clusters=north', '-o', 'json', '--force'], specs);
  assert.deepEqual(p.flags.clusters, ['east', 'west', 'north']);
  assert.equal(p.flags.output, 'json');
  assert.equal(p.flags.force, true);
  assert.equal(p.help, false);
});

test('an unknown flag is a usage error that names it', () => {
  assert.throws(
    () => parseFlags('testbed up', ['--clsuters', 'a'], specs),
    (err: unknown) => err instanceof UsageError && /--clsuters/.test(err.message) && err.command === 'testbed up',
  );
});

test('a string flag without its value is a usage error', () => {
  assert.throws(() => parseFlags('x', ['--output'], specs), UsageError);
});

test('stray positionals are refused beyond the allowed count', () => {
  assert.throws(() => parseFlags('x', ['oops'], specs), /unexpected argument: oops/);
  assert.deepEqual(parseFlags('x', ['one'], specs, 1).positionals, ['one']);
});

test('help text lists every flag with its value name', () => {
  const h = formatFlagHelp(specs);
  assert.match(h, /--clusters A,B\s+cluster names/);
  assert.match(h, /-o, --output FORMAT/);
});
