// Values grouped under keys, each group a set, empty groups dropped: the reverse side of a one-to-many relation that
// several components keep (a backend -> the federated Services reading it; an address -> the endpoints holding it).

const NONE: ReadonlySet<never> = new Set();

export class SetIndex<K, V> {
  private readonly groups = new Map<K, Set<V>>();

  /** The values under `key` (empty when none; do not keep it across changes). */
  get(key: K): ReadonlySet<V> {
    return this.groups.get(key) ?? NONE;
  }

  keys(): IterableIterator<K> {
    return this.groups.keys();
  }

  add(key: K, value: V): void {
    let group = this.groups.get(key);
    if (!group) {
      group = new Set();
      this.groups.set(key, group);
    }
    group.add(value);
  }

  delete(key: K, value: V): void {
    const group = this.groups.get(key);
    if (!group?.delete(value)) return;
    if (group.size === 0) this.groups.delete(key);
  }

  /** `value` leaves the groups of the keys `from` and joins those of `to`. */
  move(value: V, from: Iterable<K>, to: Iterable<K>): void {
    for (const key of from) this.delete(key, value);
    for (const key of to) this.add(key, value);
  }
}
