import { type BackoffPolicy, RetryBackoff } from '../core/kube/backoff.js';
import { isStatus, type KubeRestClient } from '../core/kube/rest-client.js';
import { SerialWriter } from '../core/kube/serial-writer.js';
import type { Logger } from '../core/log/logger.js';
import type { RefusedObject } from './cluster-connection.js';
import type { KindCounts } from './mesh-cache.js';
import type { ClusterStatus } from './mesh-types.js';
import { rccPath } from './rcc-spec.js';
import { buildRccStatus, type RccStatus, sameRccStatus } from './rcc-status.js';

export interface RccStatusWriterOptions {
  readonly name: string;
  readonly client: KubeRestClient;
  readonly log: Logger;
  /** What to write: the cluster's status and counts as the cache holds them now (undefined: nothing yet). */
  readonly current: () =>
    | { readonly cluster: ClusterStatus; readonly counts: KindCounts; readonly refused?: readonly RefusedObject[] }
    | undefined;
  /** Whether this process writes status now (the leader; see RemoteClusterDeps.mayWriteStatus). */
  readonly mayWrite: () => boolean;
  /** Minimum time between two writes that only change counts. */
  readonly intervalMs?: number;
  /** Waits after a failed write; default 1 s doubling to 60 s, jittered. */
  readonly retryBackoff?: BackoffPolicy;
}

const defaultRetry: BackoffPolicy = { initialMs: 1000, maxMs: 60_000, jitter: 0.2, resetAfterMs: 0 };

/**
 * Writes one RCC's status subresource: state changes at once, count changes at most once per interval, nothing
 * when the status on the server is already what we would write, and only while this process may write.
 */
export class RccStatusWriter {
  /** The status the server holds, as far as we know; undefined: unknown or not one of ours (rewrite it). */
  private written: RccStatus | undefined;
  private generation: number | undefined;
  private timer: NodeJS.Timeout | undefined;
  private lastWriteAt = 0;
  private stopped = false;
  private readonly retry: RetryBackoff;
  /** After a failed write, no write before this time (ms), even for a state change. */
  private retryAt = 0;
  /** One write at a time (see SerialWriter): an older state must never land after a newer one. */
  private readonly writer = new SerialWriter(() => this.writeOnce());

  constructor(private readonly opts: RccStatusWriterOptions) {
    this.retry = new RetryBackoff(opts.retryBackoff ?? defaultRetry);
  }

  /**
   * The RCC as the server has it now. Its status is what the next write is measured against: one written by
   * another replica (a leader before us, or a late write of one) is corrected by our next write if it differs;
   * one that is not a whole status of ours (`statusValid` false) is replaced.
   */
  observe(status: RccStatus | undefined, statusValid: boolean, generation: number | undefined): void {
    this.generation = generation;
    if (!statusValid) {
      this.written = undefined;
      this.schedule(true);
    } else if (status?.state && !sameRccStatus(this.written, status)) {
      this.written = status;
      this.schedule(true);
    }
  }

  /** State changes are written at once (`urgent`); count-only changes at most once per interval. */
  schedule(urgent: boolean): void {
    if (!this.opts.mayWrite() || this.stopped) return;
    const interval = this.opts.intervalMs ?? 1000;
    const soonest = urgent ? 0 : this.lastWriteAt + interval - Date.now();
    const delay = Math.max(0, soonest, this.retryAt - Date.now());
    if (this.timer) {
      if (!urgent) return;
      clearTimeout(this.timer);
    }
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.writer.request();
    }, delay);
  }

  /** No write starts after this. */
  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  private async writeOnce(): Promise<void> {
    const now = this.opts.current();
    if (!now || this.stopped || !this.opts.mayWrite()) return;
    const body = buildRccStatus(
      this.written,
      now.cluster,
      now.counts,
      this.generation,
      new Date().toISOString(),
      now.refused,
    );
    if (sameRccStatus(this.written, body)) return;
    this.lastWriteAt = Date.now();
    // A merge patch keeps fields it does not name: clear the optional ones explicitly.
    const patch = {
      status: {
        ...body,
        lastSyncTime: body.lastSyncTime ?? null,
        staleSince: body.staleSince ?? null,
        refusedObjects: body.refusedObjects ?? null,
      },
    };
    try {
      await this.opts.client.mergePatch(`${rccPath}/${encodeURIComponent(this.opts.name)}/status`, patch);
      this.written = body;
      this.retry.reset();
      this.retryAt = 0;
    } catch (err) {
      if (isStatus(err, 404)) return;
      const wait = this.retry.next();
      this.retryAt = Date.now() + wait;
      this.opts.log.warn({ err: String(err), retryInMs: wait }, 'could not write the RCC status; retrying');
      if (this.stopped) return;
      clearTimeout(this.timer);
      this.timer = setTimeout(() => {
        this.timer = undefined;
        void this.writer.request();
      }, wait);
    }
  }
}
