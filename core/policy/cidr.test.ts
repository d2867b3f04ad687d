import assert from 'node:assert/strict';
import { isIPv6 } from 'node:net';
import { test } from 'node:test';
import fc from 'fast-check';
import { addressInCidr, cidrContains, formatCidr, parseCidr } from './cidr.js';

function cidr(text: string) {
  const r = parseCidr(text);
  assert.ok(r.ok, text);
  return r.cidr;
}

test('IPv4 and IPv6 CIDRs print in canonical form', () => {
  assert.equal(formatCidr(cidr('10.0.0.0/8')), '10.0.0.0/8');
  assert.equal(formatCidr(cidr('0.0.0.0/0')), '0.0.0.0/0');
  assert.equal(formatCidr(cidr('FD00:0:0:0::/64')), 'fd00::/64');
  assert.equal(formatCidr(cidr('2001:db8:0:0:1:0:0:1/128')), '2001:db8::1:0:0:1/128');
  assert.equal(formatCidr(cidr('::/0')), '::/0');
  assert.equal(formatCidr(cidr('::ffff:10.1.2.3/128')), '::ffff:a01:203/128');
  assert.equal(formatCidr(cidr('1:2:3:4:5:6:7:8/128')), '1:2:3:4:5:6:7:8/128');
  assert.equal(formatCidr(cidr('1:0:3:4:5:6:7:8/128')), '1:0:3:4:5:6:7:8/128');
});

test('host bits are cleared and reported', () => {
  const c = cidr('10.1.2.3/8');
  assert.equal(formatCidr(c), '10.0.0.0/8');
  assert.equal(c.hadHostBits, true);
  assert.equal(cidr('10.0.0.0/8').hadHostBits, false);
  assert.equal(formatCidr(cidr('fd00::1/64')), 'fd00::/64');
});

test('malformed CIDRs are refused with a reason', () => {
  for (const bad of [
    '10.0.0.0',
    '10.0.0/8',
    '10.0.0.256/8',
    '010.0.0.0/8',
    '1.2.3.4.5/8',
    '1..2.3/8',
    '.1.2.3/8',
    '1.2.3.4./32',
    '1.2.3.1000/32',
    '1.2.3.+4/32',
    ' 1.2.3.4/32',
    '10.0.0.0/33',
    '10.0.0.0/08',
    '10.0.0.0/',
    'fd00::/129',
    'fd00:::1/64',
    '1::2::3/64',
    'g::/8',
    '1:2:3:4:5:6:7:8:9/128',
    '1:2:3:4:5:6:7/128',
    'fe80::1%eth0/64',
    'x'.repeat(100),
    '',
  ]) {
    assert.equal(parseCidr(bad).ok, false, bad);
  }
});

test('containment and address membership', () => {
  assert.equal(cidrContains(cidr('10.0.0.0/8'), cidr('10.1.0.0/16')), true);
  assert.equal(cidrContains(cidr('10.0.0.0/8'), cidr('10.0.0.0/8')), true);
  assert.equal(cidrContains(cidr('10.1.0.0/16'), cidr('10.0.0.0/8')), false);
  assert.equal(cidrContains(cidr('10.0.0.0/8'), cidr('11.0.0.0/16')), false);
  assert.equal(cidrContains(cidr('10.0.0.0/8'), cidr('fd00::/64')), false);
  assert.equal(addressInCidr('10.2.3.4', cidr('10.0.0.0/8')), true);
  assert.equal(addressInCidr('11.2.3.4', cidr('10.0.0.0/8')), false);
  assert.equal(addressInCidr('fd00::5', cidr('fd00::/64')), true);
  assert.equal(addressInCidr('not an ip', cidr('10.0.0.0/8')), false);
});

test('every IPv6 address round-trips through its canonical form', () => {
  fc.assert(
    fc.property(fc.ipV6(), fc.integer({ min: 0, max: 128 }), (addr, prefix) => {
      const r = parseCidr(`${addr}/${prefix}`);
      assert.ok(r.ok, addr);
      const printed = formatCidr(r.cidr);
      assert.ok(isIPv6(printed.split('/')[0]!), printed);
      const again = parseCidr(printed);
      assert.ok(again.ok);
      assert.equal(formatCidr(again.cidr), printed);
    }),
    { numRuns: 500 },
  );
});
