import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { cidrsOverlap, formatCidr, type Ipv4Cidr } from '../ipv4.js';
import { computeOverlay, type LocalRoute, nexthopId, type RemoteNode } from './calc.js';

const node = (cluster: string, name: string, i: number, extra: Partial<RemoteNode> = {}): RemoteNode => ({
  cluster,
  name,
  nodeIP: `172.18.1.${i}`,
  podCIDRs: [`10.245.${i}.0/24`],
  vtepIP: `10.245.${i}.0`,
  vtepMAC: `66:00:00:00:00:0${i}`,
  ...extra,
});

test('one neighbour and FDB entry per remote node, one route per pod CIDR, only for clusters with overlay enabled', () => {
  const plan = computeOverlay({
    remoteNodes: [
      node('west', 'a', 1),
      node('west', 'b', 2, { podCIDRs: ['10.245.2.0/24', '10.245.3.0/24'] }),
      node('north', 'c', 4),
    ],
    enabledClusters: new Set(['west']),
    protectedCIDRs: ['10.244.0.0/24'],
    localRoutes: [],
    localNexthops: [],
  });
  assert.deepEqual(plan.problems, []);
  assert.deepEqual(
    [...plan.state.neighbors],
    [
      ['10.245.1.0', '66:00:00:00:00:01'],
      ['10.245.2.0', '66:00:00:00:00:02'],
    ],
  );
  assert.deepEqual(
    [...plan.state.fdb],
    [
      ['66:00:00:00:00:01', '172.18.1.1'],
      ['66:00:00:00:00:02', '172.18.1.2'],
    ],
  );
  assert.deepEqual(
    [...plan.state.routes],
    [
      ['10.245.1.0/24', '10.245.1.0'],
      ['10.245.2.0/24', '10.245.2.0'],
      ['10.245.3.0/24', '10.245.2.0'],
    ],
  );
});

test('hostile remote nodes are left out with a reason: default routes, local networks, bad addresses, taken CIDRs', () => {
  const plan = computeOverlay({
    remoteNodes: [
      node('west', 'default-route', 1, { podCIDRs: ['0.0.0.0/0'] }),
      node('west', 'local-hijack', 2, { podCIDRs: ['10.244.0.0/16'] }),
      node('west', 'bad-mac', 3, { vtepMAC: 'zz:00:00:00:00:00' }),
      node('west', 'bad-ip', 4, { nodeIP: '172.18.1.400' }),
      node('west', 'host-bits', 5, { podCIDRs: ['10.245.5.1/24'] }),
      node('west', 'x-first', 6),
      node('west', 'y-second', 7, { podCIDRs: ['10.245.6.128/25'] }),
    ],
    enabledClusters: new Set(['west']),
    protectedCIDRs: ['10.244.0.0/24'],
    localRoutes: [],
    localNexthops: [],
  });
  assert.deepEqual([...plan.state.routes.keys()], ['10.245.6.0/24']);
  assert.equal(plan.problems.length, 6);
  assert.match(plan.problems.join('\n'), /default-route: pod CIDR "0.0.0.0\/0"/);
  assert.match(
    plan.problems.join('\n'),
    /local-hijack: pod CIDR 10.244.0.0\/16 overlaps 10.244.0.0\/24 of this cluster/,
  );
  assert.match(
    plan.problems.join('\n'),
    /y-second: pod CIDR 10.245.6.128\/25 overlaps 10.245.6.0\/24 of remote node west\/x-first/,
  );
  // A node with no route left gets no tunnel entries either.
  assert.equal(plan.state.neighbors.size, 1);
});

test('a VTEP claimed twice goes to the first node in name order, whatever the input order', () => {
  const a = node('west', 'a', 1);
  const b = node('west', 'b', 2, { vtepIP: '10.245.1.0' });
  for (const order of [
    [a, b],
    [b, a],
  ]) {
    const plan = computeOverlay({
      remoteNodes: order,
      enabledClusters: new Set(['west']),
      protectedCIDRs: [],
      localRoutes: [],
      localNexthops: [],
    });
    assert.deepEqual([...plan.state.neighbors.keys()], ['10.245.1.0']);
    assert.equal(plan.state.fdb.get('66:00:00:00:00:01'), '172.18.1.1');
  }
});

