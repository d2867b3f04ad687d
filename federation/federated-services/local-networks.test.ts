import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { HostEndpoint, WorkloadEndpoint } from '../mesh-types.js';
import { LocalNetworks } from './local-networks.js';

const node = (cluster: string, name: string, ip: string, podCIDR: string): HostEndpoint => ({
  kind: 'HostEndpoint',
  cluster,
  namespace: '',
  name,
  uid: `${cluster}-${name}`,
  labels: {},
  created: 0,
  revision: 1,
  addresses: [
    { type: 'InternalIP', address: ip },
    { type: 'Hostname', address: name },
  ],
  podCIDRs: [podCIDR],
  ready: true,
  annotations: {},
});

test("this cluster's own addresses: its nodes' addresses and pod CIDRs and its pods' addresses, not another cluster's", () => {
  let nodes = [node('east', 'e0', '10.0.0.11', '10.246.0.0/24'), node('west', 'w0', '10.1.0.11', '10.245.0.0/24')];
  let lists = 0;
  const pods = new Map<string, WorkloadEndpoint[]>([
    ['10.99.0.7', [{ cluster: 'east' } as WorkloadEndpoint]],
    ['10.98.0.7', [{ cluster: 'west' } as WorkloadEndpoint]],
  ]);
  const cache = {
    list: ((_kind: 'HostEndpoint', filter?: { cluster?: string }) => {
      lists++;
      return nodes.filter((n) => n.cluster === filter?.cluster);
    }) as never,
    endpointsByIp: (ip: string) => pods.get(ip) ?? [],
  };
  const local = new LocalNetworks(cache, 'east');
  for (const ip of ['10.0.0.11', '10.246.0.200', '10.99.0.7']) assert.ok(local.isLocal(ip), ip);
  for (const ip of ['10.1.0.11', '10.245.0.5', '10.98.0.7', '10.0.0.12']) assert.equal(local.isLocal(ip), false, ip);
  assert.equal(lists, 1, 'the nodes are read once');
  // A node joins: once told, its networks count.
  nodes = [...nodes, node('east', 'e1', '10.0.0.12', '10.246.1.0/24')];
  assert.equal(local.isLocal('10.0.0.12'), false);
  local.invalidate();
  assert.ok(local.isLocal('10.0.0.12'));
  assert.ok(local.isLocal('10.246.1.9'));
  assert.equal(lists, 2);
});

test('a local node that comes or goes recomputes once per burst; a modified one or a remote one only invalidates', async () => {
  let recomputed = 0;
  const cache = { list: (() => []) as never, endpointsByIp: () => [] };
  const local = new LocalNetworks(cache, 'east', () => recomputed++);
  for (let i = 0; i < 1000; i++) local.onNodeEvent('added', 'east');
  await Promise.resolve();
  assert.equal(recomputed, 1, 'a list of 1000 nodes');
  local.onNodeEvent('modified', 'east');
  local.onNodeEvent('added', 'west');
  await Promise.resolve();
  assert.equal(recomputed, 1);
  local.onNodeEvent('deleted', 'east');
  await Promise.resolve();
  assert.equal(recomputed, 2);
});
