import { type BackoffPolicy, backoffDelay, defaultBackoff } from './backoff.js';
import type { Gate } from './gate.js';
import { KubeApiError, type KubeRestClient, type WatchEvent } from './rest-client.js';

/**
 * List+watch of one collection that never gives up: a failed list or watch is retried with capped backoff,
 * a 410 (Expired) relists, a silent stream is cut by a watchdog. The informer keeps no objects itself: it
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
  onDelete(key: string): void;
  onPhase(phase: InformerPhase, failure?: InformerFailure): void;
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
  readonly backoff?: BackoffPolicy;
  /** Server-side watch timeout; randomised ±20 % so that many watches do not expire together. */
  readonly watchTimeoutSeconds?: number;
  /** Cut a watch that has been silent this long (the server sends bookmarks; a hung TCP stream sends nothing). */
  readonly idleTimeoutMs?: number;
  /** Shared by the informers of a process to bound how many full lists are fetched and parsed at once. */
  readonly listGate?: Gate;
}

/** The fields of any Kubernetes object the informer reads itself. */
export interface KubeObject {
  readonly metadata?: { readonly name?: string; readonly namespace?: string; readonly resourceVersion?: string };
  readonly [field: string]: unknown;
}

interface ListBody {
  readonly metadata?: { readonly resourceVersion?: string; readonly continue?: string };
  readonly items?: KubeObject[];
}

/** `namespace/name`, or `name` for a cluster-scoped object. */
export function objectKey(obj: KubeObject): string {
  const m = obj.metadata ?? {};
  return m.namespace ? `${m.namespace}/${m.name ?? ''}` : (m.name ?? '');
}

/** A watch that ended with an ERROR event or a 410: the resource version is gone, relist. */
class ExpiredError extends Error {}

/** A restart asked for by the owner (a probe saw the server go away): relist at once, no backoff. */
class RestartRequested extends Error {}

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
  private attempt = 0;
  private running: Promise<void> | undefined;
  private syncedOnce = false;
  private resolveSynced: () => void = () => {};
  /** Settles after the first full list; stays pending while the server cannot be listed. */
  readonly synced: Promise<void> = new Promise((r) => {
    this.resolveSynced = r;
  });

  constructor(private readonly opts: InformerOptions<T>) {}

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

  async stop(): Promise<void> {
    this.stopController.abort();
    this.current?.abort();
    await this.running;
  }

  private get stopped(): boolean {
    return this.stopController.signal.aborted;
  }

  private async loop(): Promise<void> {
    const h = this.opts.handlers;
    while (!this.stopped) {
      let verb: InformerVerb = 'list';
      try {
        this.restartPending = false;
        h.onPhase('listing');
        const gate = this.opts.listGate;
        let rv = gate ? await gate.run(() => this.list()) : await this.list();
        if (this.stopped) break;
        this.attempt = 0;
        verb = 'watch';
        h.onPhase('watching');
        for (;;) {
          rv = await this.watchOnce(rv);
          if (this.stopped) break;
        }
      } catch (err) {
        if (this.stopped) break;
        if (err instanceof ExpiredError) continue;
        if (this.restartPending || err instanceof RestartRequested) continue;
        h.onPhase('failed', { verb, error: err });
        await sleep(backoffDelay(this.opts.backoff ?? defaultBackoff, this.attempt++), this.stopController.signal);
      }
    }
    h.onPhase('stopped');
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
    for (;;) {
      const ac = this.request();
      const path = this.query({ limit: String(this.opts.pageSize ?? 500), ...(cont ? { continue: cont } : {}) });
      let body: ListBody;
      try {
        body = await this.withAbort(ac, this.opts.client.get<ListBody>(path));
      } catch (err) {
        // The continue token expired between pages: start over, a full list is the only safe base.
        if (cont && err instanceof KubeApiError && err.statusCode === 410) {
          items.clear();
          cont = '';
          continue;
        }
        throw err;
      }
      for (const raw of body.items ?? []) {
        const item = this.opts.convert(raw);
        if (item !== undefined) items.set(objectKey(raw), item);
      }
      rv = body.metadata?.resourceVersion ?? rv;
      cont = body.metadata?.continue ?? '';
      if (!cont) break;
    }
    this.opts.handlers.onList(items);
    if (!this.syncedOnce) {
      this.syncedOnce = true;
      this.resolveSynced();
    }
    return rv;
  }

  /** Rejects as soon as `ac` aborts, whatever the request does (a list cannot take a signal). */
  private withAbort<R>(ac: AbortController, p: Promise<R>): Promise<R> {
    return new Promise((resolve, reject) => {
      const onAbort = () => reject(ac.signal.reason ?? new Error('aborted'));
      if (ac.signal.aborted) return onAbort();
      ac.signal.addEventListener('abort', onAbort, { once: true });
      p.then(resolve, reject).finally(() => ac.signal.removeEventListener('abort', onAbort));
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
    let idle: NodeJS.Timeout | undefined;
    // Re-armed on every event: refresh() moves the one timer instead of allocating a new one per event.
    const arm = () => {
      if (idle) idle.refresh();
      else idle = setTimeout(() => ac.abort(new Error(`watch ${this.opts.path} silent for ${idleMs} ms`)), idleMs);
    };
    const h = this.opts.handlers;
    const onEvent = (ev: WatchEvent) => {
      arm();
      if (ev.type === 'ERROR') {
        const code = (ev.object as { code?: number }).code;
        if (code === 410) expired = true;
        else ac.abort(new Error(`watch ${this.opts.path}: ${String((ev.object as { message?: string }).message)}`));
        return;
      }
      const obj = ev.object as KubeObject;
      last = obj.metadata?.resourceVersion ?? last;
      if (ev.type === 'BOOKMARK') return;
      const key = objectKey(obj);
      if (ev.type === 'DELETED') {
        h.onDelete(key);
        return;
      }
      const item = this.opts.convert(obj);
      if (item === undefined) h.onDelete(key);
      else h.onUpsert(key, item);
    };
    arm();
    try {
      const path = this.query({
        watch: '1',
        allowWatchBookmarks: 'true',
        resourceVersion: rv,
        timeoutSeconds: String(timeout),
      });
      await this.withAbort(ac, this.opts.client.watch(path, onEvent, ac.signal));
    } catch (err) {
      if (err instanceof KubeApiError && err.statusCode === 410) throw new ExpiredError('expired');
      throw err;
    } finally {
      clearTimeout(idle);
    }
    if (ac.signal.aborted) throw ac.signal.reason ?? new Error('watch aborted');
    if (expired) throw new ExpiredError('expired');
    return last;
  }
}
