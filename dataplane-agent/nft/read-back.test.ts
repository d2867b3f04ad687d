// The read-back of fedmesh's table: what nft 1.0.6 printed for one small table (fedmesh's objects, and objects of the
// same names in another inet table and in an ip table fedmesh), parsed into the same names and shapes whichever
// command printed it; output that is not nft's JSON is refused; and which nft commands the driver runs.
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { NftDriver, NftError, parseExisting } from './driver.js';
import { declaredChainShape, declaredShape } from './object-shapes.js';

const meta = '{"metainfo": {"version": "1.0.6", "release_name": "Lester Gooch #5", "json_schema_version": 1}}';

/** `nft -t -j list sets table inet fedmesh ; list maps inet ; list chains inet`: one document per command. */
const readBack = `{"nftables": [${meta}, {"set": {"family": "inet", "name": "peers", "table": "fedmesh", "type": ["ipv4_addr", "mark"], "handle": 1}}, {"set": {"family": "inet", "name": "node-cidrs", "table": "fedmesh", "type": "ipv4_addr", "handle": 2, "flags": ["interval"]}}, {"set": {"family": "inet", "name": "node-cidrs", "table": "other", "type": "ipv4_addr", "handle": 1}}]}
{"nftables": [${meta}, {"map": {"family": "inet", "name": "ingress-eps", "table": "fedmesh", "type": "ipv4_addr", "handle": 3, "map": "verdict"}}, {"map": {"family": "inet", "name": "ingress-eps", "table": "other", "type": "ipv4_addr", "handle": 2, "map": "verdict"}}]}
{"nftables": [${meta}, {"chain": {"family": "inet", "table": "fedmesh", "name": "forward", "handle": 4, "type": "filter", "hook": "forward", "prio": 0, "policy": "accept"}}, {"chain": {"family": "inet", "table": "fedmesh", "name": "prof-x", "handle": 5}}, {"chain": {"family": "inet", "table": "other", "name": "forward", "handle": 3, "type": "filter", "hook": "forward", "prio": 0, "policy": "drop"}}]}
`;

/** `nft -t -j list table inet fedmesh` of the same table (what the read-back was before). */
const listTable = `{"nftables": [${meta}, {"table": {"family": "inet", "name": "fedmesh", "handle": 3}}, {"set": {"family": "inet", "name": "peers", "table": "fedmesh", "type": ["ipv4_addr", "mark"], "handle": 1}}, {"set": {"family": "inet", "name": "node-cidrs", "table": "fedmesh", "type": "ipv4_addr", "handle": 2, "flags": ["interval"]}}, {"map": {"family": "inet", "name": "ingress-eps", "table": "fedmesh", "type": "ipv4_addr", "handle": 3, "map": "verdict"}}, {"chain": {"family": "inet", "table": "fedmesh", "name": "forward", "handle": 4, "type": "filter", "hook": "forward", "prio": 0, "policy": "accept"}}, {"chain": {"family": "inet", "table": "fedmesh", "name": "prof-x", "handle": 5}}, {"rule": {"family": "inet", "table": "fedmesh", "chain": "forward", "handle": 9, "expr": [{"vmap": {"key": {"payload": {"protocol": "ip", "field": "daddr"}}, "data": "@ingress-eps"}}]}}, {"rule": {"family": "inet", "table": "fedmesh", "chain": "prof-x", "handle": 8, "expr": [{"match": {"op": "==", "left": {"payload": {"protocol": "tcp", "field": "dport"}}, "right": {"set": [80, 443]}}}, {"accept": null}]}}]}
`;

const expected = {
  table: true,
  sets: new Set(['peers', 'node-cidrs']),
  maps: new Set(['ingress-eps']),
  chains: new Set(['forward', 'prof-x']),
  shapes: new Map([
    ['set peers', declaredShape('type ipv4_addr . mark;')],
    ['set node-cidrs', declaredShape('type ipv4_addr; flags interval; auto-merge;')],
    ['map ingress-eps', declaredShape('type ipv4_addr : verdict;')],
    ['chain forward', declaredChainShape('type filter hook forward priority filter; policy accept;')],
    ['chain prof-x', declaredChainShape(undefined)],
  ]),
};

