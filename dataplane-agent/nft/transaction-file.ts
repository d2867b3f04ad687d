// How a `nft -f` transaction reaches nft: written in full to a file first, and only then handed to nft as its stdin.
//
// nft reads its input to the end and commits what it read. Through a pipe, a transaction the agent was still writing
// when it died (killed, out of memory, a crash) ends where the writing stopped, and when that is the end of a line,
// nft commits the prefix: a full sync flushes every chain first, so a prefix can hold the flushes and not yet the
// rules, and every endpoint of the node would be open until the agent is back. (In a pod the agent is the container's
// first process, and its end kills nft with it; run any other way, nothing does.) Written to a file first, the text is
// complete before nft exists. The file is unlinked as soon as it is created: whatever happens, none is left behind.

import { open, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { runTool, type ToolResult } from '../exec.js';

let sequence = 0;

/** The name of a transaction's file: this process's and numbered, so that two agents sharing the directory never meet. */
function transactionPath(dir: string): string {
  return join(dir, `fedmesh-nft-${process.pid}-${++sequence}.txn`);
}

/** Runs `nft -f -` with `text` as its whole input; `dir` must be writable (a tmpfs keeps it in memory). */
export async function runNftTransaction(nft: string, text: string, dir: string): Promise<ToolResult> {
  const path = transactionPath(dir);
  // 'wx+': created here (never an existing file, or a link someone placed under that name), and readable by nft
  // through the same descriptor; 0600: the ruleset is ours.
  const file = await open(path, 'wx+', 0o600);
  try {
    await unlink(path);
    const bytes = Buffer.from(text);
    // Positional writes: the descriptor's own offset stays at 0, where nft starts reading.
    for (let at = 0; at < bytes.length; ) {
      const { bytesWritten } = await file.write(bytes, at, bytes.length - at, at);
      at += bytesWritten;
    }
    return await runTool(nft, ['-f', '-'], { fd: file.fd });
  } finally {
    await file.close();
  }
}

/**
 * Checks that transactions can be written to `dir`, so that a start fails with a clear message rather than every
 * full sync later.
 */
export async function checkTransactionDir(dir: string): Promise<void> {
  const path = transactionPath(dir);
  try {
    const file = await open(path, 'wx', 0o600);
    await file.close();
    await unlink(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'error';
    throw new Error(
      `cannot write nft transactions to ${dir} (${code}): the agent writes each full transaction to a file there before nft reads it; give it a writable directory (a tmpfs such as an emptyDir with medium Memory) with --nft-transaction-dir`,
    );
  }
}
