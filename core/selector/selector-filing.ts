// Where the selector index files each selector, so that an item finds the few selectors it could match.
//
// A selector is filed under one label column it requires (restrictions.ts): with the value ids it allows when it
// has them (`app == 'db'` under app=db), else under the column alone (`has(team)` under team). A selector that
// requires no label (`env != 'prod'`, `all()`) is unfiled: any item may match it. One that requires impossible values
// (`a in {}`) is never filed: it matches nothing.
//
// Each selector is filed twice over: by its filing key alone, for an item that appears; and, for each column it
// reads, by that column and then a filing key, for an item whose value there changed (a selector's result can only
// change when a label it reads changed, and it can only start matching if the item passes every label it requires).
// That reader key is the filing key, except where the filing key is the changed label's mere presence
// (chooseReaderKey).

export type FilingKey =
  | { readonly kind: 'values'; readonly column: number; readonly ids: readonly number[] }
  | { readonly kind: 'label'; readonly column: number }
  | { readonly kind: 'unfiled' }
  | { readonly kind: 'never' };

/** `'any'`: present with any value; ids: present with one of these values (none: can never match). */
export type ColumnConstraint = 'any' | readonly number[];

/** The labels a selector requires, by column. */
export type RequiredColumns = ReadonlyMap<number, ColumnConstraint>;

/** How many items pass a constraint. */
export type CountItems = (column: number, constraint: ColumnConstraint) => number;

/**
 * The required label behind the fewest items: what filling the selector costs, and how often updates visit it.
 * Ties go to value restrictions, then to fewer values, then to the lower column.
 */
export function chooseFilingKey(required: RequiredColumns, count: CountItems): FilingKey {
  let best: FilingKey = { kind: 'unfiled' };
  let bestRank: Rank | undefined;
  for (const [column, constraint] of required) {
    if (constraint !== 'any' && constraint.length === 0) return { kind: 'never' };
    const rank: Rank = [
      count(column, constraint),
      constraint === 'any' ? 1 : 0,
      constraint === 'any' ? 0 : constraint.length,
      column,
    ];
    if (bestRank === undefined || compareRanks(rank, bestRank) < 0) {
      bestRank = rank;
      best = constraint === 'any' ? { kind: 'label', column } : { kind: 'values', column, ids: constraint };
    }
  }
  return best;
}

type Rank = readonly [items: number, anyValue: number, values: number, column: number];

function compareRanks(a: Rank, b: Rank): number {
  return a[0] - b[0] || a[1] - b[1] || a[2] - b[2] || a[3] - b[3];
}

/**
 * The key to file a selector under for its readers of `read`, i.e. for items whose `read` label just changed. When
 * the selector only requires `read` to be present (`has(canary) && tier == 'web'`), every item that just gained it
 * passes that key, so another required label narrows better; a value restriction on `read` itself still narrows.
 */
export function chooseReaderKey(read: number, required: RequiredColumns, key: FilingKey, count: CountItems): FilingKey {
  if (key.kind !== 'label' || key.column !== read || required.size < 2) return key;
  const others = new Map(required);
  others.delete(read);
  return chooseFilingKey(others, count);
}

export function sameFilingKey(a: FilingKey, b: FilingKey): boolean {
  if (a.kind === 'values' && b.kind === 'values') {
    return a.column === b.column && a.ids.length === b.ids.length && a.ids.every((id, i) => b.ids[i] === id);
  }
  if (a.kind === 'label' && b.kind === 'label') return a.column === b.column;
  return a.kind === b.kind;
}

/** Per column read, the key its readers are filed under where that is not the selector's own filing key. */
export type ReaderKeys = ReadonlyMap<number, FilingKey>;

export const NO_READER_KEYS: ReaderKeys = new Map();

/** What the filing needs of a selector: the columns it reads. */
export interface Fileable {
  readonly readColumns: readonly number[];
}

/** Selectors by a small integer (a column, a value id): a sparse array of short lists. */
type Buckets<E> = (E[] | undefined)[];

interface ColumnBuckets<E> {
  readonly column: number;
  readonly buckets: Buckets<E>;
}

export class SelectorFiling<E extends Fileable> {
  // By filing key alone, for a new item: by column then value id; by column; unfiled.
  private readonly byValue: (Buckets<E> | undefined)[] = [];
  private readonly byLabel: Buckets<E> = [];
  private readonly unfiled: E[] = [];
  // By column read, then filing key, for a changed item: the filing columns under each read column are few, so
  // they are lists that an update walks.
  private readonly readersByValue: (ColumnBuckets<E>[] | undefined)[] = [];
  private readonly readersByLabel: (ColumnBuckets<E>[] | undefined)[] = [];
  private readonly unfiledReaders: Buckets<E> = [];

  /** Files the selector under `key`, and as a reader of each column it reads under `readerKeys` or else `key`. */
  file(sel: E, key: FilingKey, readerKeys: ReaderKeys = NO_READER_KEYS): void {
    if (key.kind === 'never') return;
    this.place(sel, key, add);
    for (const read of sel.readColumns) this.placeReader(sel, read, readerKeys.get(read) ?? key, add);
  }

