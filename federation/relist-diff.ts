import type { NamespacedStore, Placed } from './namespaced-store.js';

/** What a fresh full list changes against what is held: only real differences (by `same`). */
export interface RelistDiff<T> {
  readonly added: T[];
  /** [held, fresh] */
  readonly modified: (readonly [T, T])[];
  readonly deleted: T[];
}

/** Compares the held set with a complete fresh list: absent objects are deleted, unequal ones modified. */
export function diffRelist<T extends Placed>(
  held: NamespacedStore<T>,
  fresh: Iterable<T>,
  same: (a: T, b: T) => boolean,
): RelistDiff<T> {
  const added: T[] = [];
  const modified: (readonly [T, T])[] = [];
  const deleted: T[] = [];
  // Objects are matched by identity, so that finding the deleted ones needs no key per held object.
  const kept = new Set<T>();
  for (const next of fresh) {
    const prev = held.get(next.namespace, next.name);
    if (prev === undefined) added.push(next);
    else {
      kept.add(prev);
      if (!same(prev, next)) modified.push([prev, next]);
    }
  }
  for (const prev of held.values()) if (!kept.has(prev)) deleted.push(prev);
  return { added, modified, deleted };
}
