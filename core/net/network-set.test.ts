import assert from 'node:assert/strict';
import { test } from 'node:test';
import { NetworkSet } from './network-set.js';

test('IPv4 and IPv6 networks and single addresses; host bits are masked; other texts are left out', () => {
  const s = new NetworkSet([
    '10.245.1.0/24',
    '10.0.0.11',
    'fd00:1::/64',
    '2001:db8::5',
    '10.245.0.7/24',
    'x',
    '1.2.3.4/33',
  ]);
  for (const ip of ['10.245.1.0', '10.245.1.255', '10.245.0.200', '10.0.0.11', 'fd00:1::abcd', '2001:db8::5']) {
    assert.ok(s.contains(ip), ip);
  }
  for (const ip of ['10.245.2.0', '10.0.0.12', 'fd00:2::1', '2001:db8::6', '1.2.3.4', 'web.example.com', '']) {
    assert.equal(s.contains(ip), false, ip);
  }
  assert.equal(new NetworkSet([]).contains('10.0.0.1'), false);
});

test('thousands of networks: every lookup agrees with a walk over them', () => {
  const cidrs = Array.from({ length: 3000 }, (_, i) => `10.${(i >> 8) & 255}.${i & 255}.0/25`);
  const s = new NetworkSet(cidrs);
  for (let i = 0; i < 3000; i += 7) {
    for (const last of [0, 127, 128, 255]) {
      assert.equal(s.contains(`10.${(i >> 8) & 255}.${i & 255}.${last}`), last < 128, `${i}.${last}`);
    }
  }
});
