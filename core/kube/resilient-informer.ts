import { type BackoffPolicy, RetryBackoff } from './backoff.js';
import type { Gate } from './gate.js';
import { KubeApiError, type KubeRestClient, type WatchEvent } from './rest-client.js';
import { checkListPage } from './watch-event.js';

/**
 * List+watch of one collection that never gives up, and never hammers: every failed list or watch (any non-2xx
 * answer, a network error, a bad line, a consumer that throws, a watch closed at once) waits a capped, jittered
 * backoff as client-go's reflector does; a 429 waits at least its Retry-After; a 410 (Expired) relists at once;
 * a failed watch is retried from the last version seen (one request, not a list and a watch); a silent stream is
 * cut by a watchdog. The informer keeps no objects itself: it
 * hands its consumer the converted (slim) items of every full list and every watch event, and the consumer
 * decides what changed. That is how "nothing is deleted before a fresh full list" and "a relist emits only
 * real differences" become properties of the consumer's pure diff, not of this I/O loop.
 */
export type InformerPhase = 'listing' | 'watching' | 'failed' | 'stopped';

export type InformerVerb = 'list' | 'watch';

export interface InformerFailure {
  readonly verb: InformerVerb;
  readonly error: unknown;
}

export interface InformerHandlers<T> {
  /** A full list completed: every current item (after conversion), by key. */
  onList(items: Map<string, T>): void;
  onUpsert(key: string, item: T): void;
  /** The object is gone; or, with `dropped`, it is still there but its conversion dropped it. */
  onDelete(key: string, dropped?: boolean): void;
  /**
   * `listing` before a list; `watching` once a watch is accepted (2xx), so that a refused watch never counts as
   * running; `failed` with what failed, before the wait.
   */
  onPhase(phase: InformerPhase, failure?: InformerFailure): void;
  /** The informer relists at once: its version expired (410), or its owner asked for a restart. */
  onRelist?(cause: 'Expired' | 'Restart'): void;
}

export interface InformerOptions<T> {
  readonly client: KubeRestClient;
  /** Collection path, e.g. `/api/v1/pods`. */
  readonly path: string;
  /** Extra query parameters for list and watch, e.g. a fieldSelector. */
  readonly query?: Readonly<Record<string, string>>;
  /** Keeps only what the consumer needs; undefined drops the object (treated as absent). */
  readonly convert: (raw: KubeObject) => T | undefined;
  readonly handlers: InformerHandlers<T>;
  readonly pageSize?: number;
  /** Retry waits; default client-go's reflector (800 ms doubling to 30 s, jittered). */
  readonly backoff?: BackoffPolicy;
  /** Server-side watch timeout; randomised ±20 % so that many watches do not expire together. */
  readonly watchTimeoutSeconds?: number;
  /** Cut a watch that has been silent this long (the server sends bookmarks; a hung TCP stream sends nothing). */
  readonly idleTimeoutMs?: number;
  /** Shared by the informers of a process to bound how many full lists are fetched and parsed at once. */
  readonly listGate?: Gate;
  /**
   * A full list (every page) taking longer than this fails (ListLimitError), whatever pace the server keeps: a
   * server feeding a byte at a time, or pages without end, would otherwise hold a list gate slot for ever. Default
   * 5 minutes.
   */
  readonly listDeadlineMs?: number;
  /** A list of more objects than this fails (ListLimitError). Default 1,000,000. */
  readonly maxListItems?: number;
}

/** A list that broke one of the informer's bounds: its time, its size, or a server repeating a continue token. */
export class ListLimitError extends Error {
  constructor(
    path: string,
    readonly limit: 'time' | 'items' | 'continue',
    detail: string,
  ) {
    super(`list ${path}: ${detail}`);
    this.name = 'ListLimitError';
  }
}

/** The fields of any Kubernetes object the informer reads itself. */
export interface KubeObject {
  readonly metadata?: { readonly name?: string; readonly namespace?: string; readonly resourceVersion?: string };
  readonly [field: string]: unknown;
}

