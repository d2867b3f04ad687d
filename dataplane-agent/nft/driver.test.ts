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

// `nft -f -` logs when a transaction starts and ends: a chunk takes 0.3 s, one holding 0x1ffffffff is refused at once,
// the declarations pass, and so does the full transaction unless it holds an icmp rule (refused, naming its line).
// `nft -t -j list` finds no table.
const prefillLog = join(dir, 'prefill.log');
const slowFake = join(dir, 'nft-slow');
writeFileSync(
  slowFake,
  `#!/bin/sh
case "$1" in
  -i) exec cat > /dev/null ;;
  -f)
    input=$(cat)
    case "$input" in
      *'create set'*) echo declarations >> ${prefillLog}; exit 0 ;;
      *'add rule'*icmp*)
        echo full >> ${prefillLog}
        line=$(printf '%s\\n' "$input" | grep -n icmp | cut -d: -f1)
        echo "/dev/stdin:$line:1-4: Error: conflicting protocols specified: tcp vs. icmp" >&2
        exit 1 ;;
      *'add rule'*) echo full >> ${prefillLog}; exit 0 ;;
    esac
    echo start >> ${prefillLog}
    case "$input" in
      *0x1ffffffff*) echo end >> ${prefillLog}; echo '/dev/stdin:1:5-9: Error: Value 8589934591 exceeds valid range' >&2; exit 1 ;;
    esac
    sleep 0.3
    echo end >> ${prefillLog}
    exit 0 ;;
  *) echo 'Error: No such file or directory' >&2; exit 1 ;;
esac
`,
);
chmodSync(slowFake, 0o755);

/** 60 elements of peers (6 chunks of 10), element `bad` replaced by one nft refuses; a chain that uses the set. */
function largeState(bad?: number) {
  const state = emptyState();
  const elements = Array.from({ length: 60 }, (_, i) => `10.0.0.${i} . 0x${i === bad ? '1ffffffff' : '00000001'}`);
  state.sets.set('peers', { declaration: 'type ipv4_addr . mark;', elements: new Set(elements) });
  state.chains.set('prof-x', { rules: ['ip saddr . (meta mark & 0x00000000 | 0x00000001) @peers return'] });
  return state;
}

/** The log's lines, and the most chunk transactions that ran at once. */
function readPrefillLog(): { lines: string[]; most: number } {
  const lines = readFileSync(prefillLog, 'utf8').trim().split('\n');
  let running = 0;
  let most = 0;
  for (const l of lines) {
    running += l === 'start' ? 1 : l === 'end' ? -1 : 0;
    most = Math.max(most, running);
  }
  return { lines, most };
}

const prefillOptions = { prefillMinElements: 50, prefillChunkElements: 10, prefillConcurrency: 2 };

test('a large new set is declared, loaded in chunks a few at a time, then the full transaction runs', async () => {
  writeFileSync(prefillLog, '');
  const driver = new NftDriver(slowFake, prefillOptions);
  try {
    const stats = await driver.fullSync(() => largeState());
    assert.equal(stats.prefillChunks, 6);
    const { lines, most } = readPrefillLog();
    assert.equal(lines[0], 'declarations');
    assert.equal(lines.at(-1), 'full');
    assert.equal(lines.filter((l) => l === 'start').length, 6);
    assert.equal(most, 2, 'two chunks at a time, never more');
  } finally {
    await driver.close();
  }
});

test('a refused chunk fails the full sync once the chunks already started have ended; no rule is blamed', async () => {
  writeFileSync(prefillLog, '');
  const driver = new NftDriver(slowFake, prefillOptions);
  try {
    // Element 15: the second chunk, refused while the first still loads.
    const err = await driver
      .fullSync(() => largeState(15))
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    assert.ok(err instanceof NftError, String(err));
    assert.match(
      err.message,
      /^loading set peers ahead of the full sync, chunk 2 of 6: nft -f refused the transaction/,
    );
    assert.deepEqual(blamedRules(err, true), []);
    const { lines } = readPrefillLog();
    assert.equal(lines[0], 'declarations');
    assert.equal(lines.filter((l) => l === 'start').length, 2, 'no chunk started after the refusal');
    assert.equal(lines.filter((l) => l === 'end').length, 2, 'the first chunk (0.3 s) had ended');
    assert.ok(!lines.includes('full'));
    assert.equal(driver.inSync, false);
  } finally {
    await driver.close();
  }
});

