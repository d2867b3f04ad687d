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
}

export type StoreEventType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface StoreEvent {
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
 * (the role of k8s.io/apiserver's watch cache). resourceVersions are `<epoch seconds><9-digit counter>`: they
 * increase within this process, and a version from another replica or an earlier process has another epoch, so
 * it is answered with 410 Expired (the client relists) rather than with a wrong diff.
 */
export class ServedStore {
  private readonly objects: Record<ResourceName, Map<string, StoredObject>> = {
    remoteworkloads: new Map(),
    federatedendpoints: new Map(),
    remotenodes: new Map(),
  };
  private readonly sorted: Partial<Record<ResourceName, readonly StoredObject[]>> = {};
  private readonly history: StoreEvent[] = [];
  private readonly watchers = new Set<Watcher>();
  private counter = 0n;
  readonly epoch: bigint;

  constructor(
    private readonly historyLimit = 50_000,
    epochSeconds = BigInt(Math.floor(Date.now() / 1000)),
  ) {
    this.epoch = epochSeconds;
  }

  get currentRv(): bigint {
    return this.epoch * 1_000_000_000n + this.counter;
  }

  /** Whether `rv` was issued by this store (same epoch) and not in the future. */
  ownsRv(rv: bigint): boolean {
    return rv / 1_000_000_000n === this.epoch && rv <= this.currentRv;
  }

  /** The oldest resourceVersion a watch may resume from. */
  get oldestResumableRv(): bigint {
    const first = this.history[0];
    return first ? first.object.rv - 1n : this.currentRv;
  }

  /** Applies changes in order, each with its own resourceVersion; watchers get them as one batch. */
  apply(changes: readonly Change[]): void {
    const events: StoreEvent[] = [];
    for (const c of changes) {
      if (c.type === 'upsert') {
        const map = this.objects[c.object.resource];
        const prev = map.get(c.object.key);
        if (prev && sameContent(prev, c.object)) continue; // an update that changes nothing is no event
        this.counter += 1n;
        const stored = store(c.object, this.currentRv);
        map.set(c.object.key, stored);
        events.push({ type: prev ? 'MODIFIED' : 'ADDED', object: stored, prev });
        delete this.sorted[c.object.resource];
      } else {
        const map = this.objects[c.resource];
        const prev = map.get(c.key);
        if (!prev) continue;
        map.delete(c.key);
        this.counter += 1n;
        const rv = this.currentRv;
        events.push({ type: 'DELETED', object: store(prev, rv), prev });
        delete this.sorted[c.resource];
      }
    }
    if (events.length === 0) return;
    this.history.push(...events);
    if (this.history.length > this.historyLimit) this.history.splice(0, this.history.length - this.historyLimit);
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
    if (rv < this.oldestResumableRv || !this.ownsRv(rv)) return 'expired';
    // History is ordered by rv: binary search for the first event after rv.
    let lo = 0;
    let hi = this.history.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((this.history[mid]?.object.rv ?? 0n) <= rv) lo = mid + 1;
      else hi = mid;
    }
    return this.history.slice(lo);
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

function store(o: ServedObject, rv: bigint): StoredObject {
  const resourceVersion = rv.toString();
  return {
    ...o,
    rv,
    resourceVersion,
    object: { ...o.object, metadata: { ...o.object.metadata, resourceVersion } },
  };
}

function sameContent(prev: StoredObject, next: ServedObject): boolean {
  // Objects are rendered deterministically, so equal JSON means no change (resourceVersion aside).
  const { resourceVersion: _rv, ...prevMeta } = prev.object.metadata as Record<string, unknown>;
  return JSON.stringify({ ...prev.object, metadata: prevMeta }) === JSON.stringify(next.object);
}
