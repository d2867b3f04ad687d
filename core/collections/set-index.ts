// Values grouped under keys, each group a set, empty groups dropped: the reverse side of a one-to-many relation that
// several components keep (a backend -> the federated Services reading it; an address -> the endpoints holding it).
// Most groups hold one value (an address is held by one endpoint): such a group is stored as the value itself, not
// as a Set, which at 100k groups saves most of the time and memory of filing them.

const NONE: readonly never[] = [];

/** A group of two values or more (a class of this module's own: no value filed can be one). */
class Several<V> {
  readonly values: Set<V>;
  constructor(a: V, b: V) {
    this.values = new Set([a, b]);
  }
}

export class SetIndex<K, V> {
  private readonly groups = new Map<K, V | Several<V>>();

  /** The values under `key` (empty when none; do not keep it across changes). */
  get(key: K): Iterable<V> {
    const group = this.groups.get(key);
    if (group === undefined && !this.groups.has(key)) return NONE;
    return group instanceof Several ? group.values : [group as V];
  }

  keys(): IterableIterator<K> {
    return this.groups.keys();
  }

  add(key: K, value: V): void {
    const group = this.groups.get(key);
    if (group instanceof Several) group.values.add(value);
    else if (group === undefined && !this.groups.has(key)) this.groups.set(key, value);
    else if (group !== value) this.groups.set(key, new Several(group as V, value));
  }

  delete(key: K, value: V): void {
    const group = this.groups.get(key);
    if (group instanceof Several) {
      if (!group.values.delete(value) || group.values.size > 1) return;
      for (const last of group.values) this.groups.set(key, last); // one value left: stored as itself again
    } else if (group === value && this.groups.has(key)) {
      this.groups.delete(key);
    }
  }

  /** `value` leaves the groups of the keys `from` and joins those of `to`. */
  move(value: V, from: Iterable<K>, to: Iterable<K>): void {
    for (const key of from) this.delete(key, value);
    for (const key of to) this.add(key, value);
  }
}