test('a rule refused in the full transaction after a prefill is blamed by its line in that transaction', async () => {
  writeFileSync(prefillLog, '');
  const driver = new NftDriver(slowFake, prefillOptions);
  try {
    const state = largeState();
    state.chains.set('prof-y', { rules: ['tcp dport 80 return', 'meta l4proto 6 icmp type 8 return'] });
    const err = await driver
      .fullSync(() => state)
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    assert.ok(err instanceof NftError, String(err));
    assert.match(err.message, /^nft -f refused the transaction/);
    assert.deepEqual(blamedRules(err, true), [
      {
        chain: 'prof-y',
        index: 1,
        rule: 'meta l4proto 6 icmp type 8 return',
        reason: 'conflicting protocols specified: tcp vs. icmp',
      },
    ]);
    const { lines } = readPrefillLog();
    assert.equal(lines.filter((l) => l === 'start').length, 6, 'the chunks ran first');
  } finally {
    await driver.close();
  }
});

test('a full sync that fails before it can use a stream waits for its chunks and ends it: nothing lands after', async () => {
  const streamLog = join(dir, 'stream.log');
  const reads = join(dir, 'stream-reads');
  writeFileSync(streamLog, '');
  writeFileSync(reads, '');
  // The first read-back finds no table; the second (the full sync's) fails. Chunks take 0.4 s.
  const fakeStream = join(dir, 'nft-stream');
  writeFileSync(
    fakeStream,
    `#!/bin/sh
case "$1" in
  -i) exec cat > /dev/null ;;
  -t)
    echo read >> ${reads}
    if [ "$(wc -l < ${reads})" -eq 1 ]; then echo 'Error: No such file or directory' >&2; else echo 'Error: Device or resource busy' >&2; fi
    exit 1 ;;
  -f)
    input=$(cat)
    case "$input" in
      *'create set'*) exit 0 ;;
    esac
    echo start >> ${streamLog}
    sleep 0.4
    echo end >> ${streamLog}
    exit 0 ;;
esac
`,
  );
  chmodSync(fakeStream, 0o755);
  const driver = new NftDriver(fakeStream, { streamChunkElements: 10, prefillConcurrency: 2 });
  try {
    const stream = await driver.streamSet('peers', 'type ipv4_addr . mark;');
    assert.ok(stream);
    for (let i = 0; i < 35; i++) stream.add(`10.0.0.${i} . 0x00000001`);
    const count = (what: string) =>
      readFileSync(streamLog, 'utf8')
        .split('\n')
        .filter((l) => l === what).length;
    await assert.rejects(
      driver.fullSync(() => largeState()),
      /Device or resource busy/,
    );
    assert.equal(count('start'), 2, 'the two chunks running; the rest never sent');
    assert.equal(count('end'), 2, 'both ended before the sync failed');
    // The calculation, not told yet, goes on adding: nothing more goes out.
    for (let i = 35; i < 60; i++) stream.add(`10.0.0.${i} . 0x00000001`);
    await new Promise((r) => setTimeout(r, 600));
    assert.equal(count('start'), 2);
  } finally {
    await driver.close();
  }
});

test('a full sync that fails after one that succeeded leaves the driver out of sync until the next one succeeds', async () => {
  writeFileSync(prefillLog, '');
  const driver = new NftDriver(slowFake, prefillOptions);
  try {
    await driver.fullSync(() => largeState());
    assert.equal(driver.inSync, true);
    await assert.rejects(
      driver.fullSync(() => largeState(15)),
      NftError,
    );
    assert.equal(driver.inSync, false, 'what is wanted now may not be in the kernel');
    await assert.rejects(driver.apply(largeState(), emptyChanges()), /a delta needs a full sync first/);
    await driver.fullSync(() => largeState());
    assert.equal(driver.inSync, true);
  } finally {
    await driver.close();
  }
});
