import { createHash } from 'node:crypto';
import { EventHistory } from '../core/kube/event-history.js';
import { counterOf, newRvOrigin, type RvOrigin, resourceVersionOf } from './resource-version.js';
import type { ResourceName } from './resources.js';

/**
 * An object as the API serves it, rendered once when it changes (not per request): the full JSON object, the
 * attributes selectors read, and the Table cells (AGE is added per request, being relative to now).
 */
export interface ServedObject {
  readonly resource: ResourceName;
  /** `namespace/name`, or `name` for cluster-scoped objects: also the list order. */
  readonly key: string;
  readonly namespace: string;
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  /** Field-selector attributes (metadata.name, metadata.namespace, spec.cluster, …). */
  readonly fields: Readonly<Record<string, string>>;
  /** The object without metadata.resourceVersion (the store sets it). */
  readonly object: Readonly<Record<string, unknown>> & { readonly metadata: Readonly<Record<string, unknown>> };
  readonly cells: readonly unknown[];
}

/** A stored object: the rendered object with its resourceVersion. */
export interface StoredObject extends ServedObject {
  readonly rv: bigint;
  readonly resourceVersion: string;
  /**
   * A digest of the object's content without its resourceVersion: equal on every replica that renders the same
   * object, so that a paged list can tell whether another replica's remainder is the one it started from.
   */
  readonly digest: string;
}

export type StoreEventType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface StoreEvent {
  /** The store's change counter: consecutive, as the history needs. */
  readonly revision: number;
  readonly type: StoreEventType;
  readonly object: StoredObject;
  /** The object before this change (for MODIFIED and DELETED): a filtered watch needs both sides. */
  readonly prev: StoredObject | undefined;
}

export type Change =
  | { readonly type: 'upsert'; readonly object: ServedObject }
  | {
      readonly type: 'delete';
      readonly resource: ResourceName;
      readonly key: string;
    };

/** What a list or a watch start reads: every object of a resource at one revision, in key order. */
export interface Snapshot {
  readonly rv: bigint;
  readonly items: readonly StoredObject[];
}

export type Watcher = (events: readonly StoreEvent[]) => void;

/**
 * The served objects of every resource, with a resourceVersion per change and a bounded history for watches
 * (the role of k8s.io/apiserver's watch cache). resourceVersions carry this process's origin (resource-version.ts):
 * they increase within this process, and a version from another replica or an earlier process is answered with
 * 410 Expired (the client relists) rather than with a wrong diff.
 */
export class ServedStore {
  private readonly objects: Record<ResourceName, Map<string, StoredObject>> = {
    remoteworkloads: new Map(),
    federatedendpoints: new Map(),
    remotenodes: new Map(),
  };
  private readonly sorted: Partial<Record<ResourceName, readonly StoredObject[]>> = {};
  private readonly history: EventHistory<StoreEvent>;
  private readonly watchers = new Set<Watcher>();
  private counter = 0;
  readonly origin: RvOrigin;

  constructor(historyLimit = 50_000, origin: RvOrigin = newRvOrigin()) {
    this.history = new EventHistory(historyLimit);
    this.origin = origin;
  }

  get currentRv(): bigint {
    return resourceVersionOf(this.origin, this.counter);
  }

  /** Whether `rv` was issued by this store (same process and replica) and not in the future. */
  ownsRv(rv: bigint): boolean {
    const c = counterOf(this.origin, rv);
    return c !== undefined && c <= this.counter;
  }

  /** Whether `rv` is this store's but not reached yet (a client saw it nowhere, or is ahead: wait or 504). */
  isFutureRv(rv: bigint): boolean {
    const c = counterOf(this.origin, rv);
    return c !== undefined && c > this.counter;
  }

  /** The oldest resourceVersion a watch may resume from. */
  get oldestResumableRv(): bigint {
    const oldest = this.history.oldest;
    return resourceVersionOf(this.origin, oldest === undefined ? this.counter : oldest - 1);
  }

  /** Applies changes in order, each with its own resourceVersion; watchers get them as one batch. */
  apply(changes: readonly Change[]): void {
    const events: StoreEvent[] = [];
    for (const c of changes) {
      if (c.type === 'upsert') {
        const map = this.objects[c.object.resource];
        const prev = map.get(c.object.key);
        const digest = contentDigest(c.object);
        if (prev?.digest === digest) continue; // an update that changes nothing is no event
        this.counter += 1;
        const stored = store(c.object, this.currentRv, digest);
        map.set(c.object.key, stored);
        events.push({ revision: this.counter, type: prev ? 'MODIFIED' : 'ADDED', object: stored, prev });
        delete this.sorted[c.object.resource];
      } else {
        const map = this.objects[c.resource];
        const prev = map.get(c.key);
        if (!prev) continue;
        map.delete(c.key);
        this.counter += 1;
        events.push({
          revision: this.counter,
          type: 'DELETED',
          object: store(prev, this.currentRv, prev.digest),
          prev,
        });
        delete this.sorted[c.resource];
      }
    }
    if (events.length === 0) return;
    for (const ev of events) this.history.push(ev);
    for (const w of this.watchers) w(events);
  }

  get(resource: ResourceName, key: string): StoredObject | undefined {
    return this.objects[resource].get(key);
  }

  count(resource: ResourceName): number {
    return this.objects[resource].size;
  }

  /** All objects of a resource at the current revision, sorted by key; shared until the next change. */
  snapshot(resource: ResourceName): Snapshot {
    let items = this.sorted[resource];
    if (!items) {
      items = [...this.objects[resource].values()].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
      this.sorted[resource] = items;
    }
    return { rv: this.currentRv, items };
  }

  /** Events after `rv`, or 'expired' when the history no longer reaches back that far. */
  eventsSince(rv: bigint): readonly StoreEvent[] | 'expired' {
    const c = counterOf(this.origin, rv);
    return (c === undefined ? undefined : this.history.since(c, this.counter)) ?? 'expired';
  }

  subscribe(w: Watcher): () => void {
    this.watchers.add(w);
    return () => this.watchers.delete(w);
  }

  get watcherCount(): number {
    return this.watchers.size;
  }
}

const jsonText = new WeakMap<StoredObject, string>();

/** The object's JSON, serialised once: a list of 10k objects is then mostly string concatenation. */
export function jsonOf(o: StoredObject): string {
  let t = jsonText.get(o);
  if (t === undefined) {
    t = JSON.stringify(o.object);
    jsonText.set(o, t);
  }
  return t;
}

function store(o: ServedObject, rv: bigint, digest: string): StoredObject {
  const resourceVersion = rv.toString();
  return {
    ...o,
    rv,
    resourceVersion,
    digest,
    object: { ...o.object, metadata: { ...o.object.metadata, resourceVersion } },
  };
}

/**
 * Objects are rendered deterministically (the same source gives the same JSON on every replica), so an equal
 * digest means no change; the served object carries no resourceVersion yet.
 */
function contentDigest(o: ServedObject): string {
  return createHash('sha256').update(o.key).update('\0').update(JSON.stringify(o.object)).digest('base64url');
}