test('nested protected networks protect their whole range, whatever their order', () => {
  for (const protectedCIDRs of [
    ['10.245.0.0/24', '10.245.0.0/16'],
    ['10.245.0.0/16', '10.245.0.0/24'],
  ]) {
    const plan = computeOverlay({
      remoteNodes: [node('west', 'a', 7)],
      enabledClusters: new Set(['west']),
      protectedCIDRs,
      localRoutes: [],
      localNexthops: [],
    });
    assert.equal(plan.state.routes.size, 0);
    assert.match(plan.problems[0] ?? '', /overlaps 10\.245\.0\.0\/16 of this cluster/);
  }
});

const withRoutes = (remoteNodes: RemoteNode[], localRoutes: LocalRoute[]) =>
  computeOverlay({
    remoteNodes,
    enabledClusters: new Set(['west']),
    protectedCIDRs: ['10.244.1.0/24', '192.168.1.10/32'],
    localRoutes,
    localNexthops: [],
  });

test('a remote pod CIDR equal to, inside or containing a route of the main table that is not fedmesh’s is refused', () => {
  const plan = withRoutes(
    [
      node('west', 'equal', 1, { podCIDRs: ['10.244.2.0/24'] }),
      node('west', 'inside', 2, { podCIDRs: ['192.168.1.128/25'] }),
      node('west', 'containing', 3, { podCIDRs: ['10.244.2.0/23'] }),
      node('west', 'host-route', 4, { podCIDRs: ['10.99.0.0/16'] }),
      node('west', 'fine', 5),
    ],
    [
      { dst: '10.244.2.0/24', protocol: 3, text: '10.244.2.0/24 via 192.168.1.11 dev eth0' },
      { dst: '192.168.1.0/24', protocol: 2, text: '192.168.1.0/24 dev eth0 proto kernel scope link' },
      { dst: '10.99.7.1', protocol: 4, text: '10.99.7.1 dev cali1 proto static scope link' },
    ],
  );
  assert.deepEqual([...plan.state.routes.keys()], ['10.245.5.0/24']);
  assert.deepEqual([...plan.state.neighbors.keys()], ['10.245.5.0'], 'no tunnel entries for a refused node');
  assert.deepEqual(plan.problems, [
    'remote node west/containing: pod CIDR 10.244.2.0/23 overlaps the local route "10.244.2.0/24 via 192.168.1.11 dev eth0", which is not fedmesh\'s: the overlay never takes a destination it does not own',
    'remote node west/equal: pod CIDR 10.244.2.0/24 overlaps the local route "10.244.2.0/24 via 192.168.1.11 dev eth0", which is not fedmesh\'s: the overlay never takes a destination it does not own',
    'remote node west/host-route: pod CIDR 10.99.0.0/16 overlaps the local route "10.99.7.1 dev cali1 proto static scope link", which is not fedmesh\'s: the overlay never takes a destination it does not own',
    'remote node west/inside: pod CIDR 192.168.1.128/25 overlaps the local route "192.168.1.0/24 dev eth0 proto kernel scope link", which is not fedmesh\'s: the overlay never takes a destination it does not own',
  ]);
});

test('the default route and fedmesh’s own routes (protocol 201) do not block a remote pod CIDR', () => {
  const plan = withRoutes(
    [node('west', 'a', 1), node('west', 'b', 2)],
    [
      { dst: 'default', protocol: 3, text: 'default via 192.168.1.1 dev eth0' },
      { dst: '10.245.2.0/24', protocol: 201, text: '10.245.2.0/24 nhid 1 via 10.245.2.0 dev fedmesh.vxlan proto 201' },
    ],
  );
  assert.deepEqual(plan.problems, []);
  assert.deepEqual([...plan.state.routes.keys()], ['10.245.1.0/24', '10.245.2.0/24']);
});

test('a local route whose destination cannot be read stops the calculation rather than being ignored', () => {
  assert.throws(
    () => withRoutes([node('west', 'a', 1)], [{ dst: 'fd00::/64', protocol: 3, text: 'fd00::/64 dev eth0' }]),
    /local route "fd00::\/64 dev eth0": destination "fd00::\/64" is not an IPv4 network/,
  );
});

