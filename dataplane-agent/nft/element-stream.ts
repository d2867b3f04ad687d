// Elements of one large set loaded into the kernel while the policy calculation still computes them: a node's
// first full sync (after a boot) has 100k remote endpoints to file and 133k `peers` elements to load, and nft needs
// about as long for its share as the calculation for its own. With the set created empty beforehand (no rule can
// reference a set the kernel did not hold, so filling it changes no verdict), chunks of elements go to nft as they
// come, on the other core, and the full sync finds most of them loaded.
//
// The calculation tells every element that comes (add) or goes (remove) while the stream is open, from an empty
// set on. The stream sends each element once and never deletes during the stream: an element removed and added
// again is still there. When the full sync closes it, the rest goes out in chunks, and the elements removed since
// they were sent are deleted in the full transaction, after every chunk has ended. What the stream received is
// checked by count against the state being synced; if they differ, the set is flushed and refilled as always.

import type { ToolResult } from '../exec.js';
import { type ElementSink, table } from './state.js';

/**
 * Starts one `nft -f` transaction before returning (transaction-file.ts startNftTransaction). `beside`: while the
 * calculation runs, at a lower priority, so that nft takes the core the calculation leaves idle rather than half of
 * the calculation's (it is what the full sync waits for).
 */
export type StartTransaction = (text: string, beside: boolean) => Promise<ToolResult>;

export interface ElementStreamOptions {
  /** Elements per chunk transaction. */
  readonly chunkElements: number;
  /** Chunk transactions running at once, at most (a synchronous calculation cannot see one end: it waits after). */
  readonly concurrency: number;
}

/** What the stream holds for the full sync once closed. */
export interface ClosedStream {
  /** Elements the calculation has now, by the stream's count (checked against the state being synced). */
  readonly count: number;
  /** Elements sent and removed since: the full transaction deletes them. */
  readonly removed: readonly string[];
  /** Sends what is left and resolves when every chunk has ended; rejects with the first refusal, after all ended. */
  readonly done: Promise<{ readonly chunks: number }>;
}

export class ElementStream implements ElementSink {
  private buffer: string[] = [];
  private readonly removed = new Set<string>();
  private count = 0;
  private running = 0;
  private chunks = 0;
  private readonly ended: Promise<void>[] = [];
  private failure: unknown;
  private closed = false;
  private aborted = false;
  /** Waiting for a free slot (after the close, when the event loop runs again). */
  private readonly waiting: (() => void)[] = [];

  constructor(
    readonly set: string,
    private readonly start: StartTransaction,
    private readonly opts: ElementStreamOptions,
  ) {}

  add(element: string): void {
    if (this.closed) return;
    this.count++;
    // Removed since it was sent (or queued): it is still there, or will be.
    if (this.removed.size > 0 && this.removed.delete(element)) return;
    this.buffer.push(element);
    if (this.buffer.length >= this.opts.chunkElements && this.running < this.opts.concurrency) this.send();
  }

  remove(element: string): void {
    if (this.closed) return;
    this.count--;
    this.removed.add(element);
  }

  /**
   * Ends the stream without sending what is left, once every chunk started has ended (never rejects): for a full
   * sync that fails before it could use the stream. The set is then refilled by the next full sync, and no chunk of
   * this stream may land after that.
   */
  async abort(): Promise<void> {
    this.closed = true;
    this.aborted = true;
    this.buffer = [];
    await Promise.all(this.ended);
    // drain() may have started chunks while we waited (it checks `aborted` before each): wait for those too.
    await Promise.all(this.ended);
  }

  /** Ends the stream (synchronously: nothing the calculation does afterwards reaches it). */
  close(): ClosedStream {
    this.closed = true;
    const count = this.count;
    const removed = [...this.removed];
    return { count, removed, done: this.drain() };
  }

  private async drain(): Promise<{ chunks: number }> {
    const rest = this.buffer;
    this.buffer = [];
    for (let at = 0; at < rest.length && this.failure === undefined; at += this.opts.chunkElements) {
      if (this.running >= this.opts.concurrency) await new Promise<void>((r) => this.waiting.push(r));
      if (this.failure !== undefined || this.aborted) break;
      this.buffer = rest.slice(at, at + this.opts.chunkElements);
      this.send();
    }
    await Promise.all(this.ended);
    if (this.failure !== undefined) throw this.failure;
    return { chunks: this.chunks };
  }

  private send(): void {
    const elements = this.buffer;
    this.buffer = [];
    this.running++;
    const n = ++this.chunks;
    const text = `add element ${table} ${this.set} { ${elements.join(', ')} }\n`;
    this.ended.push(
      this.start(text, !this.closed).then(
        (r) => {
          if (r.code !== 0 && this.failure === undefined) {
            this.failure = new Error(
              `loading set ${this.set} while it was computed, chunk ${n}: nft -f refused it: ${r.stderr.trim().split('\n').slice(0, 3).join(' | ')}`,
            );
          }
          this.free();
        },
        (err: unknown) => {
          this.failure ??= err;
          this.free();
        },
      ),
    );
  }

  private free(): void {
    this.running--;
    this.waiting.shift()?.();
  }
}
