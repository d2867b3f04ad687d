// The driver's choice of way per transaction, against a stand-in for nft (a shell script): a session that keeps
// getting no answer is turned off, loudly, and deltas go on through `nft -f`.
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { blamedRules, NftDriver, NftError, SESSION_MAX_BROKEN } from './driver.js';
import { emptyChanges, emptyState } from './state.js';

const dir = mkdtempSync(join(tmpdir(), 'fedmesh-nft-driver-'));
after(() => rmSync(dir, { recursive: true, force: true }));

// `nft -i` reads and never answers; `nft -f -` takes its input and logs it; `nft -t -j list` finds no table.
const log = join(dir, 'files.log');
const fake = join(dir, 'nft');
writeFileSync(
  fake,
  `#!/bin/sh
case "$1" in
  -i) exec cat > /dev/null ;;
  -f) cat >> ${log}; exit 0 ;;
  *) echo 'Error: No such file or directory' >&2; exit 1 ;;
esac
`,
);
chmodSync(fake, 0o755);

function delta(i: number) {
  const changes = emptyChanges();
  changes.sets.set('peers', { added: new Set([`10.0.0.${i} . 0x00000001`]), removed: new Set() });
  const state = emptyState();
  state.sets.set('peers', { declaration: 'type ipv4_addr . mark;', elements: new Set([`10.0.0.${i} . 0x00000001`]) });
  return { changes, state };
}

test('a session that gets no answer several times in a row is turned off, and deltas go through nft -f', async () => {
  const reasons: string[] = [];
  const driver = new NftDriver(fake, { sessionTimeoutMs: 200, onSessionOff: (r) => reasons.push(r) });
  try {
    for (let i = 1; i <= SESSION_MAX_BROKEN; i++) {
      await driver.fullSync(() => delta(0).state);
      const { state, changes } = delta(i);
      await assert.rejects(driver.apply(state, changes), /did not answer a transaction within 200 ms/);
      assert.equal(driver.inSync, false, 'a delta without an answer asks for a full sync');
      assert.equal(driver.sessionEnabled, i < SESSION_MAX_BROKEN);
    }
    assert.equal(reasons.length, 1);
    assert.match(reasons[0]!, /3 transactions in a row got no answer from nft -i .*small deltas go through nft -f/);
    await driver.fullSync(() => delta(0).state);
    const { state, changes } = delta(9);
    const stats = await driver.apply(state, changes);
    assert.equal(stats.via, 'file');
    assert.match(readFileSync(log, 'utf8'), /add element inet fedmesh peers \{ 10\.0\.0\.9 \. 0x00000001 \}/);
  } finally {
    await driver.close();
  }
});

test('a failed flush blames the rules nft refused in a full sync, not in a delta, and not for a missing object', () => {
  const bad = { chain: 'prof-a', index: 1, rule: 'meta l4proto 6 icmp type 8 return', reason: 'conflicting protocols' };
  const missing = { chain: 'prof-b', index: 0, rule: 'ip saddr @peers return', reason: 'No such file or directory' };
  const err = new NftError('nft -f refused the transaction', '', [bad, missing]);
  assert.deepEqual(blamedRules(err, true), [bad]);
  assert.deepEqual(blamedRules(err, false), [], 'a delta: the kernel may have changed under it');
  assert.deepEqual(blamedRules(new Error('spawn nft ENOENT'), true), []);
});