test('a VTEP or node IP that is not a unicast address is refused: no entries for that node', () => {
  const bad = [
    '0.0.0.0',
    '0.1.2.3',
    '127.0.0.1',
    '169.254.1.1',
    '224.0.0.1',
    '239.255.255.250',
    '240.0.0.1',
    '255.255.255.255',
  ];
  for (const ip of bad) {
    for (const field of ['vtepIP', 'nodeIP'] as const) {
      const plan = computeOverlay({
        remoteNodes: [node('west', 'a', 1, { [field]: ip })],
        enabledClusters: new Set(['west']),
        protectedCIDRs: [],
        localRoutes: [],
        localNexthops: [],
      });
      assert.equal(plan.problems.length, 1, `${field} ${ip}`);
      assert.match(
        plan.problems[0] ?? '',
        new RegExp(`remote node west/a: .*${ip.replaceAll('.', '\\.')} is not a unicast address`),
      );
      assert.equal(plan.state.neighbors.size + plan.state.fdb.size + plan.state.routes.size, 0, `${field} ${ip}`);
    }
  }
});

test('an all-zero, multicast or broadcast VTEP MAC is refused: it would be a default FDB entry or a flood', () => {
  for (const mac of ['00:00:00:00:00:00', '01:00:5e:00:00:01', '67:00:00:00:00:01', 'ff:ff:ff:ff:ff:ff']) {
    const plan = computeOverlay({
      remoteNodes: [node('west', 'a', 1, { vtepMAC: mac })],
      enabledClusters: new Set(['west']),
      protectedCIDRs: [],
      localRoutes: [],
      localNexthops: [],
    });
    assert.equal(plan.problems.length, 1, mac);
    assert.match(plan.problems[0] ?? '', new RegExp(`remote node west/a: VTEP MAC ${mac} is not a unicast MAC`));
    assert.equal(plan.state.neighbors.size + plan.state.fdb.size + plan.state.routes.size, 0, mac);
  }
});

test("a remote node claiming this node's own tunnel endpoint or addresses is left out", () => {
  const self = { nodeIP: '172.18.0.1', vtepIP: '10.244.0.0', vtepMAC: '66:00:00:00:00:aa' };
  const plan = computeOverlay({
    remoteNodes: [
      node('west', 'loop', 1, { nodeIP: '172.18.0.1' }),
      node('west', 'loop-via-vtep', 5, { nodeIP: '10.244.0.0' }),
      node('west', 'loop-via-pod', 6, { nodeIP: '10.244.0.7' }),
      node('west', 'same-vtep-ip', 2, { vtepIP: '10.244.0.0' }),
      node('west', 'same-mac', 3, { vtepMAC: '66:00:00:00:00:AA' }),
      node('west', 'fine', 4),
    ],
    enabledClusters: new Set(['west']),
    protectedCIDRs: ['10.244.0.0/24', '172.18.0.1/32'],
    localRoutes: [],
    localNexthops: [],
    self,
  });
  assert.deepEqual(plan.problems, [
    'remote node west/loop: node IP 172.18.0.1 is an address of this node (in 172.18.0.1/32): tunnelled packets would come back here',
    'remote node west/loop-via-pod: node IP 10.244.0.7 is an address of this node (in 10.244.0.0/24): tunnelled packets would come back here',
    'remote node west/loop-via-vtep: node IP 10.244.0.0 is an address of this node (in 10.244.0.0/24): tunnelled packets would come back here',
    "remote node west/same-mac: VTEP MAC 66:00:00:00:00:aa is this node's own",
    "remote node west/same-vtep-ip: VTEP IP 10.244.0.0 is this node's own",
  ]);
  assert.deepEqual([...plan.state.fdb], [['66:00:00:00:00:04', '172.18.1.4']]);
  // Without the node's networks listed, its own node IP and VTEP IP still count.
  const bare = computeOverlay({
    remoteNodes: [
      node('west', 'loop', 1, { nodeIP: '172.18.0.1' }),
      node('west', 'via-vtep', 5, { nodeIP: '10.244.0.0' }),
    ],
    enabledClusters: new Set(['west']),
    protectedCIDRs: [],
    localRoutes: [],
    localNexthops: [],
    self,
  });
  assert.equal(bare.problems.length, 2);
  assert.equal(bare.state.fdb.size, 0);
});

