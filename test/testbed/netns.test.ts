import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { runTool } from '../../dataplane-agent/exec.js';
import { createNetns, listNetns, netnsPrefix, removeNetns } from './netns.js';

// Real namespaces (root): what `testbed up --netns` builds, and that nothing is left behind.
const dir = mkdtempSync(join(tmpdir(), 'fedmesh-netns-'));
after(async () => {
  await removeNetns(dir);
  rmSync(dir, { recursive: true, force: true });
});

const nodes = [
  { cluster: 'east', name: 'node-0', underlayIP: '172.18.0.1', podCIDRs: ['10.244.0.0/24'] },
  { cluster: 'east', name: 'node-1', underlayIP: '172.18.0.2', podCIDRs: ['10.244.1.0/24'] },
];
const pods = [
  { cluster: 'east', namespace: 'd', name: 'a', node: 'node-0', ip: '10.244.0.1' },
  { cluster: 'east', namespace: 'd', name: 'b', node: 'node-1', ip: '10.244.1.1' },
];

test('pods on two nodes of a cluster reach each other through their nodes; removal finds every namespace by name', async () => {
  const layout = await createNetns(dir, nodes, pods);
  assert.equal(layout.prefix, netnsPrefix(dir));
  const ping = await runTool('ip', [
    'netns',
    'exec',
    layout.pods[0]!.netns,
    'ping',
    '-c',
    '1',
    '-W',
    '2',
    '10.244.1.1',
  ]);
  assert.equal(ping.code, 0, ping.stdout + ping.stderr);
  const mine = (await listNetns()).filter((n) => n.startsWith(layout.prefix));
  assert.equal(mine.length, 5); // underlay, 2 nodes, 2 pods
  // As after a crash: nothing but the directory is known.
  assert.equal(await removeNetns(dir), 5);
  assert.deepEqual(
    (await listNetns()).filter((n) => n.startsWith(layout.prefix)),
    [],
  );
});

test('a layout that fails half-way removes what it made', async () => {
  await assert.rejects(
    createNetns(dir, nodes, [
      ...pods,
      { cluster: 'east', namespace: 'd', name: 'c', node: 'node-9', ip: '10.244.9.1' },
    ]),
    /node node-9 is not a netns node/,
  );
  await assert.rejects(createNetns(dir, [...nodes, { ...nodes[0]!, underlayIP: '999.0.0.1' }], pods));
  assert.deepEqual(
    (await listNetns()).filter((n) => n.startsWith(netnsPrefix(dir))),
    [],
  );
});
