import assert from 'node:assert/strict';
import { test } from 'node:test';
import { vtepIp, vtepMac } from './vtep.js';

test('the VTEP MAC is stable per cluster and node, locally administered and unicast', () => {
  const mac = vtepMac('west', 'node-0');
  assert.equal(mac, vtepMac('west', 'node-0'));
  assert.notEqual(mac, vtepMac('east', 'node-0'));
  assert.match(mac, /^66(:[0-9a-f]{2}){5}$/); // 0x66: bit 1 set (local), bit 0 clear (unicast)
});

test('the VTEP IP is the network address of the first IPv4 pod CIDR', () => {
  assert.equal(vtepIp(['fd00::/64', '10.245.3.0/24']), '10.245.3.0');
  assert.equal(vtepIp(['10.245.3.1/24']), undefined, 'host bits set: not a network');
  assert.equal(vtepIp([]), undefined);
});
