// Shapes read back from nft 1.0.6 (`nft -t -j list table`, printed by the real nft for these very declarations)
// equal the shapes of the declarations the renderer writes; another type, flag or hook does not.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseExisting } from './driver.js';
import { declaredChainShape, declaredShape } from './object-shapes.js';

const readBack = JSON.stringify({
  nftables: [
    { metainfo: { version: '1.0.6', release_name: 'Lester Gooch #5', json_schema_version: 1 } },
    { table: { family: 'inet', name: 'fedmesh', handle: 58 } },
    { set: { family: 'inet', name: 'peers', table: 'fedmesh', type: ['ipv4_addr', 'mark'], handle: 1 } },
    {
      set: { family: 'inet', name: 'node-cidrs', table: 'fedmesh', type: 'ipv4_addr', handle: 2, flags: ['interval'] },
    },
    {
      set: {
        family: 'inet',
        name: 'port-lists',
        table: 'fedmesh',
        type: ['inet_service', 'mark'],
        handle: 3,
        flags: ['interval'],
      },
    },
    { map: { family: 'inet', name: 'ingress-eps', table: 'fedmesh', type: 'ipv4_addr', handle: 5, map: 'verdict' } },
    {
      chain: {
        family: 'inet',
        table: 'fedmesh',
        name: 'forward',
        handle: 6,
        type: 'filter',
        hook: 'forward',
        prio: 0,
        policy: 'accept',
      },
    },
    { chain: { family: 'inet', table: 'fedmesh', name: 'prof-x', handle: 7 } },
    { chain: { family: 'inet', table: 'other', name: 'forward', handle: 1 } },
  ],
});

const existing = parseExisting(readBack);
const shape = (key: string) => existing.shapes?.get(key);

test('what nft prints back has the shape of what the renderer declared', () => {
  assert.equal(shape('set peers'), declaredShape('type ipv4_addr . mark;'));
  assert.equal(shape('set node-cidrs'), declaredShape('type ipv4_addr; flags interval; auto-merge;'));
  assert.equal(shape('set port-lists'), declaredShape('type inet_service . mark; flags interval;'));
  assert.equal(shape('map ingress-eps'), declaredShape('type ipv4_addr : verdict;'));
  assert.equal(shape('chain forward'), declaredChainShape('type filter hook forward priority filter; policy accept;'));
  assert.equal(shape('chain prof-x'), declaredChainShape(undefined));
  assert.deepEqual([...existing.chains].sort(), ['forward', 'prof-x'], "another table's chains are not ours");
});

test('another key type, another flag, a missing hook or another policy is another shape', () => {
  assert.notEqual(shape('set peers'), declaredShape('type ipv4_addr . inet_service;'));
  assert.notEqual(shape('set peers'), declaredShape('type ipv4_addr . mark; flags interval;'));
  assert.notEqual(shape('set node-cidrs'), declaredShape('type ipv4_addr;'));
  assert.notEqual(shape('map ingress-eps'), declaredShape('type ipv4_addr : ipv4_addr;'));
  assert.notEqual(
    shape('chain prof-x'),
    declaredChainShape('type filter hook forward priority filter; policy accept;'),
  );
  assert.notEqual(shape('chain forward'), declaredChainShape('type filter hook forward priority filter; policy drop;'));
  assert.notEqual(shape('chain forward'), declaredChainShape(undefined));
});