test('a remote VTEP whose nexthop id another tool’s nexthop holds is refused; a nexthop of fedmesh’s with it is not in the way', () => {
  const plan = computeOverlay({
    remoteNodes: [node('west', 'a', 1, { vtepIP: '1.0.0.5' }), node('west', 'b', 2)],
    enabledClusters: new Set(['west']),
    protectedCIDRs: [],
    localRoutes: [],
    localNexthops: [
      { id: nexthopId('1.0.0.5'), protocol: 4, text: 'id 16777221 via 10.0.0.1 dev eth0 proto static' },
      {
        id: nexthopId('10.245.2.0'),
        protocol: 201,
        text: `id ${nexthopId('10.245.2.0')} via 10.245.2.0 dev vx proto 201`,
      },
    ],
  });
  assert.deepEqual(plan.problems, [
    'remote node west/a: VTEP IP 1.0.0.5 needs nexthop id 16777221, which the nexthop "id 16777221 via 10.0.0.1 dev eth0 proto static" holds: it is not fedmesh\'s',
  ]);
  assert.deepEqual([...plan.state.neighbors.keys()], ['10.245.2.0']);
  assert.deepEqual([...plan.state.routes.keys()], ['10.245.2.0/24']);
});

test('a remote pod CIDR that reaches into a range that is not unicast, or is shorter than /8, is refused', () => {
  const bad = [
    '0.0.0.0/0',
    '10.0.0.0/7',
    '0.0.0.0/8',
    '0.128.0.0/9',
    '127.0.0.0/8',
    '127.1.0.0/16',
    '169.254.0.0/16',
    '169.254.169.0/24',
    '169.0.0.0/8',
    '224.0.0.0/4',
    '224.0.0.0/24',
    '239.255.255.0/24',
    '240.0.0.0/8',
    '255.255.255.254/31',
  ];
  const plan = computeOverlay({
    remoteNodes: [node('west', 'a', 1, { podCIDRs: [...bad, '10.245.1.0/24', '168.0.0.0/8', '223.0.0.0/8'] })],
    enabledClusters: new Set(['west']),
    protectedCIDRs: [],
    localRoutes: [],
    localNexthops: [],
  });
  assert.deepEqual([...plan.state.routes.keys()], ['10.245.1.0/24', '168.0.0.0/8', '223.0.0.0/8']);
  assert.equal(plan.problems.length, bad.length, plan.problems.join('\n'));
  for (const [i, text] of bad.entries()) {
    assert.ok(
      plan.problems[i]?.startsWith(`remote node west/a: pod CIDR "${text}" `) ||
        plan.problems[i]?.startsWith(`remote node west/a: pod CIDR ${text} `),
      plan.problems[i],
    );
  }
  assert.match(
    plan.problems.join('\n'),
    /pod CIDR 169\.0\.0\.0\/8 overlaps link-local 169\.254\.0\.0\/16, which is not unicast/,
  );
  assert.match(plan.problems.join('\n'), /pod CIDR 255\.255\.255\.254\/31 overlaps reserved 240\.0\.0\.0\/4/);
  assert.match(plan.problems.join('\n'), /pod CIDR "10\.0\.0\.0\/7" is not an IPv4 network between \/8 and \/31/);
});

test('property: overlaps are found whatever the order of the CIDRs (the first node in name order wins)', () => {
  // Nested and disjoint CIDRs in 10.0.0.0/16, so that overlaps are common: protected ones, then remote ones.
  const cidr = fc
    .record({ n: fc.integer({ min: 0, max: 0xffff }), prefix: fc.integer({ min: 16, max: 31 }) })
    .map(({ n, prefix }): Ipv4Cidr => {
      const ip = 10 * 2 ** 24 + n;
      return { base: ip - (ip % 2 ** (32 - prefix)), prefix };
    });
  fc.assert(
    fc.property(
      fc.array(cidr, { maxLength: 4 }),
      fc.array(fc.array(cidr, { minLength: 1, maxLength: 3 }), { maxLength: 12 }),
      (protectedCIDRs, perNode) => {
        const plan = computeOverlay({
          remoteNodes: perNode.map((cidrs, i) =>
            node('west', `n${String(i).padStart(2, '0')}`, i, {
              podCIDRs: cidrs.map(formatCidr),
              nodeIP: `172.18.1.${i}`,
              vtepIP: `172.20.1.${i}`,
              vtepMAC: `66:00:00:00:01:${(16 + i).toString(16)}`,
            }),
          ),
          enabledClusters: new Set(['west']),
          protectedCIDRs: protectedCIDRs.map(formatCidr),
          localRoutes: [],
          localNexthops: [],
        });
        // By brute force: each CIDR against every one taken before it.
        const taken: Ipv4Cidr[] = [...protectedCIDRs];
        const want: string[] = [];
        for (const cidrs of perNode) {
          for (const c of cidrs) {
            if (taken.some((t) => cidrsOverlap(t, c))) continue;
            taken.push(c);
            want.push(formatCidr(c));
          }
        }
        assert.deepEqual([...plan.state.routes.keys()].sort(), [...new Set(want)].sort());
      },
    ),
    { numRuns: 2_000 },
  );
});

