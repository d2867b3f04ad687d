// A long-lived `nft -i` process for small transactions. Starting `nft` costs far more than a one-element change
// (forking the agent, loading nft and its libraries, reading the kernel's table declarations: ~20 ms here against
// ~0.5 ms for the change itself), so deltas go to one process that stays up between flushes.
//
// The protocol, as nft 1.0.6 offers it: `nft -i` reads one line at a time and runs each line as one transaction
// (all its `;`-separated commands commit together or not at all); it prints nothing on success and errors on
// stderr. It has no "done" reply, so every transaction line is followed by a marker line that is a syntax error
// by design (`fedmesh-sync-N`): nft echoes it in its error message once the line before it has been handled, so
// everything on stderr before the marker's error belongs to the transaction. Interactive nft also reads its input
// one byte per system call (about 1 µs a byte), so large transactions are cheaper through `nft -f` (the driver
// chooses by size).
//
// A transaction line must reach nft whole or not at all, even if the agent dies while writing it: nft runs a last line
// that ends without a newline, so a line cut after a `;` would commit its first commands (a chain flushed, not yet
// refilled). It is written in one write() to an empty socket buffer (each waits for the answer to the one before),
// and it is kept below what one buffer of a Unix socket takes at its smallest setting (about 2.2 KiB, where the
// default is ~100 KiB), so the kernel never takes only part of it.

import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';

export class NftSessionError extends Error {
  constructor(
    message: string,
    /** What nft printed about the transaction (first few KiB): its own error message. */
    readonly stderr: string,
    /** refused: nft answered that the transaction is wrong; broken: no answer (the process failed or hung). */
    readonly kind: 'refused' | 'broken',
  ) {
    super(message);
    this.name = 'NftSessionError';
  }
}

export interface NftSessionOptions {
  /** The nft binary. */
  readonly nft?: string;
  /** A transaction not answered in this time kills the process (its outcome is unknown: the caller resyncs). */
  readonly timeoutMs?: number;
  /**
   * Interactive nft keeps every line in its history, in memory: after this many bytes written the process is
   * replaced by a fresh one (between transactions).
   */
  readonly recycleAfterBytes?: number;
}

const MARKER_PREFIX = 'fedmesh-sync-';
/** The longest transaction line (its marker line included) the session writes: see the top of this file. */
export const SESSION_LINE_MAX_BYTES = 2048;
/** How long a process killed for not answering gets to exit before the transaction is given up anyway. */
const EXIT_WAIT_MS = 5_000;
/** How much of a refused transaction's message is kept (nft echoes the whole failing line, which may be long). */
const MAX_ERROR_BYTES = 4096;

interface Pending {
  readonly marker: string;
  readonly resolve: () => void;
  readonly reject: (err: Error) => void;
  readonly timer: NodeJS.Timeout;
}

export class NftSession {
  private child: ChildProcessWithoutNullStreams | undefined;
  private pending: Pending | undefined;
  /** stderr since the current transaction was written: the head (kept for the message) and a tail to find the marker. */
  private head = '';
  private tail = '';
  private seq = 0;
  private written = 0;
  /** Transactions run one after another: each waits for the one before. */
  private queue: Promise<void> = Promise.resolve();
  private readonly nft: string;
  private readonly timeoutMs: number;
  private readonly recycleAfterBytes: number;

  constructor(opts: NftSessionOptions = {}) {
    this.nft = opts.nft ?? 'nft';
    this.timeoutMs = opts.timeoutMs ?? 10_000;
    this.recycleAfterBytes = opts.recycleAfterBytes ?? 64 * 1024 * 1024;
  }

  /** The process id of the nft process, while one runs (for tests and diagnostics). */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  /**
   * Runs `commands` (single-line nft commands, as the renderer writes them) as one transaction. Resolves once nft
   * committed it; rejects with nft's message when it was refused (nothing of it applied), and when the process
   * failed or timed out (outcome unknown: resync from the kernel's state).
   */
  run(commands: readonly string[]): Promise<void> {
    const line = toLine(commands);
    const bytes = lineBytes(line);
    if (bytes > SESSION_LINE_MAX_BYTES) {
      return Promise.reject(
        new Error(`a session transaction holds at most ${SESSION_LINE_MAX_BYTES} bytes, not ${bytes}: use nft -f`),
      );
    }
    const result = this.queue.then(() => this.runNow(line));
    this.queue = result.catch(() => {});
    return result;
  }

  /** Ends the process (it exits when its input closes). */
  async close(): Promise<void> {
    await this.queue;
    const child = this.child;
    this.child = undefined;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((r) => child.once('close', () => r()));
    child.stdin.end();
    const timer = setTimeout(() => child.kill('SIGKILL'), 2_000);
    await exited;
    clearTimeout(timer);
  }

