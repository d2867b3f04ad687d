// Where the selector index files each selector, so that an item finds the few selectors it could match.
//
// A selector is filed under one label it requires (restrictions.ts): with the values it allows when it has them
// (`app == 'db'` under app=db), else under the label alone (`has(team)` under team). A selector that requires no
// label (`env != 'prod'`, `all()`) is unfiled: any item may match it. One that requires impossible values
// (`a in {}`) is never filed: it matches nothing.
//
// Each selector is filed twice over: by its filing key alone, for an item that appears; and, for each label key
// it reads, by that key and then a required label's key, for an item whose key changed (a selector's result can only
// change when a key it reads changed, and it can only start matching if the item passes every key it requires). That
// reader key is the filing key, except where the filing key is the changed label's mere presence (chooseReaderKey).

import type { LabelEntries, LabelLookup } from './evaluate.js';
import type { RequiredLabels, ValueConstraint } from './restrictions.js';
import { setIn } from './set-map.js';

export type FilingKey =
  | { readonly kind: 'values'; readonly label: string; readonly values: ReadonlySet<string> }
  | { readonly kind: 'label'; readonly label: string }
  | { readonly kind: 'unfiled' }
  | { readonly kind: 'never' };

/**
 * The required label behind the fewest items (`count`): what filling the selector costs, and how often updates
 * visit it. Ties go to value restrictions, then to fewer values, then to label order.
 */
export function chooseFilingKey(
  required: RequiredLabels,
  count: (label: string, constraint: ValueConstraint) => number,
): FilingKey {
  let best: FilingKey = { kind: 'unfiled' };
  let bestRank: Rank | undefined;
  for (const [label, constraint] of required) {
    if (constraint !== 'any' && constraint.size === 0) return { kind: 'never' };
    const rank: Rank = [
      count(label, constraint),
      constraint === 'any' ? 1 : 0,
      constraint === 'any' ? 0 : constraint.size,
      label,
    ];
    if (bestRank === undefined || compareRanks(rank, bestRank) < 0) {
      bestRank = rank;
      best = constraint === 'any' ? { kind: 'label', label } : { kind: 'values', label, values: constraint };
    }
  }
  return best;
}

type Rank = readonly [items: number, anyValue: number, values: number, label: string];

function compareRanks(a: Rank, b: Rank): number {
  return a[0] - b[0] || a[1] - b[1] || a[2] - b[2] || (a[3] < b[3] ? -1 : a[3] > b[3] ? 1 : 0);
}

/**
 * The key to file a selector under for its readers of `read`, i.e. for items whose `read` label just changed. When
 * the selector only requires `read` to be present (`has(canary) && tier == 'web'`), every item that just gained it
 * passes that key, so another required label narrows better; a value restriction on `read` itself still narrows.
 */
export function chooseReaderKey(
  read: string,
  required: RequiredLabels,
  key: FilingKey,
  count: (label: string, constraint: ValueConstraint) => number,
): FilingKey {
  if (key.kind !== 'label' || key.label !== read || required.size < 2) return key;
  const others = new Map(required);
  others.delete(read);
  return chooseFilingKey(others, count);
}

export function sameFilingKey(a: FilingKey, b: FilingKey): boolean {
  if (a.kind === 'values' && b.kind === 'values') return a.label === b.label && a.values === b.values;
  if (a.kind === 'label' && b.kind === 'label') return a.label === b.label;
  return a.kind === b.kind;
}

/** Per key read, the key its readers are filed under where that is not the selector's own filing key. */
export type ReaderKeys = ReadonlyMap<string, FilingKey>;

const NO_READER_KEYS: ReaderKeys = new Map();

/** What the filing needs of a selector: the keys it reads. */
export interface Fileable {
  readonly reads: ReadonlySet<string>;
}

type ByValue<E> = Map<string, Set<E>>;

export class SelectorFiling<E extends Fileable> {
  // By filing key alone.
  private readonly byValue = new Map<string, ByValue<E>>();
  private readonly byLabel = new Map<string, Set<E>>();
  private readonly unfiled = new Set<E>();
  // By each key read, then filing key.
  private readonly readersByValue = new Map<string, Map<string, ByValue<E>>>();
  private readonly readersByLabel = new Map<string, Map<string, Set<E>>>();
  private readonly unfiledReaders = new Map<string, Set<E>>();