test('the read-back of sets, maps and chains gives what `list table` gave: our names and shapes, no other table', () => {
  assert.deepEqual(parseExisting(readBack), expected);
  assert.deepEqual(parseExisting(listTable), expected);
});

test('an object of ours with a field of another type is read as a shape no declaration has, and still by name', () => {
  const doc = (o: object) => JSON.stringify({ nftables: [JSON.parse(meta), o] });
  const odd = parseExisting(
    [
      doc({ set: { family: 'inet', table: 'fedmesh', name: 'peers', type: { typeof: 'ip saddr' } } }),
      doc({ set: { family: 'inet', table: 'fedmesh', name: 'node-cidrs', type: 'ipv4_addr', flags: 'interval' } }),
      doc({ map: { family: 'inet', table: 'fedmesh', name: 'ingress-eps', type: 'ipv4_addr', map: 7 } }),
      doc({ chain: { family: 'inet', table: 'fedmesh', name: 'forward', type: 'filter', hook: 1 } }),
      // Not ours, or not an object nft prints: left out.
      doc({ chain: { family: 'ip', table: 'fedmesh', name: 'prof-y' } }),
      doc({ chain: { family: 'inet', table: 'fedmesh', name: 5 } }),
      doc({ set: 'peers' }),
      JSON.stringify({ nftables: [null, 'set', 3] }),
    ].join('\n'),
  );
  assert.deepEqual([...odd.sets], ['peers', 'node-cidrs']);
  assert.deepEqual([...odd.maps], ['ingress-eps']);
  assert.deepEqual([...odd.chains], ['forward']);
  for (const [key, shape] of odd.shapes ?? []) assert.match(shape, /^unreadable \{/, key);
  assert.notEqual(odd.shapes?.get('set node-cidrs'), expected.shapes.get('set node-cidrs'));
});

test('output that is not nft JSON is an error, not an empty table', () => {
  for (const output of [
    '',
    '\n',
    'Error: something\n',
    '{"nftables": {}}\n',
    `${readBack}[1]\n`,
    '{"nftables": [}\n',
  ]) {
    assert.throws(() => parseExisting(output), NftError, JSON.stringify(output));
  }
});

const dir = mkdtempSync(join(tmpdir(), 'fedmesh-nft-read-back-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** An nft that logs its arguments, a line per run, and prints `stdout` and `stderr` and exits `code`. */
function fakeNft(name: string, stdout: string, stderr: string, code: number): { nft: string; log: string } {
  const nft = join(dir, name);
  const log = join(dir, `${name}.log`);
  writeFileSync(join(dir, `${name}.out`), stdout);
  writeFileSync(
    nft,
    `#!/bin/sh\necho "$*" >> ${log}\ncat ${join(dir, `${name}.out`)}\nprintf '%s' '${stderr}' >&2\nexit ${code}\n`,
  );
  chmodSync(nft, 0o755);
  return { nft, log };
}

test('the driver lists the sets, maps and chains in one nft run, never the table (nft fetches every element for it)', async () => {
  const { nft, log } = fakeNft('nft-ok', readBack, '', 0);
  const driver = new NftDriver(nft);
  try {
    assert.deepEqual(await driver.readExisting(), expected);
  } finally {
    await driver.close();
  }
  assert.equal(
    readFileSync(log, 'utf8'),
    '-t -j list sets table inet fedmesh ; list maps inet ; list chains inet\n',
    'one nft process, terse',
  );
});

test('a table that is not there reads as absent; another failure is an error naming it', async () => {
  const absent = fakeNft('nft-absent', '', 'Error: No such file or directory\nlist sets table inet fedmesh\n', 1);
  const driver = new NftDriver(absent.nft);
  try {
    assert.deepEqual(await driver.readExisting(), {
      table: false,
      sets: new Set(),
      maps: new Set(),
      chains: new Set(),
    });
  } finally {
    await driver.close();
  }
  const denied = fakeNft('nft-denied', '', 'Error: Operation not permitted', 1);
  const other = new NftDriver(denied.nft);
  try {
    await assert.rejects(other.readExisting(), (err: unknown) => {
      assert.ok(err instanceof NftError);
      assert.match(err.message, /^nft -t -j list sets table inet fedmesh .* failed: Error: Operation not permitted$/);
      return true;
    });
  } finally {
    await other.close();
  }
});
