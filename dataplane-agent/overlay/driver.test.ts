import assert from 'node:assert/strict';
import { test } from 'node:test';
import { deviceMismatch, diffOverlay, type KernelOverlay, nexthopId, parseMainRoutes } from './driver.js';

const state = (n: [string, string][], f: [string, string][], r: [string, string][]): KernelOverlay => ({
  neighbors: new Map(n),
  fdb: new Map(f),
  routes: new Map(r),
  ownedRoutes: new Set(r.map(([cidr]) => cidr)),
  nexthops: new Map([...new Set(r.map(([, via]) => via))].map((via) => [nexthopId(via), via])),
});

test('the diff replaces what differs, deletes what is no longer wanted, and leaves what matches alone', () => {
  const have = state(
    [
      ['10.245.1.0', '66:00:00:00:00:01'],
      ['10.245.9.0', '66:00:00:00:00:09'],
    ],
    [
      ['66:00:00:00:00:01', '172.18.1.1'],
      ['66:00:00:00:00:09', '172.18.1.9'],
    ],
    [
      ['10.245.1.0/24', '10.245.1.0'],
      ['10.245.9.0/24', '10.245.9.0'],
    ],
  );
  const want = state(
    [
      ['10.245.1.0', '66:00:00:00:00:01'],
      ['10.245.2.0', '66:00:00:00:00:02'],
    ],
    [
      ['66:00:00:00:00:01', '172.18.1.7'],
      ['66:00:00:00:00:02', '172.18.1.2'],
    ],
    [
      ['10.245.1.0/24', '10.245.1.0'],
      ['10.245.2.0/24', '10.245.2.0'],
    ],
  );
  const d = diffOverlay(have, want, 'vx');
  assert.deepEqual(d.neighAdd, ['neigh replace 10.245.2.0 lladdr 66:00:00:00:00:02 dev vx nud permanent']);
  assert.deepEqual(d.neighDel, ['neigh del 10.245.9.0 dev vx']);
  assert.deepEqual(d.fdbAdd, [
    'fdb replace 66:00:00:00:00:01 dev vx dst 172.18.1.7 self permanent',
    'fdb replace 66:00:00:00:00:02 dev vx dst 172.18.1.2 self permanent',
  ]);
  assert.deepEqual(d.fdbDel, ['fdb del 66:00:00:00:00:09 dev vx dst 172.18.1.9 self']);
  const nh2 = nexthopId('10.245.2.0');
  assert.equal(nh2, ((10 * 256 + 245) * 256 + 2) * 256);
  assert.deepEqual(d.nexthopAdd, [`nexthop replace id ${nh2} via 10.245.2.0 dev vx onlink proto 201`]);
  assert.deepEqual(d.routeAdd, [`route add 10.245.2.0/24 nhid ${nh2} proto 201`]);
  assert.deepEqual(d.routeDel, ['route del 10.245.9.0/24 dev vx proto 201']);
  assert.deepEqual(d.nexthopDel, [`nexthop del id ${nexthopId('10.245.9.0')}`]);
  const none = diffOverlay(want, want, 'vx');
  assert.equal(Object.values(none).flat().length, 0, 'an applied state needs no lines: replays are free');
});

test('an existing device is kept when it matches and recreated when VNI, port, source or learning differ', () => {
  const cfg = {
    name: 'vx',
    vni: 4097,
    port: 4789,
    mtu: 1450,
    underlayInterface: 'eth0',
    localIP: '172.18.0.1',
    mac: '66:00:00:00:00:01',
    vtepIP: '10.244.0.0',
  };
  const link = (data: Record<string, unknown>) => ({
    ifname: 'vx',
    mtu: 1450,
    address: cfg.mac,
    flags: ['UP'],
    linkinfo: {
      info_kind: 'vxlan',
      info_data: { id: 4097, port: 4789, local: '172.18.0.1', link: 'eth0', learning: false, ...data },
    },
  });
  assert.equal(deviceMismatch(link({}), cfg), undefined);
  assert.match(deviceMismatch(link({ id: 4096 }), cfg) ?? '', /VNI 4096/);
  assert.match(deviceMismatch(link({ port: 8472 }), cfg) ?? '', /port 8472/);
  assert.match(deviceMismatch(link({ local: '172.18.0.9' }), cfg) ?? '', /source/);
  assert.match(deviceMismatch(link({ learning: true }), cfg) ?? '', /learning/);
  assert.match(deviceMismatch({ ...link({}), linkinfo: { info_kind: 'veth' } }, cfg) ?? '', /veth/);
});

test('a route is added where fedmesh has none, so that the kernel refuses to overwrite a route of someone else; replaced where it is fedmesh’s', () => {
  const want = state(
    [],
    [],
    [
      ['10.245.1.0/24', '10.245.1.0'],
      ['10.245.2.0/24', '10.245.2.0'],
    ],
  );
  // 10.245.1.0/24 is fedmesh's (protocol 201) but not through its nexthop (an older agent's onlink route).
  const have: KernelOverlay = { ...state([], [], []), ownedRoutes: new Set(['10.245.1.0/24']) };
  const d = diffOverlay(have, want, 'vx');
  assert.deepEqual(d.routeAdd, [
    `route replace 10.245.1.0/24 nhid ${nexthopId('10.245.1.0')} proto 201`,
    `route add 10.245.2.0/24 nhid ${nexthopId('10.245.2.0')} proto 201`,
  ]);
  assert.deepEqual(d.routeDel, []);
});

test('the main table as `ip -4 -N -j route` prints it: protocol numbers (boot when absent) and readable routes', () => {
  const json = JSON.stringify([
    { dst: 'default', gateway: '192.168.1.1', dev: 'eth0', flags: [] },
    { dst: '10.9.0.0/24', nhid: 1, gateway: '10.9.0.0', dev: 'fedmesh.vxlan', protocol: '201', flags: ['onlink'] },
    { type: '6', dst: '10.10.0.0/16', flags: [] },
    {
      dst: '10.11.0.0/16',
      flags: [],
      nexthops: [
        { gateway: '192.168.1.11', dev: 'eth0', weight: 1, flags: [] },
        { gateway: '192.168.1.12', dev: 'eth0', weight: 1, flags: [] },
      ],
    },
    { dst: '192.168.1.0/24', dev: 'eth0', protocol: '2', scope: '253', prefsrc: '192.168.1.10', flags: [] },
  ]);
  assert.deepEqual(parseMainRoutes(json), [
    { dst: 'default', protocol: 3, text: 'default via 192.168.1.1 dev eth0' },
    { dst: '10.9.0.0/24', protocol: 201, text: '10.9.0.0/24 via 10.9.0.0 dev fedmesh.vxlan proto 201' },
    { dst: '10.10.0.0/16', protocol: 3, text: 'blackhole 10.10.0.0/16' },
    { dst: '10.11.0.0/16', protocol: 3, text: '10.11.0.0/16 via 192.168.1.11 dev eth0 via 192.168.1.12 dev eth0' },
    { dst: '192.168.1.0/24', protocol: 2, text: '192.168.1.0/24 dev eth0 proto kernel' },
  ]);
  assert.deepEqual(parseMainRoutes(''), []);
});