  /** Files the selector under `key`, and as a reader of each key it reads under `readerKeys` or else `key`. */
  file(sel: E, key: FilingKey, readerKeys: ReaderKeys = NO_READER_KEYS): void {
    switch (key.kind) {
      case 'values': {
        const byValue = mapIn(this.byValue, key.label);
        for (const v of key.values) setIn(byValue, v).add(sel);
        break;
      }
      case 'label':
        setIn(this.byLabel, key.label).add(sel);
        break;
      case 'unfiled':
        this.unfiled.add(sel);
        break;
      case 'never':
        return;
    }
    for (const read of sel.reads) this.fileReader(sel, read, readerKeys.get(read) ?? key);
  }

  /** Undoes `file` with the same keys. */
  unfile(sel: E, key: FilingKey, readerKeys: ReaderKeys = NO_READER_KEYS): void {
    switch (key.kind) {
      case 'values':
        for (const v of key.values) deleteIn(this.byValue, [key.label, v], sel);
        break;
      case 'label':
        deleteIn(this.byLabel, [key.label], sel);
        break;
      case 'unfiled':
        this.unfiled.delete(sel);
        break;
      case 'never':
        return;
    }
    for (const read of sel.reads) this.unfileReader(sel, read, readerKeys.get(read) ?? key);
  }

  private fileReader(sel: E, read: string, key: FilingKey): void {
    switch (key.kind) {
      case 'values': {
        const readers = mapIn(mapIn(this.readersByValue, read), key.label);
        for (const v of key.values) setIn(readers, v).add(sel);
        return;
      }
      case 'label':
        setIn(mapIn(this.readersByLabel, read), key.label).add(sel);
        return;
      case 'unfiled':
        setIn(this.unfiledReaders, read).add(sel);
        return;
      case 'never':
        return;
    }
  }

  private unfileReader(sel: E, read: string, key: FilingKey): void {
    switch (key.kind) {
      case 'values':
        for (const v of key.values) deleteIn(this.readersByValue, [read, key.label, v], sel);
        return;
      case 'label':
        deleteIn(this.readersByLabel, [read, key.label], sel);
        return;
      case 'unfiled':
        deleteIn(this.unfiledReaders, [read], sel);
        return;
      case 'never':
        return;
    }
  }

  /** Visits each selector that an item with these labels could match, once. */
  forEachCandidate(labels: LabelEntries, visit: (sel: E) => void): void {
    for (const [label, value] of labels) {
      this.byValue.get(label)?.get(value)?.forEach(visit);
      this.byLabel.get(label)?.forEach(visit);
    }
    this.unfiled.forEach(visit);
  }

  /**
   * Visits each selector that reads `key` and that an item with these labels could match. A selector reading
   * several changed keys comes once per key: the caller deduplicates.
   */
  forEachReader(key: string, labels: LabelLookup, visit: (sel: E) => void): void {
    const byValue = this.readersByValue.get(key);
    if (byValue) {
      for (const [filingLabel, readers] of byValue) {
        const v = labels.get(filingLabel);
        if (v !== undefined) readers.get(v)?.forEach(visit);
      }
    }
    const byLabel = this.readersByLabel.get(key);
    if (byLabel) {
      for (const [filingLabel, readers] of byLabel) if (labels.get(filingLabel) !== undefined) readers.forEach(visit);
    }
    this.unfiledReaders.get(key)?.forEach(visit);
  }
}

function mapIn<K, K2, V>(outer: Map<K, Map<K2, V>>, key: K): Map<K2, V> {
  let inner = outer.get(key);
  if (!inner) {
    inner = new Map();
    outer.set(key, inner);
  }
  return inner;
}

/** Deletes `value` from the set at the end of `path` in nested maps, pruning what becomes empty. */
function deleteIn<V>(root: Map<string, unknown>, path: readonly string[], value: V): void {
  const [head, ...rest] = path;
  const child = root.get(head!);
  if (child === undefined) return;
  if (rest.length === 0) (child as Set<V>).delete(value);
  else deleteIn(child as Map<string, unknown>, rest, value);
  if ((child as Map<string, unknown> | Set<V>).size === 0) root.delete(head!);
}