/**
 * `namespace/name`, or `name` for a cluster-scoped object. A name or namespace that is not a string counts as
 * empty: such an object is refused by its consumer's schema, and its key must still be a string.
 */
export function objectKey(obj: KubeObject): string {
  const m = obj.metadata ?? {};
  const name = typeof m.name === 'string' ? m.name : '';
  return typeof m.namespace === 'string' && m.namespace ? `${m.namespace}/${name}` : name;
}

/** A watch that ended with an ERROR event or a 410: the resource version is gone, relist. */
class ExpiredError extends Error {}

/** A restart asked for by the owner (a probe saw the server go away): relist at once, no backoff. */
class RestartRequested extends Error {}

/** The informer was stopped while it waited (for the list gate, say). */
class Stopped extends Error {}

/** A watch that the server ended with an ERROR event other than 410 (its object should be a Status). */
export class WatchErrorEvent extends Error {
  readonly code: number | undefined;
  constructor(path: string, status: Record<string, unknown>) {
    const code = typeof status.code === 'number' ? status.code : undefined;
    const message = typeof status.message === 'string' ? status.message.slice(0, 500) : 'no message';
    super(`watch ${path}: the server ended it with an error${code === undefined ? '' : ` (${code})`}: ${message}`);
    this.name = 'WatchErrorEvent';
    this.code = code;
  }
}

/** A watch the server accepted and closed at once, with nothing in it (client-go: "very short watch"). */
export class ShortWatchError extends Error {}

/** The longest Retry-After honoured as such; longer ones are capped (a broken proxy must not park us for days). */
const maxRetryAfterMs = 300_000;

/** A watch the server ends sooner than this counts as failed. */
const shortWatchMs = 1000;

/** A 410 this soon after a full list waits before the next list. */
const quietAfterListMs = 30_000;

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    if (signal.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });

export class ResilientInformer<T> {
  private readonly stopController = new AbortController();
  private current: AbortController | undefined;
  private restartPending = false;
  private relistPending = false;
  private readonly retry: RetryBackoff;
  private running: Promise<void> | undefined;
  private syncedOnce = false;
  private resolveSynced: () => void = () => {};
  /** Settles after the first full list; stays pending while the server cannot be listed. */
  readonly synced: Promise<void> = new Promise((r) => {
    this.resolveSynced = r;
  });

  constructor(private readonly opts: InformerOptions<T>) {
    this.retry = new RetryBackoff(opts.backoff);
  }

  get hasSynced(): boolean {
    return this.syncedOnce;
  }

  start(): void {
    this.running ??= this.loop();
  }

  /** Abandons the current request and relists now (after a failed liveness probe, for example). */
  restart(): void {
    this.restartPending = true;
    this.current?.abort(new RestartRequested('restart requested'));
  }

  /**
   * The next attempt lists instead of resuming the watch, without cutting what runs now or skipping a wait:
   * for an owner that dropped this collection's objects (a stale withdrawal) and needs them all back.
   */
  relistNext(): void {
    this.relistPending = true;
  }

  async stop(): Promise<void> {
    this.stopController.abort();
    this.current?.abort(new Stopped('stopped'));
    await this.running;
  }

  private get stopped(): boolean {
    return this.stopController.signal.aborted;
  }

