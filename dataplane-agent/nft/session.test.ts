// The session's protocol against stand-ins for `nft -i` (shell scripts): how it reads answers, times out and
// survives the process. test/nft-kernel.test.ts runs it against the real nft and kernel.
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { fitsSession, NftSession, NftSessionError, SESSION_LINE_MAX_BYTES, toLine } from './session.js';

const dir = mkdtempSync(join(tmpdir(), 'fedmesh-nft-session-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function script(name: string, body: string): string {
  const path = join(dir, name);
  writeFileSync(path, `#!/bin/sh\n${body}\n`);
  chmodSync(path, 0o755);
  return path;
}

// Answers as nft 1.0.6 does: nothing for a good line, an error echoing the line for one holding "bad", and the
// syntax error echoing the line for anything that is not a command (the marker), its caret line in a later write
// (as a pipe may deliver it).
const fakeNft = script(
  'fake-nft',
  `while IFS= read -r line; do
  case "$line" in
    fedmesh-sync-*) printf 'Error: syntax error, unexpected newline, expecting string\\n%s\\n' "$line" >&2; sleep 0.02; printf '      ^\\n' >&2 ;;
    *bad*) printf 'Error: Could not process rule: No such file or directory\\n%s\\n    ^^^\\n' "$line" >&2 ;;
    *huge*) i=0; while [ $i -lt 300 ]; do printf 'Error: something long and repeated %s\\n' $i >&2; i=$((i+1)); done ;;
  esac
done`,
);

test('commands become one line, and a line that nft would read differently is refused', () => {
  assert.equal(
    toLine(['add element inet fedmesh peers { 10.0.0.1 . 0x1 }', 'flush chain inet fedmesh x']),
    'add element inet fedmesh peers { 10.0.0.1 . 0x1 }; flush chain inet fedmesh x',
  );
  assert.throws(() => toLine(['add rule a\nflush ruleset']), /not a single-line nft command/);
  assert.throws(() => toLine(['add rule a \\']), /not a single-line nft command/);
  assert.throws(() => toLine(['add rule a # note', 'add rule b']), /not a single-line nft command/);
});

test('an answered transaction resolves; a refused one rejects with what nft said, and the session goes on', async () => {
  const s = new NftSession({ nft: fakeNft });
  try {
    await s.run(['add element inet fedmesh peers { 10.0.0.1 . 0x1 }']);
    const pid = s.pid;
    await assert.rejects(
      s.run(['add element inet fedmesh peers { 10.0.0.2 . 0x1 }', 'add element inet fedmesh bad { 1 }']),
      (err: unknown) =>
        err instanceof NftSessionError &&
        /nft refused the transaction: Error: Could not process rule: No such file or directory/.test(err.message) &&
        err.stderr.includes('add element inet fedmesh bad { 1 }'),
    );
    await s.run(['add element inet fedmesh peers { 10.0.0.3 . 0x1 }']);
    assert.equal(s.pid, pid, 'one process for all three transactions');
  } finally {
    await s.close();
  }
});

test('a long error is kept to its first KiBs and still read as a refusal', async () => {
  const s = new NftSession({ nft: fakeNft });
  try {
    await assert.rejects(s.run(['huge']), (err: unknown) => {
      assert.ok(err instanceof NftSessionError);
      assert.ok(err.stderr.length <= 4096, `kept ${err.stderr.length} bytes`);
      assert.match(err.stderr, /^Error: something long and repeated 0/);
      return true;
    });
    await s.run(['add table inet fedmesh']); // the marker after the long output was found: in step again
  } finally {
    await s.close();
  }
});

test('transactions queue: each waits for the answer to the one before', async () => {
  const s = new NftSession({ nft: fakeNft });
  try {
    const results = await Promise.allSettled([s.run(['one']), s.run(['two bad']), s.run(['three'])]);
    assert.deepEqual(
      results.map((r) => r.status),
      ['fulfilled', 'rejected', 'fulfilled'],
    );
  } finally {
    await s.close();
  }
});

/** A stand-in that runs `first` the first time it is started, then behaves as the fake nft. */
function firstRunThenFake(name: string, first: string): string {
  const flag = join(dir, `${name}.flag`);
  return script(name, `if [ ! -e ${flag} ]; then : > ${flag}; ${first}; fi\nexec ${fakeNft}`);
}

test('a process that never answers is killed after the timeout, and the next transaction gets a new one', async () => {
  const s = new NftSession({ nft: firstRunThenFake('silent-once', 'exec cat > /dev/null'), timeoutMs: 300 });
  try {
    const started = performance.now();
    await assert.rejects(s.run(['add table inet fedmesh']), /did not answer a transaction within 300 ms/);
    assert.ok(performance.now() - started < 2_000);
    assert.equal(s.pid, undefined, 'the silent process is gone');
    await s.run(['add table inet fedmesh']);
  } finally {
    await s.close();
  }
});

test('a timed-out transaction is given up only once its killed process is gone (it cannot land after a resync)', async () => {
  const s = new NftSession({ nft: firstRunThenFake('silent-then-dead', 'exec cat > /dev/null'), timeoutMs: 300 });
  try {
    const running = s.run(['add table inet fedmesh']);
    running.catch(() => {});
    await new Promise((r) => setImmediate(r)); // the process starts once the queue reaches the transaction
    const pid = s.pid;
    assert.ok(pid !== undefined);
    await assert.rejects(running, /did not answer/);
    assert.throws(() => process.kill(pid, 0), /ESRCH/, 'the process had exited when the transaction was rejected');
  } finally {
    await s.close();
  }
});

test('a transaction line longer than one socket buffer takes at its smallest is never written to the session', async () => {
  const element = 'add element inet fedmesh peers { 10.0.0.1 . 0x00000001 }';
  const fits = Array.from({ length: 20 }, () => element);
  const tooLong = Array.from({ length: 40 }, () => element);
  assert.equal(fitsSession(fits), true);
  assert.equal(fitsSession(tooLong), false);
  assert.ok(toLine(tooLong).length < 4096, 'the old limit (8 KiB) would have let it through');
  const s = new NftSession({ nft: fakeNft });
  try {
    await assert.rejects(s.run(tooLong), new RegExp(`holds at most ${SESSION_LINE_MAX_BYTES} bytes`));
    await s.run(fits);
  } finally {
    await s.close();
  }
});

test('a process that exits mid-transaction rejects it; the session starts a new process for the next one', async () => {
  const s = new NftSession({ nft: firstRunThenFake('crash-once', 'read -r line; exit 3') });
  try {
    await assert.rejects(s.run(['add table inet fedmesh']), /nft exited \(code 3\) during a transaction/);
    await s.run(['add table inet fedmesh']);
  } finally {
    await s.close();
  }
});

test('a binary that cannot start rejects the transaction with the reason', async () => {
  const s = new NftSession({ nft: join(dir, 'no-such-nft') });
  await assert.rejects(s.run(['add table inet fedmesh']), /nft could not be started: .*ENOENT/);
  await s.close();
});

test('after the byte budget the process is replaced between transactions (its history stays bounded)', async () => {
  const s = new NftSession({ nft: fakeNft, recycleAfterBytes: 100 });
  try {
    await s.run(['add element inet fedmesh peers { 10.0.0.1 . 0x1 }']);
    const first = s.pid;
    await s.run(['add element inet fedmesh peers { 10.0.0.2 . 0x1 }, 10.0.0.3 . 0x1 }']);
    await s.run(['add element inet fedmesh peers { 10.0.0.4 . 0x1 }']);
    assert.notEqual(s.pid, first);
  } finally {
    await s.close();
  }
});
