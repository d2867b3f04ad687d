import assert from 'node:assert/strict';
import { test } from 'node:test';
import { bindAddressFlag, clusterNameFlag, logLevelFlag } from './common-flags.js';

test('common flags: cluster name required and a DNS label, log level known, bind address HOST:PORT', () => {
  assert.equal(clusterNameFlag('east', 'x'), 'east');
  assert.throws(() => clusterNameFlag(undefined, 'x'), /--cluster-name is required/);
  assert.throws(() => clusterNameFlag('East.1', 'x'), /not a DNS-1123 label/);
  assert.equal(logLevelFlag(undefined, 'x'), 'info');
  assert.throws(() => logLevelFlag('loud', 'x'), /--log-level must be/);
  assert.deepEqual(bindAddressFlag('b', undefined, '127.0.0.1:9466', 'x'), { host: '127.0.0.1', port: 9466 });
  assert.throws(() => bindAddressFlag('b', 'nope', '127.0.0.1:1', 'x'), /--b must be HOST:PORT/);
});
