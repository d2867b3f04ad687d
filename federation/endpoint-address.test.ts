import assert from 'node:assert/strict';
import { test } from 'node:test';
import { endpointAddressProblem } from './endpoint-address.js';

const accepted = (type: string, addresses: readonly string[]) =>
  addresses.filter((a) => endpointAddressProblem(type, a) === undefined);

test('IPv4: the addresses kube-apiserver refuses in an EndpointSlice are refused, ordinary ones accepted', () => {
  assert.deepEqual(
    accepted('IPv4', [
      '127.0.0.1',
      '127.255.0.9',
      '169.254.169.254',
      '0.0.0.0',
      '224.0.0.1',
      '224.0.0.251',
      '1.2.3',
      '1.2.3.4.5',
      '010.1.2.3',
      '256.1.1.1',
      '::ffff:10.0.0.1',
      '2001:db8::1',
      '',
      ' 10.0.0.1',
    ]),
    [],
    'each of these must be refused',
  );
  for (const ok of ['10.0.0.1', '0.1.2.3', '192.168.255.255', '224.0.1.1', '239.1.1.1', '255.255.255.255']) {
    assert.equal(endpointAddressProblem('IPv4', ok), undefined, ok);
  }
});

test('IPv6: only canonical, routable unicast or global multicast addresses are accepted', () => {
  assert.deepEqual(
    accepted('IPv6', [
      '::',
      '::1',
      'fe80::1',
      'febf::1',
      'ff02::1',
      'ff12::1',
      '::ffff:a00:1',
      '::ffff:10.0.0.1',
      '2001:DB8::1',
      '2001:0db8::1',
      '2001:db8:0:0:0:0:0:1',
      '2001:db8::0:1',
      '2001:db8::1%eth0',
      '10.0.0.1',
      '1:2:3:4:5:6:7:8:9',
      '1::2::3',
      '',
    ]),
    [],
    'each of these must be refused',
  );
  for (const ok of [
    '2001:db8::1',
    'fd00::a',
    '1:2:3:4:5:6:7:8',
    '2001:db8:0:1::',
    '1:0:2::3',
    '1::2:0:0:3',
    'ff05::1',
  ]) {
    assert.equal(endpointAddressProblem('IPv6', ok), undefined, ok);
  }
});

test('FQDN: a lower-case DNS subdomain of two labels or more, one trailing dot allowed', () => {
  assert.deepEqual(
    accepted('FQDN', ['localhost', 'Example.com', 'a..b', '-a.b', 'a_b.c', `${'a'.repeat(64)}.b`, '.', '']),
    [],
  );
  for (const ok of ['example.com', 'example.com.', 'a-1.b2.c'])
    assert.equal(endpointAddressProblem('FQDN', ok), undefined);
});

test('a problem never quotes the address', () => {
  const problem = endpointAddressProblem('IPv4', '127.6.6.6') ?? '';
  assert.match(problem, /loopback/);
  assert.ok(!problem.includes('6.6.6'));
});
