// How a `nft -f` transaction reaches nft: written in full to a file first, and only then handed to nft as its stdin.
//
// nft reads its input to the end and commits what it read. Through a pipe, a transaction the agent was still writing
// when it died (killed, out of memory, a crash) ends where the writing stopped, and when that is the end of a line,
// nft commits the prefix: a full sync flushes every chain first, so a prefix can hold the flushes and not yet the
// rules, and every endpoint of the node would be open until the agent is back. (In a pod the agent is the container's
// first process, and its end kills nft with it; run any other way, nothing does.) Written to a file first, the text is
// complete before nft exists. The file is unlinked as soon as it is created, before anything is written to it: an
// agent killed in that instant leaves an empty file, under a random name that nothing will ever ask for again.

import { randomBytes } from 'node:crypto';
import { closeSync, openSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { runTool, type ToolResult } from '../exec.js';

/** Names tried before giving up; any collision at all means someone is placing files under our names. */
const MAX_NAME_TRIES = 8;

/**
 * Creates and unlinks a new file in `dir`, open for reading and writing; returns its descriptor. The name is
 * random: a process id repeats (the agent is process 1 of every container it runs in) and a counter restarts, and
 * a name someone could guess they could also take first. Synchronous, as is the write that follows: a caller inside
 * a long synchronous computation (element-stream.ts) gets nft started before it returns.
 */
function anonymousFile(dir: string): number {
  for (let attempt = 1; ; attempt++) {
    const path = join(dir, `fedmesh-nft-${randomBytes(12).toString('hex')}.txn`);
    let fd: number;
    try {
      // 'wx+': created here (never an existing file, or a link placed under that name), and readable by nft through
      // the same descriptor; 0600: the ruleset is ours.
      fd = openSync(path, 'wx+', 0o600);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST' && attempt < MAX_NAME_TRIES) continue;
      throw err;
    }
    try {
      unlinkSync(path);
    } catch (err) {
      closeSync(fd);
      throw err;
    }
    return fd;
  }
}

/**
 * Writes `text` to a new anonymous file in `dir` and starts `nft -f -` on it before returning, with no await; only
 * nft's answer is awaited. `dir` must be writable (a tmpfs keeps it in memory).
 */
export function startNftTransaction(
  nft: string,
  text: string,
  dir: string,
  opts: { readonly niceness?: number } = {},
): Promise<ToolResult> {
  let fd: number;
  try {
    fd = anonymousFile(dir);
  } catch (err) {
    return Promise.reject(err);
  }
  try {
    const bytes = Buffer.from(text);
    // Positional writes: the descriptor's own offset stays at 0, where nft starts reading.
    for (let at = 0; at < bytes.length; ) at += writeSync(fd, bytes, at, bytes.length - at, at);
    // runTool starts nft at once (its promise's executor spawns it); nft holds its own copy of the descriptor.
    return runTool(nft, ['-f', '-'], { fd }, opts);
  } catch (err) {
    return Promise.reject(err);
  } finally {
    closeSync(fd);
  }
}

/** Runs `nft -f -` with `text` as its whole input (startNftTransaction, awaited). */
export async function runNftTransaction(nft: string, text: string, dir: string): Promise<ToolResult> {
  return startNftTransaction(nft, text, dir);
}

/**
 * Checks that transactions can be written to `dir`, so that a start fails with a clear message rather than every
 * full sync later.
 */
export async function checkTransactionDir(dir: string): Promise<void> {
  try {
    const fd = anonymousFile(dir);
    try {
      writeSync(fd, 'probe', 0);
    } finally {
      closeSync(fd);
    }
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'error';
    throw new Error(
      `cannot write nft transactions to ${dir} (${code}): the agent writes each full transaction to a file there before nft reads it; give it a writable directory (a tmpfs such as an emptyDir with medium Memory) with --nft-transaction-dir`,
    );
  }
}
