// Endpoints by cluster, namespace and name, in maps nested by those three. A flat map needs a key built from the
// three names for every lookup (`east/demo/pod-1`): a new string to allocate and hash for each of 100k endpoints at a
// start. Nested, each lookup hashes strings the endpoint already holds, and the engine keeps their hashes.

export class EndpointTable<E> {
  private readonly byCluster = new Map<string, Map<string, Map<string, E>>>();
  private count = 0;

  get size(): number {
    return this.count;
  }

  get(cluster: string, namespace: string, name: string): E | undefined {
    return this.byCluster.get(cluster)?.get(namespace)?.get(name);
  }

  /** Adds or replaces. */
  set(cluster: string, namespace: string, name: string, entry: E): void {
    let namespaces = this.byCluster.get(cluster);
    if (!namespaces) {
      namespaces = new Map();
      this.byCluster.set(cluster, namespaces);
    }
    let names = namespaces.get(namespace);
    if (!names) {
      names = new Map();
      namespaces.set(namespace, names);
    }
    const before = names.size;
    names.set(name, entry);
    this.count += names.size - before;
  }

  delete(cluster: string, namespace: string, name: string): boolean {
    const namespaces = this.byCluster.get(cluster);
    const names = namespaces?.get(namespace);
    if (!namespaces || !names?.delete(name)) return false;
    this.count--;
    if (names.size === 0) namespaces.delete(namespace);
    if (namespaces.size === 0) this.byCluster.delete(cluster);
    return true;
  }

  /** Every entry (replacing one while iterating is fine; adding or deleting is not). */
  *values(): Generator<E> {
    for (const namespaces of this.byCluster.values()) {
      for (const names of namespaces.values()) yield* names.values();
    }
  }
}