  private runNow(line: string): Promise<void> {
    if (this.child && this.written > this.recycleAfterBytes) {
      const old = this.child;
      this.child = undefined;
      old.stdin.end();
    }
    const child = this.child ?? this.start();
    const marker = `${MARKER_PREFIX}${++this.seq}`;
    this.head = '';
    this.tail = '';
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        // Rejected only once the process is gone: a transaction still pending in the kernel (nft waiting for the
        // commit lock another tool holds) must not land after the full sync that follows the rejection.
        const error = new NftSessionError(
          `nft did not answer a transaction within ${this.timeoutMs} ms`,
          this.head,
          'broken',
        );
        if (this.child === child) this.child = undefined;
        const gone = child.exitCode !== null || child.signalCode !== null;
        const giveUp = setTimeout(() => this.fail(error), gone ? 0 : EXIT_WAIT_MS);
        child.once('exit', () => {
          clearTimeout(giveUp);
          this.fail(error);
        });
        child.kill('SIGKILL');
      }, this.timeoutMs);
      this.pending = { marker, resolve, reject, timer };
      const text = `${line}\n${marker}\n`;
      this.written += text.length;
      child.stdin.write(text);
    });
  }

  private start(): ChildProcessWithoutNullStreams {
    // HOME points nowhere writable: interactive nft writes its whole history (every transaction) to
    // $HOME/.nft.history when it exits, and its line editor reads $HOME/.editrc.
    const child = spawn(this.nft, ['-i'], { stdio: 'pipe', env: { ...process.env, HOME: '/dev/null' } });
    this.child = child;
    this.written = 0;
    child.stdout.resume(); // nothing is expected there; never let a full pipe stall nft
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => this.onStderr(chunk));
    // Pipe errors end the process or come with its end: reported through 'exit', never thrown.
    for (const stream of [child.stdin, child.stdout, child.stderr]) stream.on('error', () => {});
    child.on('error', (err) => this.processGone(child, `nft could not be started: ${err.message}`));
    child.on('exit', (code, signal) =>
      this.processGone(child, `nft exited (${signal ?? `code ${code}`}) during a transaction`),
    );
    return child;
  }

  private onStderr(chunk: string): void {
    const p = this.pending;
    if (!p) return;
    if (this.head.length < MAX_ERROR_BYTES) this.head += chunk.slice(0, MAX_ERROR_BYTES - this.head.length);
    this.tail = (this.tail + chunk).slice(-(MAX_ERROR_BYTES + 2 * p.marker.length + 8));
    const at = this.tail.indexOf(`\n${p.marker}\n`);
    // Done once the caret line under the echoed marker is in too: its bytes must not open the next answer.
    if (at === -1 || this.tail.indexOf('\n', at + p.marker.length + 2) === -1) return;
    // The marker's own error reads "Error: <message>\n<marker>\n<carets>"; what nft printed before it is the
    // transaction's (when it printed more than the head holds, the transaction certainly failed).
    const markerAt = this.head.indexOf(`\n${p.marker}\n`);
    const errorAt = markerAt === -1 ? -1 : this.head.lastIndexOf('Error:', markerAt);
    const before = (markerAt === -1 ? this.head : this.head.slice(0, errorAt === -1 ? markerAt : errorAt)).trim();
    this.settle();
    if (before === '') p.resolve();
    else p.reject(new NftSessionError(`nft refused the transaction: ${firstLines(before)}`, before, 'refused'));
  }

  private processGone(child: ChildProcessWithoutNullStreams, message: string): void {
    if (this.child !== child) return; // a replaced process: its end concerns no transaction
    this.child = undefined;
    this.fail(new NftSessionError(message, this.head, 'broken'));
  }

  private fail(err: Error): void {
    const p = this.pending;
    if (!p) return;
    this.settle();
    p.reject(err);
  }

  private settle(): void {
    if (this.pending) clearTimeout(this.pending.timer);
    this.pending = undefined;
  }
}

/** Bytes written for a transaction line: the line, its marker line (a sequence number up to 2^53) and newlines. */
function lineBytes(line: string): number {
  return Buffer.byteLength(line) + MARKER_PREFIX.length + 16 + 2;
}

/** Whether these commands fit in one session transaction (else they go through `nft -f`). */
export function fitsSession(commands: readonly string[]): boolean {
  let bytes = 0;
  for (const c of commands) bytes += Buffer.byteLength(c) + 2;
  return lineBytes('') + bytes <= SESSION_LINE_MAX_BYTES;
}

/**
 * One line holding every command: nft -i runs a line as one transaction. The renderer writes one command per line;
 * none may hold a newline, end in a backslash (nft would read on to the next line) or hold a `#` (nft would take
 * the rest of the line, every later command included, for a comment).
 */
export function toLine(commands: readonly string[]): string {
  for (const c of commands) {
    if (c.includes('\n') || c.endsWith('\\') || c.includes('#')) {
      throw new Error(`not a single-line nft command: ${c.slice(0, 80)}`);
    }
  }
  return commands.join('; ');
}

function firstLines(text: string): string {
  return text.split('\n').slice(0, 3).join(' | ').slice(0, 500);
}
