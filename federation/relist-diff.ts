/** What a fresh full list changes against what is held: only real differences (by `same`). */
export interface KeyedDiff<T> {
  readonly added: (readonly [string, T])[];
  readonly modified: (readonly [string, T, T])[];
  readonly deleted: (readonly [string, T])[];
}

/** Compares the held set with a complete fresh list: absent keys are deleted, unequal values modified. */
export function diffByKey<T>(
  held: ReadonlyMap<string, T>,
  fresh: ReadonlyMap<string, T>,
  same: (a: T, b: T) => boolean,
): KeyedDiff<T> {
  const added: (readonly [string, T])[] = [];
  const modified: (readonly [string, T, T])[] = [];
  const deleted: (readonly [string, T])[] = [];
  for (const [key, next] of fresh) {
    const prev = held.get(key);
    if (prev === undefined) added.push([key, next]);
    else if (!same(prev, next)) modified.push([key, prev, next]);
  }
  for (const [key, prev] of held) if (!fresh.has(key)) deleted.push([key, prev]);
  return { added, modified, deleted };
}
