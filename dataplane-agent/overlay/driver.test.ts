import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { computeOverlay, nexthopId, type OverlayState } from './calc.js';
import {
  deviceMismatch,
  diffOverlay,
  type KernelOverlay,
  OverlayDriver,
  parseMainRoutes,
  parseNexthops,
  readMainRoutes,
  readNexthops,
} from './driver.js';

const state = (n: [string, string][], f: [string, string][], r: [string, string][]): KernelOverlay => ({
  neighbors: new Map(n),
  fdb: new Map(f),
  routes: new Map(r),
  ownedRoutes: new Set(r.map(([cidr]) => cidr)),
  nexthops: new Map([...new Set(r.map(([, via]) => via))].map((via) => [nexthopId(via), via])),
  ownedNexthops: new Set(r.map(([, via]) => nexthopId(via))),
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
  assert.deepEqual(d.nexthopAdd, [`nexthop add id ${nh2} via 10.245.2.0 dev vx onlink proto 201`]);
  assert.deepEqual(d.routeAdd, [`route add 10.245.2.0/24 nhid ${nh2} proto 201`]);
  // Without `dev`: a route through a nexthop object does not match it (the kernel answers "No such process").
  assert.deepEqual(d.routeDel, ['route del 10.245.9.0/24 proto 201']);
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

test('a route is added where fedmesh has none, so that the kernel refuses to overwrite a route of someone else; replaced where it is fedmesh’s; removed when it is fedmesh’s and not wanted', () => {
  const want = state(
    [],
    [],
    [
      ['10.245.1.0/24', '10.245.1.0'],
      ['10.245.2.0/24', '10.245.2.0'],
    ],
  );
  // 10.245.1.0/24 and 10.245.8.0/24 are fedmesh's (protocol 201) but not through its nexthop (an older agent's
  // onlink routes): the one wanted is replaced, the other removed.
  const have: KernelOverlay = { ...state([], [], []), ownedRoutes: new Set(['10.245.1.0/24', '10.245.8.0/24']) };
  const d = diffOverlay(have, want, 'vx');
  assert.deepEqual(d.routeAdd, [
    `route replace 10.245.1.0/24 nhid ${nexthopId('10.245.1.0')} proto 201`,
    `route add 10.245.2.0/24 nhid ${nexthopId('10.245.2.0')} proto 201`,
  ]);
  assert.deepEqual(d.routeDel, ['route del 10.245.8.0/24 proto 201']);
});

test('a nexthop is added where fedmesh has none, so that the kernel refuses to take another tool’s id; replaced where it is fedmesh’s; only fedmesh’s are deleted', () => {
  const want = state(
    [],
    [],
    [
      ['10.245.1.0/24', '10.245.1.0'],
      ['10.245.2.0/24', '10.245.2.0'],
      ['10.245.3.0/24', '10.245.3.0'],
    ],
  );
  const [nh1, nh2, nh3, nh9] = ['10.245.1.0', '10.245.2.0', '10.245.3.0', '10.245.9.0'].map(nexthopId);
  const have: KernelOverlay = {
    ...state([], [], [['10.245.1.0/24', '10.245.1.0']]),
    // nh3 is fedmesh's on another device; nh9 is on fedmesh's device but not fedmesh's (protocol): never deleted.
    nexthops: new Map([
      [nh1!, '10.245.1.0'],
      [nh9!, '10.245.9.0'],
    ]),
    ownedNexthops: new Set([nh1!, nh3!]),
  };
  const d = diffOverlay(have, want, 'vx');
  assert.deepEqual(d.nexthopAdd, [
    `nexthop add id ${nh2} via 10.245.2.0 dev vx onlink proto 201`,
    `nexthop replace id ${nh3} via 10.245.3.0 dev vx onlink proto 201`,
  ]);
  assert.deepEqual(d.nexthopDel, []);
});

test('nexthops as `ip -N -j nexthop show` prints them: every protocol (boot when absent), readable', () => {
  const json = JSON.stringify([
    { id: 5, group: [{ id: 16777221 }, { id: 7 }], flags: [] },
    { id: 6, blackhole: null, flags: [] },
    { id: 16777221, gateway: '10.0.0.1', dev: 'eth0', scope: '253', protocol: '4', flags: [] },
    { id: 167837952, gateway: '10.9.0.0', dev: 'fedmesh.vxlan', scope: '253', protocol: '201', flags: ['onlink'] },
  ]);
  assert.deepEqual(parseNexthops(json), [
    { id: 5, protocol: 3, text: 'id 5 group 16777221/7' },
    { id: 6, protocol: 3, text: 'id 6 blackhole' },
    { id: 16777221, protocol: 4, text: 'id 16777221 via 10.0.0.1 dev eth0 proto static' },
    { id: 167837952, protocol: 201, text: 'id 167837952 via 10.9.0.0 dev fedmesh.vxlan proto 201' },
  ]);
  assert.deepEqual(parseNexthops(''), []);
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

// Against the kernel, in a network namespace of the test's own (created and removed here): the driver's `ip` and
// `bridge` are wrappers that run the real ones in it, found first on PATH.
const ns = `fm-overlay-${process.pid}`;
const dir = mkdtempSync(join(tmpdir(), 'fedmesh-overlay-kernel-'));
const savedPath = process.env.PATH;
const realIp = spawnSync('sh', ['-c', 'command -v ip']).stdout.toString().trim();

/** `ip` in the test's namespace; fails the test when it fails. */
function ipIn(...args: string[]): string {
  const r = spawnSync(realIp, ['-n', ns, ...args]);
  assert.equal(r.status, 0, `ip ${args.join(' ')}: ${r.stderr}`);
  return r.stdout.toString();
}

before(() => {
  const r = spawnSync(realIp, ['netns', 'add', ns]);
  assert.equal(r.status, 0, `ip netns add: ${r.stderr}`);
  for (const tool of ['ip', 'bridge']) {
    const real = spawnSync('sh', ['-c', `command -v ${tool}`])
      .stdout.toString()
      .trim();
    writeFileSync(join(dir, tool), `#!/bin/sh\nexec ${realIp} netns exec ${ns} ${real} "$@"\n`);
    chmodSync(join(dir, tool), 0o755);
  }
  process.env.PATH = `${dir}:${savedPath}`;
  // The underlay: one end of a veth pair, this node's address on it.
  ipIn('link', 'add', 'under0', 'type', 'veth', 'peer', 'name', 'under1');
  ipIn('link', 'set', 'under0', 'up');
  ipIn('link', 'set', 'under1', 'up');
  ipIn('addr', 'add', '10.0.0.5/24', 'dev', 'under0');
});
after(() => {
  process.env.PATH = savedPath;
  spawnSync(realIp, ['netns', 'delete', ns]);
  rmSync(dir, { recursive: true, force: true });
});

const kernelCfg = {
  name: 'fm.vxlan',
  vni: 4097,
  port: 4789,
  mtu: 1450,
  underlayInterface: 'under0',
  localIP: '10.0.0.5',
  mac: '66:11:22:33:44:55',
  vtepIP: '10.244.1.0',
};

/** One remote node (VTEP 10.9.0.0) with these pod CIDRs. */
const oneNode = (cidrs: string[]): OverlayState => ({
  neighbors: new Map([['10.9.0.0', '66:00:00:00:00:01']]),
  fdb: new Map([['66:00:00:00:00:01', '192.0.2.10']]),
  routes: new Map(cidrs.map((c) => [c, '10.9.0.0'])),
});

/** fedmesh's routes in the namespace, as `dst via gateway`. */
const ownRoutes = () =>
  (JSON.parse(ipIn('-j', 'route', 'show', 'table', 'main', 'proto', '201')) as { dst: string; gateway?: string }[])
    .map((r) => `${r.dst} via ${r.gateway}`)
    .sort();

test('kernel: a pod CIDR a remote node withdraws is removed while its other CIDRs stay on the same nexthop', async () => {
  const driver = new OverlayDriver(kernelCfg);
  await driver.ensureDevice();
  await driver.apply(oneNode(['10.50.0.0/16', '10.51.0.0/16']));
  assert.deepEqual(ownRoutes(), ['10.50.0.0/16 via 10.9.0.0', '10.51.0.0/16 via 10.9.0.0']);
  // An older agent's route, onlink without a nexthop object: fedmesh's too, and not wanted.
  ipIn('route', 'add', '10.52.0.0/16', 'via', '10.9.0.0', 'dev', 'fm.vxlan', 'onlink', 'proto', '201');
  const r = await driver.apply(oneNode(['10.50.0.0/16']));
  assert.deepEqual(r, { added: 0, removed: 2 });
  assert.deepEqual(ownRoutes(), ['10.50.0.0/16 via 10.9.0.0']);
  assert.deepEqual(await driver.apply(oneNode(['10.50.0.0/16'])), { added: 0, removed: 0 }, 'nothing left to do');
  await driver.apply({ neighbors: new Map(), fdb: new Map(), routes: new Map() });
  assert.deepEqual(ownRoutes(), []);
});

test('kernel: a nexthop of another tool that holds a remote VTEP’s id stays as it is, and its routes keep working', async () => {
  const driver = new OverlayDriver(kernelCfg);
  await driver.ensureDevice();
  const id = nexthopId('1.0.0.5');
  ipIn('nexthop', 'add', 'id', String(id), 'via', '10.0.0.1', 'dev', 'under0', 'proto', 'static');
  ipIn('route', 'add', '198.51.100.0/24', 'nhid', String(id));
  const foreign = () => [ipIn('nexthop', 'show', 'id', String(id)), ipIn('route', 'get', '198.51.100.7')];
  const before = foreign();
  assert.match(before[1]!, /198\.51\.100\.7 via 10\.0\.0\.1 dev under0/);
  try {
    // The calculation refuses the remote node whose VTEP needs that id; nothing is programmed for it.
    const [localRoutes, localNexthops] = await Promise.all([readMainRoutes(), readNexthops()]);
    const plan = computeOverlay({
      remoteNodes: [
        {
          cluster: 'west',
          name: 'n1',
          nodeIP: '192.0.2.11',
          podCIDRs: ['10.60.0.0/16'],
          vtepIP: '1.0.0.5',
          vtepMAC: '66:00:00:00:00:02',
        },
      ],
      enabledClusters: new Set(['west']),
      protectedCIDRs: [],
      localRoutes,
      localNexthops,
    });
    assert.deepEqual(plan.problems, [
      `remote node west/n1: VTEP IP 1.0.0.5 needs nexthop id ${id}, which the nexthop "id ${id} via 10.0.0.1 dev under0 proto static" holds: it is not fedmesh's`,
    ]);
    await driver.apply(plan.state);
    assert.deepEqual(foreign(), before);
    // Should the nexthop appear between the read and the write, the driver's add fails instead of replacing it.
    const late: OverlayState = {
      neighbors: new Map([['1.0.0.5', '66:00:00:00:00:02']]),
      fdb: new Map([['66:00:00:00:00:02', '192.0.2.11']]),
      routes: new Map([['10.60.0.0/16', '1.0.0.5']]),
    };
    await assert.rejects(driver.apply(late), /File exists/);
    assert.deepEqual(foreign(), before);
    // The remote node gone: fedmesh deletes only its own, whatever went through that id.
    await driver.apply({ neighbors: new Map(), fdb: new Map(), routes: new Map() });
    assert.deepEqual(foreign(), before);
    assert.deepEqual(ownRoutes(), []);
  } finally {
    spawnSync(realIp, ['-n', ns, 'nexthop', 'del', 'id', String(id)]);
  }
});
