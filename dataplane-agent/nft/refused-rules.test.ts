import assert from 'node:assert/strict';
import { test } from 'node:test';
import { blamesRule, refusedRules } from './refused-rules.js';

const text = [
  'add table inet fedmesh',
  'flush chain inet fedmesh prof-a',
  'add element inet fedmesh peers { 10.0.0.1 . 0x00000001 }',
  'add rule inet fedmesh forward ct state established,related accept',
  'add rule inet fedmesh prof-a tcp dport 80 return',
  'add rule inet fedmesh prof-a meta l4proto 6 icmp type 8 return',
  'add rule inet fedmesh prof-a drop',
  'add rule inet fedmesh prof-b ip saddr . meta mark @nope return',
  '',
].join('\n');

// As nft 1.0.6 prints it (checked against the real tool in test/nft-kernel.test.ts).
const stderr = [
  '/dev/stdin:6:43-51: Error: conflicting protocols specified: inet-service vs. icmp',
  'add rule inet fedmesh prof-a meta l4proto 6 icmp type 8 return',
  '                                          ^^^^^^^^^',
  '/dev/stdin:8:40-44: Error: No such file or directory',
  'add rule inet fedmesh prof-b ip saddr . meta mark @nope return',
  '                                       ^^^^^',
  '',
].join('\n');

test('each refused line is mapped to its chain, its position in the chain and its text', () => {
  assert.deepEqual(refusedRules(text, stderr), [
    {
      chain: 'prof-a',
      index: 1,
      rule: 'meta l4proto 6 icmp type 8 return',
      reason: 'conflicting protocols specified: inet-service vs. icmp',
    },
    { chain: 'prof-b', index: 0, rule: 'ip saddr . meta mark @nope return', reason: 'No such file or directory' },
  ]);
});

test('errors that name no rule line (an element, a syntax error past the end, none) give nothing', () => {
  assert.deepEqual(
    refusedRules(text, '/dev/stdin:3:1-5: Error: Could not process rule: No such file or directory'),
    [],
  );
  assert.deepEqual(refusedRules(text, '/dev/stdin:99:1-5: Error: syntax error'), []);
  assert.deepEqual(refusedRules(text, 'Error: Could not process rule: Operation not permitted'), []);
  assert.deepEqual(refusedRules(text, ''), []);
});

test('a missing set, map or chain blames no rule (the table changed under the transaction); anything else does', () => {
  const [bad, missing] = refusedRules(text, stderr);
  assert.equal(blamesRule(bad!.reason), true);
  assert.equal(blamesRule(missing!.reason), false);
  assert.equal(blamesRule('Could not process rule: No such file or directory'), false);
  assert.equal(blamesRule('Could not process rule: Operation not supported'), true, 'a module missing: retried later');
});
