import assert from 'node:assert/strict';
import { test } from 'node:test';
import { computeOverlay, type RemoteNode } from './calc.js';

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
      node('west', 'y-second', 7, { podCIDRs: ['10.245.6.0/25'] }),
    ],
    enabledClusters: new Set(['west']),
    protectedCIDRs: ['10.244.0.0/24'],
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
    /y-second: pod CIDR 10.245.6.0\/25 overlaps 10.245.6.0\/24 of remote node west\/x-first/,
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
    const plan = computeOverlay({ remoteNodes: order, enabledClusters: new Set(['west']), protectedCIDRs: [] });
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
    });
    assert.equal(plan.state.routes.size, 0);
    assert.match(plan.problems[0] ?? '', /overlaps 10\.245\.0\.0\/16 of this cluster/);
  }
});
