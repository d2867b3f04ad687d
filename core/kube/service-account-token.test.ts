import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BearerTokenFile } from './service-account-token.js';

test('a token file is read once a period (client-go: a minute), and at once after a 401 on a newer request', () => {
  let now = 1_000_000;
  let content = 'a';
  let reads = 0;
  const source = new BearerTokenFile(
    '/var/run/secrets/kubernetes.io/serviceaccount/token',
    60_000,
    () => {
      reads++;
      return `${content}\n`;
    },
    () => now,
  );
  assert.equal(source.token(), 'a');
  content = 'b';
  now += 59_000;
  assert.equal(source.token(), 'a', 'within the period the cached token is used');
  now += 1000;
  assert.equal(source.token(), 'b', 'after the period the file is read again');
  content = 'c';
  source.invalidate(now - 1);
  assert.equal(source.token(), 'b', 'a 401 on a request older than the read does not re-read');
  source.invalidate(now + 1);
  assert.equal(source.token(), 'c', 'a 401 on a request sent with this token re-reads at once');
  assert.equal(reads, 3);
});

test('a failed read keeps the token it has and tries again soon', () => {
  let now = 0;
  let fail = false;
  const source = new BearerTokenFile(
    '/t',
    60_000,
    () => {
      if (fail) throw new Error('ENOENT');
      return 'tok';
    },
    () => now,
  );
  assert.equal(source.token(), 'tok');
  fail = true;
  now = 60_000;
  assert.equal(source.token(), 'tok');
  fail = false;
  now += 1000;
  assert.equal(source.token(), 'tok');
});
