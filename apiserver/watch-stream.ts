import type { ServerResponse } from 'node:http';

export interface WatchStreamOptions {
  /** Bytes buffered in the process before writing pauses for the client (`drain`). */
  readonly highWaterBytes: number;
  /** How long writing may stay paused with events waiting before the watch is cut. */
  readonly stallTimeoutMs: number;
  /** Events waiting (not yet rendered) beyond which the watch is cut at once. */
  readonly maxQueuedEvents: number;
}

export const defaultWatchStreamOptions: WatchStreamOptions = {
  highWaterBytes: 64 * 1024,
  stallTimeoutMs: 30_000,
  maxQueuedEvents: 50_000,
};

/**
 * The writing side of one watch, with back-pressure: event texts are rendered lazily from queued sources (the
 * initial replay walks a shared snapshot, live batches hold references to store events) and written only while
 * the response buffers less than `highWaterBytes`. A client that stops reading therefore costs a few queued
 * references, not copies of the objects; one that stays stuck for `stallTimeoutMs`, or lets too many events
 * pile up, is cut with `destroy()` as kube-apiserver cuts an unresponsive watcher, and its client re-lists.
 */
export class WatchStream {
  private readonly queue: { texts: Iterator<string>; events: number }[] = [];
  private queuedEvents = 0;
  private stallTimer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(
    private readonly res: ServerResponse,
    private readonly o: WatchStreamOptions,
    private readonly onCut: (why: string) => void,
  ) {
    res.on('drain', () => {
      // The client read something: the stall clock starts again.
      clearTimeout(this.stallTimer);
      this.stallTimer = undefined;
      this.pump();
    });
  }

  /** Queues texts to write; `events` counts what they stand for, against `maxQueuedEvents`. */
  enqueue(texts: Iterator<string>, events: number): void {
    if (this.closed) return;
    this.queue.push({ texts, events });
    this.queuedEvents += events;
    if (this.queuedEvents > this.o.maxQueuedEvents) {
      this.cut(`more than ${this.o.maxQueuedEvents} events waiting for the client`);
      return;
    }
    this.pump();
  }

  /** Stops writing and forgets what is queued (the watch ended). */
  close(): void {
    this.closed = true;
    clearTimeout(this.stallTimer);
    this.queue.length = 0;
    this.queuedEvents = 0;
  }

  private pump(): void {
    if (this.closed) return;
    while (this.res.writableLength < this.o.highWaterBytes) {
      const head = this.queue[0];
      if (!head) break;
      const next = head.texts.next();
      if (next.done) {
        this.queue.shift();
        this.queuedEvents -= head.events;
        continue;
      }
      this.res.write(next.value);
    }
    const blocked = this.queue.length > 0;
    if (!blocked) {
      clearTimeout(this.stallTimer);
      this.stallTimer = undefined;
    } else if (!this.stallTimer) {
      this.stallTimer = setTimeout(
        () => this.cut(`the client read nothing for ${this.o.stallTimeoutMs / 1000} s`),
        this.o.stallTimeoutMs,
      );
    }
  }

  private cut(why: string): void {
    if (this.closed) return;
    this.close();
    this.res.destroy();
    this.onCut(why);
  }
}