test('property: a pod CIDR overlapping another cluster’s is refused on both sides; within a cluster the first wins', () => {
  const cidr = fc
    .record({ n: fc.integer({ min: 0, max: 0xffff }), prefix: fc.integer({ min: 16, max: 31 }) })
    .map(({ n, prefix }): Ipv4Cidr => {
      const ip = 10 * 2 ** 24 + n;
      return { base: ip - (ip % 2 ** (32 - prefix)), prefix };
    });
  const remote = fc.record({
    cluster: fc.constantFrom('a', 'b', 'c'),
    cidrs: fc.array(cidr, { minLength: 1, maxLength: 3 }),
  });
  fc.assert(
    fc.property(fc.array(cidr, { maxLength: 3 }), fc.array(remote, { maxLength: 12 }), (protectedCIDRs, remotes) => {
      const nodes = remotes.map(({ cluster, cidrs }, i) =>
        node(cluster, `n${String(i).padStart(2, '0')}`, i, {
          podCIDRs: cidrs.map(formatCidr),
          nodeIP: `172.18.1.${i}`,
          vtepIP: `172.20.1.${i}`,
          vtepMAC: `66:00:00:00:01:${(16 + i).toString(16)}`,
        }),
      );
      const plan = computeOverlay({
        remoteNodes: nodes,
        enabledClusters: new Set(['a', 'b', 'c']),
        protectedCIDRs: protectedCIDRs.map(formatCidr),
        localRoutes: [],
        localNexthops: [],
      });
      // By brute force, in name order (cluster, then node): every claim against every other.
      const claims = remotes
        .map((r, i) => ({ ...r, i }))
        .sort((x, y) => (x.cluster === y.cluster ? x.i - y.i : x.cluster < y.cluster ? -1 : 1))
        .flatMap(({ cluster, cidrs }) => cidrs.map((c) => ({ cluster, c })))
        .filter(({ c }) => !protectedCIDRs.some((t) => cidrsOverlap(t, c)));
      const taken: Ipv4Cidr[] = [];
      const want: string[] = [];
      for (const { cluster, c } of claims) {
        if (claims.some((o) => o.cluster !== cluster && cidrsOverlap(o.c, c))) continue;
        if (taken.some((t) => cidrsOverlap(t, c))) continue;
        taken.push(c);
        want.push(formatCidr(c));
      }
      assert.deepEqual([...plan.state.routes.keys()].sort(), want.sort());
    }),
    { numRuns: 2_000 },
  );
});

