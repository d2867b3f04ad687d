import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AddressRanges } from './address-ranges.js';
import { parseIpv4 } from './ipv4.js';

const has = (r: AddressRanges, ip: string) => r.has(parseIpv4(ip) ?? -1);

test('holds exactly the addresses of its networks, merged; invalid texts are left out', () => {
  const r = new AddressRanges(['10.245.1.0/24', '10.0.0.11', '10.245.0.0/24', 'nonsense', '10.245.0.128/25']);
  assert.equal(r.size, 2, '10.245.0.0/24 and 10.245.1.0/24 are adjacent: one range');
  for (const ip of ['10.245.0.0', '10.245.1.255', '10.0.0.11']) assert.ok(has(r, ip), ip);
  for (const ip of ['10.244.255.255', '10.245.2.0', '10.0.0.10', '10.0.0.12']) assert.equal(has(r, ip), false, ip);
  assert.equal(r.key, '10.0.0.11,10.245.0.0/24,10.245.0.128/25,10.245.1.0/24');
  assert.equal(new AddressRanges([]).has(0), false);
});

test('thousands of networks: every lookup agrees with a walk over them', () => {
  const cidrs = Array.from({ length: 5000 }, (_, i) => `10.${(i >> 8) & 255}.${i & 255}.0/25`);
  const r = new AddressRanges(cidrs);
  for (let i = 0; i < 2000; i++) {
    const n = Math.floor(Math.random() * 2 ** 32);
    const walk = cidrs.some((c) => {
      const [ip, len] = c.split('/');
      const base = parseIpv4(ip ?? '') ?? 0;
      return n >= base && n < base + 2 ** (32 - Number(len));
    });
    assert.equal(r.has(n), walk);
    const inside = (parseIpv4(`10.${(i >> 8) & 255}.${i & 255}.0`) ?? 0) + (i % 256);
    assert.equal(r.has(inside), i % 256 < 128, `offset ${i % 256}`);
  }
});