  private async loop(): Promise<void> {
    const h = this.opts.handlers;
    /** The version to resume watching from; undefined: list first. */
    let rv: string | undefined;
    while (!this.stopped) {
      let verb: InformerVerb = 'list';
      try {
        if (rv === undefined || this.relistPending || this.restartPending) {
          this.restartPending = false;
          this.relistPending = false;
          rv = undefined;
          h.onPhase('listing');
          const gate = this.opts.listGate;
          // Stopped while waiting for the gate: do not list any more.
          const listed = gate
            ? await gate.run(() => (this.stopped ? Promise.reject(new Stopped()) : this.list()))
            : await this.list();
          if (this.stopped) break;
          rv = listed;
        }
        verb = 'watch';
        rv = await this.watchOnce(rv);
      } catch (err) {
        if (this.stopped || err instanceof Stopped) break;
        if (err instanceof ExpiredError || this.restartPending || err instanceof RestartRequested) {
          h.onRelist?.(err instanceof ExpiredError ? 'Expired' : 'Restart');
          // A version that expires right after a fresh list (even one a bookmark moved on) is a server that cannot
          // keep one: wait before the next list, as for any failure, or the two would alternate as fast as it answers.
          const recent = Date.now() - this.listedAtMs < quietAfterListMs;
          const wait = err instanceof ExpiredError && (this.lastSeen === this.listedAt || recent);
          rv = undefined;
          if (wait) await sleep(this.retry.next(), this.stopController.signal);
          continue;
        }
        // A failed list leaves nothing to resume from; a failed watch resumes from the last version it saw.
        if (verb === 'list') rv = undefined;
        else rv = this.lastSeen ?? rv;
        h.onPhase('failed', { verb, error: err });
        await sleep(this.retryDelay(err), this.stopController.signal);
      }
    }
    h.onPhase('stopped');
  }

  /** The wait before the next try: the backoff, and at least a 429's (or 503's) Retry-After. */
  private retryDelay(err: unknown): number {
    const backoff = this.retry.next();
    if (err instanceof KubeApiError && err.retryAfterSeconds !== undefined) {
      // Never before the time asked for; a little after it, spread, so that the watches of many clusters and
      // replicas do not all come back at the same instant.
      const asked = Math.min(maxRetryAfterMs, err.retryAfterSeconds * 1000);
      return Math.max(backoff, asked + Math.round(Math.random() * Math.min(1000, asked / 10)));
    }
    return backoff;
  }

  private request(): AbortController {
    const ac = new AbortController();
    this.current = ac;
    return ac;
  }

  private query(extra: Record<string, string>): string {
    const q = new URLSearchParams({ ...this.opts.query, ...extra });
    return `${this.opts.path}?${q.toString()}`;
  }

  /** Lists every page, then hands the complete set over; returns the list's resource version. */
  private async list(): Promise<string> {
    const items = new Map<string, T>();
    let cont = '';
    let rv = '';
    const deadlineMs = this.opts.listDeadlineMs ?? 300_000;
    const maxItems = this.opts.maxListItems ?? 1_000_000;
    const deadline = Date.now() + deadlineMs;
    let restarted = false;
    for (;;) {
      const ac = this.request();
      const path = this.query({ limit: String(this.opts.pageSize ?? 500), ...(cont ? { continue: cont } : {}) });
      let body: unknown;
      try {
        const page = this.opts.client.get<unknown>(path, { signal: ac.signal });
        body = await this.withAbort(ac, page, {
          ms: deadline - Date.now(),
          error: () => new ListLimitError(this.opts.path, 'time', `not complete after ${deadlineMs} ms`),
        });
      } catch (err) {
        // The continue token expired between pages: start over, a full list is the only safe base. Once per list:
        // a server that expires every token fails the list, which waits before the next one.
        if (cont && err instanceof KubeApiError && err.statusCode === 410 && !restarted) {
          restarted = true;
          items.clear();
          cont = '';
          continue;
        }
        throw err;
      }
      const checked = checkListPage(body);
      if ('problem' in checked) throw new Error(`list ${this.opts.path}: ${checked.problem}`);
      for (const raw of checked.page.items ?? []) {
        const obj = raw as KubeObject;
        const item = this.opts.convert(obj);
        if (item !== undefined) items.set(objectKey(obj), item);
      }
      if (items.size > maxItems) {
        throw new ListLimitError(this.opts.path, 'items', `more than ${maxItems} objects; the list is refused`);
      }
      rv = checked.page.metadata?.resourceVersion ?? rv;
      const next = checked.page.metadata?.continue ?? '';
      if (next !== '' && next === cont) {
        throw new ListLimitError(this.opts.path, 'continue', 'the server answered a page with the same continue token');
      }
      cont = next;
      if (!cont) break;
    }
    this.opts.handlers.onList(items);
    this.lastSeen = rv;
    this.listedAt = rv;
    this.listedAtMs = Date.now();
    if (!this.syncedOnce) {
      this.syncedOnce = true;
      this.resolveSynced();
    }
    return rv;
  }