test('pod CIDRs that overlap between clusters are refused on both sides, whatever the names and the input order', () => {
  const west = node('west', 'w1', 1, { podCIDRs: ['10.50.1.0/24', '10.245.1.0/24'], vtepIP: '10.245.1.0' });
  // VTEP IPs outside 10.50.0.0/16: a pod CIDR containing another node's VTEP IP is refused on its own (below).
  const west2 = node('west', 'w2', 2, { podCIDRs: ['10.50.2.0/24'] });
  const evil = node('aaa-evil', 'x', 6, { podCIDRs: ['10.50.0.0/16', '10.66.0.0/24'], vtepIP: '10.66.0.0' });
  const north = node('north', 'n1', 7, { podCIDRs: ['10.50.1.0/24'], vtepIP: '10.70.0.0' });
  for (const order of [
    [west, west2, evil, north],
    [north, evil, west2, west],
  ]) {
    const plan = computeOverlay({
      remoteNodes: order,
      enabledClusters: new Set(['west', 'aaa-evil', 'north']),
      protectedCIDRs: [],
      localRoutes: [],
      localNexthops: [],
    });
    assert.deepEqual(
      [...plan.state.routes],
      [
        ['10.66.0.0/24', '10.66.0.0'],
        ['10.245.1.0/24', '10.245.1.0'],
      ],
    );
    assert.deepEqual(plan.problems, [
      'remote node aaa-evil/x: pod CIDR 10.50.0.0/16 overlaps 10.50.1.0/24 of remote node north/n1: clusters aaa-evil and north both claim these addresses, so neither gets them',
      'remote node north/n1: pod CIDR 10.50.1.0/24 overlaps 10.50.0.0/16 of remote node aaa-evil/x: clusters north and aaa-evil both claim these addresses, so neither gets them',
      'remote node west/w1: pod CIDR 10.50.1.0/24 overlaps 10.50.0.0/16 of remote node aaa-evil/x: clusters west and aaa-evil both claim these addresses, so neither gets them',
      'remote node west/w2: pod CIDR 10.50.2.0/24 overlaps 10.50.0.0/16 of remote node aaa-evil/x: clusters west and aaa-evil both claim these addresses, so neither gets them',
    ]);
    // A node left without a route gets no tunnel entries; the others keep theirs.
    assert.deepEqual([...plan.state.neighbors.keys()], ['10.66.0.0', '10.245.1.0']);
  }
  // Equal CIDRs, each node's VTEP IP the network address of its own (as vtep.ts makes them): neither.
  const equal = computeOverlay({
    remoteNodes: [
      node('west', 'w1', 1, { podCIDRs: ['10.50.1.0/24'], vtepIP: '10.50.1.0' }),
      node('aaa-evil', 'x', 6, { podCIDRs: ['10.50.1.0/24'], vtepIP: '10.50.1.0' }),
    ],
    enabledClusters: new Set(['west', 'aaa-evil']),
    protectedCIDRs: [],
    localRoutes: [],
    localNexthops: [],
  });
  assert.equal(equal.state.routes.size, 0);
  assert.match(
    equal.problems.join('\n'),
    /west\/w1: pod CIDR 10\.50\.1\.0\/24 overlaps 10\.50\.1\.0\/24 of remote node aaa-evil\/x/,
  );
  assert.match(
    equal.problems.join('\n'),
    /aaa-evil\/x: pod CIDR 10\.50\.1\.0\/24 overlaps 10\.50\.1\.0\/24 of remote node west\/w1/,
  );
});

test('a remote pod CIDR that contains a remote node IP or another node’s VTEP IP is refused: tunnel packets would loop', () => {
  const plan = computeOverlay({
    remoteNodes: [
      node('west', 'w1', 1, { nodeIP: '192.0.2.20', podCIDRs: ['10.50.1.0/24'], vtepIP: '10.50.1.0' }),
      node('zz-evil', 'underlay', 2, { nodeIP: '10.0.0.66', podCIDRs: ['192.0.2.0/24', '10.77.0.0/24'] }),
      node('zz-evil', 'vtep', 3, { nodeIP: '10.0.0.67', podCIDRs: ['10.50.0.0/23'], vtepIP: '10.78.0.0' }),
      node('zz-evil', 'itself', 4, { nodeIP: '10.79.0.9', podCIDRs: ['10.79.0.0/24'], vtepIP: '10.79.0.0' }),
      // Its own VTEP IP in its own pod CIDR is how every node is set up (the CIDR's network address).
      node('zz-evil', 'fine', 5, { nodeIP: '10.0.0.69', podCIDRs: ['10.80.0.0/24'], vtepIP: '10.80.0.0' }),
    ],
    enabledClusters: new Set(['west', 'zz-evil']),
    protectedCIDRs: [],
    localRoutes: [],
    localNexthops: [],
  });
  assert.deepEqual(plan.problems, [
    'remote node zz-evil/itself: pod CIDR 10.79.0.0/24 contains the node IP 10.79.0.9 of remote node zz-evil/itself: tunnelled packets to it would be routed into the tunnel again',
    'remote node zz-evil/underlay: pod CIDR 192.0.2.0/24 contains the node IP 192.0.2.20 of remote node west/w1: tunnelled packets to it would be routed into the tunnel again',
    'remote node zz-evil/vtep: pod CIDR 10.50.0.0/23 contains the VTEP IP 10.50.1.0 of remote node west/w1: traffic to that tunnel endpoint would go to another node',
  ]);
  assert.deepEqual([...plan.state.routes.keys()].sort(), ['10.50.1.0/24', '10.77.0.0/24', '10.80.0.0/24']);
});
