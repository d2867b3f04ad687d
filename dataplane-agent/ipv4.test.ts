import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { notUnicastIpv4Cidr, parseIpv4, parseIpv4Cidr } from './ipv4.js';

// What the parser must agree with: four decimal octets 0-255, no leading zeros, nothing else.
const octet = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/;
function reference(text: string): number | undefined {
  const parts = text.split('.');
  if (parts.length !== 4 || !parts.every((p) => octet.test(p))) return undefined;
  return parts.reduce((acc, p) => acc * 256 + Number(p), 0);
}

test('IPv4 addresses parse strictly: no leading zeros, no missing or extra octets, nothing around them', () => {
  const cases: [string, number | undefined][] = [
    ['10.0.0.1', 167772161],
    ['0.0.0.0', 0],
    ['255.255.255.255', 4294967295],
    ['100.200.0.10', 1690828810],
    ['1.2.3', undefined],
    ['1.2.3.4.5', undefined],
    ['01.2.3.4', undefined],
    ['1.2.3.04', undefined],
    ['256.1.1.1', undefined],
    ['1..2.3', undefined],
    ['1.2.3.', undefined],
    ['.1.2.3', undefined],
    ['1.2.3.4 ', undefined],
    ['1.2.3.1000', undefined],
    ['١.٢.٣.٤', undefined],
    ['', undefined],
  ];
  for (const [text, want] of cases) assert.equal(parseIpv4(text), want, JSON.stringify(text));
  assert.deepEqual(parseIpv4Cidr('10.245.0.0/24'), { base: 183828480, prefix: 24 });
  assert.equal(parseIpv4Cidr('10.245.0.1/24'), undefined, 'host bits set');
});

test('property: the parser agrees with the regular-expression definition on any text', () => {
  const near = fc.stringMatching(/^[0-9.]{0,17}$/);
  fc.assert(
    fc.property(fc.oneof(near, fc.string(), fc.ipV4(), fc.ipV4Extended()), (text) => {
      assert.equal(parseIpv4(text), reference(text), JSON.stringify(text));
    }),
    { numRuns: 5_000 },
  );
});

test('a network that is not unicast anywhere in it is named by the range it reaches into', () => {
  const name = (text: string) => notUnicastIpv4Cidr(parseIpv4Cidr(text)!);
  assert.equal(name('0.0.0.0/0'), '0.0.0.0/8, "this network"');
  assert.equal(name('0.255.255.0/24'), '0.0.0.0/8, "this network"');
  assert.equal(name('126.0.0.0/7'), 'loopback 127.0.0.0/8');
  assert.equal(name('169.254.169.254/32'), 'link-local 169.254.0.0/16');
  assert.equal(name('169.0.0.0/8'), 'link-local 169.254.0.0/16');
  assert.equal(name('239.0.0.0/8'), 'multicast 224.0.0.0/4');
  assert.equal(name('255.255.255.255/32'), 'reserved 240.0.0.0/4, with the broadcast address 255.255.255.255');
  for (const ok of ['1.0.0.0/8', '10.0.0.0/8', '126.0.0.0/8', '128.0.0.0/8', '169.253.0.0/16', '223.255.255.0/24']) {
    assert.equal(name(ok), undefined, ok);
  }
});
