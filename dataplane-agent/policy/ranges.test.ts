import assert from 'node:assert/strict';
import { test } from 'node:test';
import { networkRanges, portRanges } from './ranges.js';

test('port lists become sorted disjoint ranges: overlapping and adjacent ones join', () => {
  const r = (from: number, to: number) => ({ kind: 'range', from, to }) as const;
  assert.deepEqual(portRanges([r(443, 443), r(80, 80), r(8000, 8100), r(8050, 8200), r(81, 81)]), [
    '80-81',
    '443',
    '8000-8200',
  ]);
  assert.deepEqual(portRanges([{ kind: 'named', name: 'http' }]), []);
});

test('networks become sorted disjoint address ranges; host bits are masked; a bad network is refused', () => {
  assert.deepEqual(networkRanges(['10.1.0.0/16', '10.0.0.0/8', '192.168.0.1']), [
    '10.0.0.0-10.255.255.255',
    '192.168.0.1',
  ]);
  assert.deepEqual(networkRanges(['10.0.0.5/24', '10.0.1.0/24']), ['10.0.0.0-10.0.1.255']);
  assert.equal(networkRanges(['10.0.0.0/33']), undefined);
  assert.equal(networkRanges(['fd00::/8']), undefined);
});
