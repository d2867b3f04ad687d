/** What the store needs of an object: where it sits. */
export interface Placed {
  /** '' for cluster-scoped objects. */
  readonly namespace: string;
  readonly name: string;
}

/**
 * The objects of one kind of one cluster, by namespace then name. Keyed by the strings the objects already
 * hold, so that no `namespace/name` key is built and kept per object, and a namespace's objects are at hand
 * without a separate index.
 */
export class NamespacedStore<T extends Placed> {
  private readonly byNamespace = new Map<string, Map<string, T>>();
  private count = 0;

  get size(): number {
    return this.count;
  }

  get(namespace: string, name: string): T | undefined {
    return this.byNamespace.get(namespace)?.get(name);
  }

  /** Stores `obj` under its namespace and name; returns what it replaced. */
  set(obj: T): T | undefined {
    let names = this.byNamespace.get(obj.namespace);
    if (names === undefined) {
      names = new Map();
      this.byNamespace.set(obj.namespace, names);
    }
    const prev = names.get(obj.name);
    names.set(obj.name, obj);
    if (prev === undefined) this.count++;
    return prev;
  }

  delete(namespace: string, name: string): T | undefined {
    const names = this.byNamespace.get(namespace);
    const prev = names?.get(name);
    if (names === undefined || prev === undefined) return undefined;
    names.delete(name);
    if (names.size === 0) this.byNamespace.delete(namespace);
    this.count--;
    return prev;
  }

  /** The objects of one namespace. */
  *inNamespace(namespace: string): IterableIterator<T> {
    const names = this.byNamespace.get(namespace);
    if (names !== undefined) yield* names.values();
  }

  *values(): IterableIterator<T> {
    for (const names of this.byNamespace.values()) yield* names.values();
  }
}

/** Splits an informer key (`namespace/name`, or `name` for a cluster-scoped object). */
export function splitKey(key: string): Placed {
  const slash = key.indexOf('/');
  return slash < 0 ? { namespace: '', name: key } : { namespace: key.slice(0, slash), name: key.slice(slash + 1) };
}
