// A transaction reaches nft whole or not at all, even when the agent dies while writing it; nothing is left behind.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { checkTransactionDir, runNftTransaction } from './transaction-file.js';

const dir = mkdtempSync(join(tmpdir(), 'fedmesh-nft-txn-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitFor(path: string, ms: number): Promise<boolean> {
  for (const end = Date.now() + ms; Date.now() < end; await sleep(10)) if (existsSync(path)) return true;
  return existsSync(path);
}

/** A stand-in for nft: notes that it started, waits, then counts the bytes of its input. */
function fakeNft(name: string, waitSeconds: number): { nft: string; started: string; received: string } {
  const base = join(dir, name);
  mkdirSync(base);
  const started = join(base, 'started');
  const received = join(base, 'received');
  const nft = join(base, 'nft');
  writeFileSync(
    nft,
    `#!/bin/sh\n: > ${started}\nsleep ${waitSeconds}\nn=$(cat | wc -c)\necho "$n" > ${received}.part\nmv ${received}.part ${received}\n`,
  );
  chmodSync(nft, 0o755);
  return { nft, started, received };
}

test('nft reads the whole text on its stdin, and no transaction file stays in the directory', async () => {
  const work = join(dir, 'plain');
  mkdirSync(work);
  const nft = join(work, 'nft');
  writeFileSync(nft, `#!/bin/sh\n[ "$1 $2" = "-f -" ] || exit 2\ncat > ${work}/got\necho done\n`);
  chmodSync(nft, 0o755);
  const text = `add table inet fedmesh\n${'add element inet fedmesh peers { 10.0.0.1 . 0x00000001 }\n'.repeat(5000)}`;
  const scratch = join(work, 'scratch');
  mkdirSync(scratch);
  const r = await runNftTransaction(nft, text, scratch);
  assert.equal(r.code, 0);
  assert.equal(r.stdout, 'done\n');
  assert.equal(readFileSync(join(work, 'got'), 'utf8'), text);
  assert.deepEqual(readdirSync(scratch), []);
});

test('an agent killed while it writes a large transaction hands nft all of it or none of it', async () => {
  // 8 MiB: far more than a pipe or socket buffer holds, so writing it through one would still be under way when the
  // writer is killed, and nft would then read a prefix.
  const line = 'add element inet fedmesh peers { 10.1.2.3 . 0x00000001 }\n';
  const count = 150_000;
  const { nft, started, received } = fakeNft('killed', 0.3);
  const module = fileURLToPath(new URL('./transaction-file.js', import.meta.url));
  const writer = spawn(
    process.execPath,
    [
      '--input-type=module',
      '-e',
      `const { runNftTransaction } = await import(${JSON.stringify(module)});
       await runNftTransaction(${JSON.stringify(nft)}, ${JSON.stringify(line)}.repeat(${count}), ${JSON.stringify(dir)});`,
    ],
    { stdio: 'ignore' },
  );
  const exited = new Promise<void>((r) => writer.once('exit', () => r()));
  try {
    // The writer dies the moment nft has started, as an agent might at any point.
    assert.ok(await waitFor(started, 20_000), 'the stand-in nft never started');
    writer.kill('SIGKILL');
    await exited;
    assert.ok(await waitFor(received, 10_000), 'the stand-in nft never finished reading');
    assert.equal(Number(readFileSync(received, 'utf8').trim()), Buffer.byteLength(line) * count);
    assert.deepEqual(
      readdirSync(dir).filter((n) => n.endsWith('.txn')),
      [],
      'no transaction file is left behind',
    );
  } finally {
    writer.kill('SIGKILL');
  }
});

test('files left under other names, even ones made to collide with a process id and a count, block nothing', async () => {
  const work = join(dir, 'crowded');
  mkdirSync(work);
  // What a killed agent or another user could leave: names from the process id and a counter (process 1 in every
  // container), and the pattern itself.
  for (let n = 1; n <= 50; n++) writeFileSync(join(work, `fedmesh-nft-${process.pid}-${n}.txn`), '');
  writeFileSync(join(work, 'fedmesh-nft-.txn'), '');
  const nft = join(work, 'nft-ok');
  writeFileSync(nft, '#!/bin/sh\ncat > /dev/null\n');
  chmodSync(nft, 0o755);
  const before = readdirSync(work).sort();
  await checkTransactionDir(work);
  for (let i = 0; i < 20; i++) assert.equal((await runNftTransaction(nft, 'add table inet fedmesh\n', work)).code, 0);
  assert.deepEqual(readdirSync(work).sort(), before, 'nothing added, nothing of theirs removed');
});

test('a directory where transactions cannot be written is refused at once, with what to do', async () => {
  await checkTransactionDir(dir);
  assert.deepEqual(
    readdirSync(dir).filter((n) => n.endsWith('.txn')),
    [],
  );
  const file = join(dir, 'a-file');
  writeFileSync(file, '');
  await assert.rejects(
    checkTransactionDir(join(file, 'sub')),
    /cannot write nft transactions to .*a-file\/sub \(ENOTDIR\).*--nft-transaction-dir/,
  );
  await assert.rejects(checkTransactionDir(join(dir, 'missing')), /\(ENOENT\)/);
});