  /** Undoes `file` with the same keys. */
  unfile(sel: E, key: FilingKey, readerKeys: ReaderKeys = NO_READER_KEYS): void {
    if (key.kind === 'never') return;
    this.place(sel, key, remove);
    for (const read of sel.readColumns) this.placeReader(sel, read, readerKeys.get(read) ?? key, remove);
  }

  /** Visits each selector that an item with this row could match, once (`columns`: the columns in use). */
  forEachCandidate(rows: Int32Array, base: number, columns: readonly number[], visit: (sel: E) => void): void {
    for (const column of columns) {
      const id = rows[base + column]!;
      if (id === 0) continue;
      this.byValue[column]?.[id]?.forEach(visit);
      this.byLabel[column]?.forEach(visit);
    }
    this.unfiled.forEach(visit);
  }

  /**
   * Visits each selector that reads `read` and that an item with this row could match. A selector reading
   * several changed columns comes once per column: the caller deduplicates.
   */
  forEachReader(read: number, rows: Int32Array, base: number, visit: (sel: E) => void): void {
    const byValue = this.readersByValue[read];
    if (byValue !== undefined) {
      for (let i = 0; i < byValue.length; i++) {
        const entry = byValue[i]!;
        const id = rows[base + entry.column]!;
        if (id !== 0) visitAll(entry.buckets[id], visit);
      }
    }
    const byLabel = this.readersByLabel[read];
    if (byLabel !== undefined) {
      for (let i = 0; i < byLabel.length; i++) {
        const entry = byLabel[i]!;
        if (rows[base + entry.column] !== 0) visitAll(entry.buckets[0], visit);
      }
    }
    visitAll(this.unfiledReaders[read], visit);
  }

  private place(sel: E, key: Exclude<FilingKey, { kind: 'never' }>, op: BucketOp): void {
    if (key.kind === 'values') {
      const buckets = listAt(this.byValue, key.column);
      for (const id of key.ids) op(buckets, id, sel);
    } else if (key.kind === 'label') {
      op(this.byLabel, key.column, sel);
    } else if (op === add) {
      this.unfiled.push(sel);
    } else {
      removeFrom(this.unfiled, sel);
    }
  }

  private placeReader(sel: E, read: number, key: FilingKey, op: BucketOp): void {
    switch (key.kind) {
      case 'values': {
        const buckets = columnBuckets(listAt(this.readersByValue, read), key.column);
        for (const id of key.ids) op(buckets, id, sel);
        if (op === remove) this.pruneReaders(this.readersByValue, read);
        return;
      }
      case 'label':
        op(columnBuckets(listAt(this.readersByLabel, read), key.column), 0, sel);
        if (op === remove) this.pruneReaders(this.readersByLabel, read);
        return;
      case 'unfiled':
        op(this.unfiledReaders, read, sel);
        return;
      case 'never':
        return;
    }
  }

  /** Drops the filing columns under `read` that hold no selector any more, so updates do not walk them. */
  private pruneReaders(lists: (ColumnBuckets<E>[] | undefined)[], read: number): void {
    const list = lists[read]!;
    const kept = list.filter(({ buckets }) => buckets.some((b) => b !== undefined));
    if (kept.length === list.length) return;
    lists[read] = kept.length === 0 ? undefined : kept;
  }
}

function visitAll<E>(bucket: readonly E[] | undefined, visit: (sel: E) => void): void {
  if (bucket !== undefined) for (let i = 0; i < bucket.length; i++) visit(bucket[i]!);
}

type BucketOp = <E>(buckets: Buckets<E>, at: number, sel: E) => void;

function add<E>(buckets: Buckets<E>, at: number, sel: E): void {
  const bucket = buckets[at];
  if (bucket === undefined) buckets[at] = [sel];
  else bucket.push(sel);
}

/** Swap-remove (the order in a bucket means nothing); an emptied bucket is dropped. */
function remove<E>(buckets: Buckets<E>, at: number, sel: E): void {
  const bucket = buckets[at];
  if (bucket !== undefined && removeFrom(bucket, sel) && bucket.length === 0) buckets[at] = undefined;
}

function removeFrom<E>(list: E[], sel: E): boolean {
  const i = list.indexOf(sel);
  if (i < 0) return false;
  list[i] = list[list.length - 1]!;
  list.pop();
  return true;
}

/** The list at `at`, created empty on first use. */
function listAt<T>(lists: (T[] | undefined)[], at: number): T[] {
  let list = lists[at];
  if (list === undefined) {
    list = [];
    lists[at] = list;
  }
  return list;
}

function columnBuckets<E>(list: ColumnBuckets<E>[], column: number): Buckets<E> {
  let entry = list.find((e) => e.column === column);
  if (entry === undefined) {
    entry = { column, buckets: [] };
    list.push(entry);
  }
  return entry.buckets;
}
