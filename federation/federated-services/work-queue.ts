// A queue of keys to bring in line, as Kubernetes controllers have: a key marked dirty many times is synced once,
// never twice at the same time, at most `concurrency` at once; a failed sync is retried with backoff (a conflict
// soon: our view is one event behind). Nothing runs while `mayRun` says no (a follower, or before the caches are
// ready); `kick()` when it turns yes.
import type { Registry } from 'prom-client';
import { type BackoffPolicy, backoffDelay } from '../../core/kube/backoff.js';
import { isStatus, type KubeRestClient } from '../../core/kube/rest-client.js';
import type { Logger } from '../../core/log/logger.js';
import type { MeshCacheReader } from '../mesh-cache.js';

/** What a controller of the leader needs: the mesh, the local cluster, and when it may write. */
export interface LeaderControllerOptions {
  readonly cache: MeshCacheReader;
  /** Settles when the mesh cache holds a full list of the local cluster and of every RCC present at start. */
  readonly meshReady: Promise<void>;
  readonly localCluster: string;
  /** The local cluster, as the server's ServiceAccount. */
  readonly client: KubeRestClient;
  readonly log: Logger;
  readonly registry?: Registry;
  /** Write only while this returns true (the leader); call the controller's `resume()` when it turns true. */
  readonly mayWrite: () => boolean;
  /** Syncs at once (default 16). */
  readonly concurrency?: number;
  readonly backoff?: BackoffPolicy;
}

export interface WorkQueueOptions {
  readonly sync: (key: string) => Promise<void>;
  readonly mayRun: () => boolean;
  readonly onError: (key: string, attempt: number, retryInMs: number, err: unknown) => void;
  readonly concurrency?: number;
  readonly backoff?: BackoffPolicy;
}

const defaultRetry: BackoffPolicy = { initialMs: 200, maxMs: 30_000, jitter: 0.2 };

export class WorkQueue {
  private readonly dirty = new Set<string>();
  private readonly running = new Set<string>();
  private readonly retries = new Map<string, number>();
  private readonly retryTimers = new Map<string, NodeJS.Timeout>();
  private scheduled = false;
  private stopped = false;
  private idleWaiters: (() => void)[] = [];

  constructor(private readonly opts: WorkQueueOptions) {}

  get depth(): number {
    return this.dirty.size + this.running.size + this.retryTimers.size;
  }

  add(key: string): void {
    if (this.stopped) return;
    this.dirty.add(key);
    this.kick();
  }

  /**
   * Runs what is queued once the current callback is done: a relist's or a watch chunk's many events sync once,
   * and a single change waits behind no other I/O (a microtask, not the next turn of the event loop).
   */
  kick(): void {
    if (this.scheduled || this.stopped) return;
    this.scheduled = true;
    queueMicrotask(() => {
      this.scheduled = false;
      this.drain();
    });
  }

  /** Resolves once nothing is queued, running or waiting for a retry. */
  idle(): Promise<void> {
    if (this.depth === 0) return Promise.resolve();
    return new Promise((r) => this.idleWaiters.push(r));
  }

  stop(): void {
    this.stopped = true;
    for (const t of this.retryTimers.values()) clearTimeout(t);
    this.retryTimers.clear();
  }

  private drain(): void {
    if (this.stopped || !this.opts.mayRun()) return;
    const limit = this.opts.concurrency ?? 16;
    for (const key of this.dirty) {
      if (this.running.size >= limit) break;
      if (this.running.has(key) || this.retryTimers.has(key)) continue;
      this.dirty.delete(key);
      this.running.add(key);
      void this.opts
        .sync(key)
        .then(
          () => this.retries.delete(key),
          (err: unknown) => this.retryLater(key, err),
        )
        .finally(() => {
          this.running.delete(key);
          if (this.dirty.size > 0) this.kick();
          this.notifyIdle();
        });
    }
  }

  private notifyIdle(): void {
    if (this.depth !== 0) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
  }

  private retryLater(key: string, err: unknown): void {
    if (this.stopped) return;
    const attempt = this.retries.get(key) ?? 0;
    this.retries.set(key, attempt + 1);
    const delay = isStatus(err, 409) && attempt < 3 ? 50 : backoffDelay(this.opts.backoff ?? defaultRetry, attempt);
    this.opts.onError(key, attempt, delay, err);
    const t = setTimeout(() => {
      this.retryTimers.delete(key);
      this.add(key);
    }, delay);
    t.unref();
    this.retryTimers.set(key, t);
  }
}