  /** The version of the last list or event handled, where a failed watch resumes. */
  private lastSeen: string | undefined;
  /** The version of the last full list. */
  private listedAt: string | undefined;
  /** When the last full list completed (ms). */
  private listedAtMs = 0;

  /**
   * Rejects as soon as `ac` aborts, whatever the request does; with `timeout`, aborts `ac` with its error when that
   * time has passed.
   */
  private withAbort<R>(
    ac: AbortController,
    p: Promise<R>,
    timeout?: { readonly ms: number; readonly error: () => Error },
  ): Promise<R> {
    return new Promise((resolve, reject) => {
      const onAbort = () => reject(ac.signal.reason ?? new Error('aborted'));
      const timer = timeout && setTimeout(() => ac.abort(timeout.error()), Math.max(0, timeout.ms));
      // Handlers go on `p` first: it may already have failed (a consumer aborted while it was being called).
      p.then(resolve, reject).finally(() => {
        clearTimeout(timer);
        ac.signal.removeEventListener('abort', onAbort);
      });
      if (ac.signal.aborted) onAbort();
      else ac.signal.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** One watch request from `rv` until the server ends it; returns the last resource version seen. */
  private async watchOnce(rv: string): Promise<string> {
    const base = this.opts.watchTimeoutSeconds ?? 300;
    const timeout = Math.round(base * (0.8 + 0.4 * Math.random()));
    const idleMs = this.opts.idleTimeoutMs ?? (timeout + 60) * 1000;
    const ac = this.request();
    let last = rv;
    let expired = false;
    let events = 0;
    let idle: NodeJS.Timeout | undefined;
    // Re-armed on every event: refresh() moves the one timer instead of allocating a new one per event.
    const arm = () => {
      if (idle) idle.refresh();
      else idle = setTimeout(() => ac.abort(new Error(`watch ${this.opts.path} silent for ${idleMs} ms`)), idleMs);
    };
    const h = this.opts.handlers;
    const onEvent = (ev: WatchEvent) => {
      arm();
      events++;
      if (ev.type === 'ERROR') {
        const code = (ev.object as { code?: unknown }).code;
        if (code === 410) expired = true;
        else ac.abort(new WatchErrorEvent(this.opts.path, ev.object));
        return;
      }
      const obj = ev.object as KubeObject;
      const version = obj.metadata?.resourceVersion ?? last;
      if (ev.type !== 'BOOKMARK') {
        const key = objectKey(obj);
        if (ev.type === 'DELETED') h.onDelete(key);
        else {
          const item = this.opts.convert(obj);
          if (item === undefined) h.onDelete(key, true);
          else h.onUpsert(key, item);
        }
      }
      // Only once handled: a consumer that throws gets the same event again after the retry.
      last = version;
      this.lastSeen = version;
    };
    arm();
    const startedAt = Date.now();
    try {
      const path = this.query({
        watch: '1',
        allowWatchBookmarks: 'true',
        resourceVersion: rv,
        timeoutSeconds: String(timeout),
      });
      await this.withAbort(
        ac,
        this.opts.client.watch(path, onEvent, ac.signal, () => h.onPhase('watching')),
      );
    } catch (err) {
      if (err instanceof KubeApiError && err.statusCode === 410) throw new ExpiredError('expired');
      throw err;
    } finally {
      clearTimeout(idle);
    }
    if (ac.signal.aborted) throw ac.signal.reason ?? new Error('watch aborted');
    if (expired) throw new ExpiredError('expired');
    // However many events it carried: a server that ends every watch at once would otherwise be watched again
    // as fast as it answers.
    if (Date.now() - startedAt < shortWatchMs) {
      throw new ShortWatchError(
        `watch ${this.opts.path}: the server closed it within ${shortWatchMs} ms of opening it (${events} events)`,
      );
    }
    return last;
  }
}
