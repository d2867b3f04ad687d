// An incremental index of selectors against labelled items (endpoints): which items each selector matches, kept
// current under add, update and delete of either side, reporting only what changed.
//
// Items are rows of value ids (item-rows.ts), one column per label key some selector reads (label-columns.ts), and
// selectors are compiled against those rows (row-matcher.ts): an update reads one row and compares integers, and a
// label no selector reads is never looked at. An item update evaluates only the selectors that read a changed
// column (a selector's result depends only on labels it reads) and whose filing key the item passed before or passes
// now (selector-filing.ts): e.g. after `app: web → db`, those filed under app=web or app=db, or under a label the
// item has, or unfiled, and reading app. Any selector that matched before or matches now is among them, so an item
// needs no list of its own: what it matches is in the selectors' match sets, found through its candidates.
// A new item is matched against the selectors filed under its values and the unfiled ones; a new selector is
// matched by one walk down its filing column (or over all rows, when it is unfiled).

import { referencedLabels, type SelectorNode } from './ast.js';
import { canonicalSelector } from './canonical.js';
import type { Labels } from './evaluate.js';
import { ItemRows } from './item-rows.js';
import { LabelColumns } from './label-columns.js';
import { requiredLabels } from './restrictions.js';
import { compileRowMatcher, type RowMatcher } from './row-matcher.js';
import {
  type ColumnConstraint,
  chooseFilingKey,
  chooseReaderKey,
  type FilingKey,
  NO_READER_KEYS,
  type ReaderKeys,
  type RequiredColumns,
  SelectorFiling,
  sameFilingKey,
} from './selector-filing.js';
import { SlotSet } from './slot-set.js';
import { ABSENT } from './value-ids.js';

/** What one operation changed: for a selector, the items it gained and lost; for an item, the selectors. */
export interface MatchDelta<T> {
  readonly gained: readonly T[];
  readonly lost: readonly T[];
}

const NONE: readonly never[] = Object.freeze([]);
const NO_CHANGE: MatchDelta<never> = Object.freeze({ gained: NONE, lost: NONE });

export interface SelectorIndexOptions {
  /**
   * Filing keys are chosen again each time the item count doubles, from this count on (default 64): counts move
   * most while an index fills, and selectors added before any item were filed blind.
   */
  readonly firstRefileAt?: number;
}

interface SelectorEntry<S> {
  readonly id: S;
  readonly canonical: string;
  readonly reads: readonly string[];
  readonly readColumns: readonly number[];
  readonly matcher: RowMatcher;
  /** (column, value id) pairs it holds in the columns' value ids. */
  readonly heldValues: readonly number[];
  readonly required: RequiredColumns;
  key: FilingKey;
  /** Where it is filed as a reader of a column, where that differs from `key` (selector-filing.ts chooseReaderKey). */
  readerKeys: ReaderKeys;
  /** The slots of the items it matches. */
  readonly matches: SlotSet;
  /** The update that last looked at it, so that one update evaluates it once. */
  seenInUpdate: number;
}

export class SelectorIndex<S, I> {
  private readonly selectors = new Map<S, SelectorEntry<S>>();
  private readonly slots = new Map<I, number>();
  // By slot: a small integer of an item's own while it is indexed, reused after it leaves.
  private readonly idsBySlot: (I | undefined)[] = [];
  private readonly labelsBySlot: (Labels | undefined)[] = [];
  private readonly freeSlots: number[] = [];
  private readonly columns = new LabelColumns();
  private readonly rows = new ItemRows();
  private readonly filing = new SelectorFiling<SelectorEntry<S>>();
  private refileAt: number;
  private updates = 0;

  // The update in progress (one at a time; nothing in here calls out): the changed columns with their previous
  // value ids, and the selectors to evaluate.
  private readonly changedColumns: number[] = [];
  private readonly changedFrom: number[] = [];
  private changedCount = 0;
  private readonly toEvaluate: (SelectorEntry<S> | undefined)[] = [];
  private toEvaluateCount = 0;

  constructor(options: SelectorIndexOptions = {}) {
    this.refileAt = options.firstRefileAt ?? 64;
  }

  get selectorCount(): number {
    return this.selectors.size;
  }

  get itemCount(): number {
    return this.slots.size;
  }

  /** Ids of the items the selector matches now (empty for an unknown selector). */
  matchingItems(selector: S): I[] {
    const ids: I[] = [];
    this.selectors.get(selector)?.matches.forEach((slot) => {
      ids.push(this.idsBySlot[slot]!);
    });
    return ids;
  }

  /** Ids of the selectors that match the item now. */
  selectorsMatching(item: I): S[] {
    const slot = this.slots.get(item);
    return slot === undefined ? [] : this.matchedSelectors(slot).map((sel) => sel.id);
  }

  /** The selectors whose match sets hold the slot: among its candidates, as a selector only matches what it can. */
  private matchedSelectors(slot: number): SelectorEntry<S>[] {
    const matched: SelectorEntry<S>[] = [];
    this.filing.forEachCandidate(this.rows.data, this.rows.base(slot), this.columns.active, (sel) => {
      if (sel.matches.has(slot)) matched.push(sel);
    });
    return matched;
  }

  /**
   * Adds or replaces a selector; returns the items it gained and lost. Replacing it with an equal selector (same
   * canonical form) changes nothing.
   */
  setSelector(id: S, node: SelectorNode): MatchDelta<I> {
    const canonical = canonicalSelector(node);
    const old = this.selectors.get(id);
    if (old?.canonical === canonical) return NO_CHANGE;
    const reads = [...referencedLabels(node)];
    const readColumns = reads.map((key) => this.retainColumn(key));
    const compiled = compileRowMatcher(node, this.columns);
    const { required, heldValues } = this.requiredColumns(node, compiled.heldValues);
    const key = this.chooseKey(required);
    const entry: SelectorEntry<S> = {
      id,
      canonical,
      reads,
      readColumns,
      matcher: compiled.matcher,
      heldValues,
      required,
      key,
      readerKeys: this.chooseReaderKeys(readColumns, required, key),
      matches: new SlotSet(),
      seenInUpdate: 0,
    };
    this.filing.file(entry, entry.key, entry.readerKeys);
    const matched = this.slotsMatching(entry);
    this.selectors.set(id, entry);

    const lost: I[] = [];
    if (old) {
      this.forget(old);
      old.matches.forEach((slot) => {
        if (!entry.matches.has(slot)) lost.push(this.idsBySlot[slot]!);
      });
    }
    const gained: I[] = [];
    for (const slot of matched) if (!old?.matches.has(slot)) gained.push(this.idsBySlot[slot]!);
    return gained.length === 0 && lost.length === 0 ? NO_CHANGE : { gained, lost };
  }

  /** Removes a selector; returns the items it lost. */
  deleteSelector(id: S): MatchDelta<I> {
    const entry = this.selectors.get(id);
    if (!entry) return NO_CHANGE;
    const lost = this.matchingItems(id);
    this.selectors.delete(id);
    this.forget(entry);
    return lost.length === 0 ? NO_CHANGE : { gained: NONE, lost };
  }

  /**
   * Adds or relabels an item; returns the selectors that started and stopped matching it. The index keeps `labels`
   * (to read labels that selectors added later will read) and never changes it: pass an object you will not change
   * afterwards, as informer caches and the mesh cache's interned label maps are.
   */
  setItem(id: I, labels: Labels): MatchDelta<S> {
    const slot = this.slots.get(id);
    if (slot === undefined) return this.addItem(id, labels);
    this.labelsBySlot[slot] = labels;
    // No column changed (only labels no selector reads, a pod-template-hash say): no result can change.
    if (!this.writeRow(slot, labels)) return NO_CHANGE;

    // The selectors to evaluate: readers of a changed column filed under a key the item passed before (those that
    // may have matched) or passes now (those that may match), each once.
    this.updates++;
    this.toEvaluateCount = 0;
    const data = this.rows.data;
    const base = this.rows.base(slot);
    const { changedColumns, changedFrom } = this;
    for (let pass = 0; pass < 2; pass++) {
      for (let i = 0; i < this.changedCount; i++) {
        this.filing.forEachReader(changedColumns[i]!, data, base, this.collect);
      }
      // The row as it was for the second pass, as it is now after it.
      for (let i = 0; i < this.changedCount; i++) {
        const column = changedColumns[i]!;
        const now = data[base + column]!;
        data[base + column] = changedFrom[i]!;
        changedFrom[i] = now;
      }
    }
    const gained: S[] = [];
    const lost: S[] = [];
    for (let i = 0; i < this.toEvaluateCount; i++) {
      const sel = this.toEvaluate[i]!;
      this.toEvaluate[i] = undefined; // not to keep a deleted selector alive
      const was = sel.matches.has(slot);
      if (sel.matcher(data, base) === was) continue;
      if (was) {
        sel.matches.delete(slot);
        lost.push(sel.id);
      } else {
        sel.matches.add(slot, this.idsBySlot.length);
        gained.push(sel.id);
      }
    }
    if (gained.length === 0 && lost.length === 0) return NO_CHANGE;
    return { gained: gained.length === 0 ? NONE : gained, lost: lost.length === 0 ? NONE : lost };
  }

  private readonly collect = (sel: SelectorEntry<S>): void => {
    if (sel.seenInUpdate === this.updates) return;
    sel.seenInUpdate = this.updates;
    this.toEvaluate[this.toEvaluateCount++] = sel;
  };

  /** Removes an item; returns the selectors that matched it. */
  deleteItem(id: I): MatchDelta<S> {
    const slot = this.slots.get(id);
    if (slot === undefined) return NO_CHANGE;
    this.slots.delete(id);
    const matched = this.matchedSelectors(slot);
    const data = this.rows.data;
    const base = this.rows.base(slot);
    for (const column of this.columns.active) this.columns.values[column]!.moveItem(slot, data[base + column]!, ABSENT);
    this.idsBySlot[slot] = undefined;
    this.labelsBySlot[slot] = undefined;
    this.freeSlots.push(slot);
    if (matched.length === 0) return NO_CHANGE;
    for (const sel of matched) sel.matches.delete(slot);
    return { gained: NONE, lost: matched.map((sel) => sel.id) };
  }

  private addItem(id: I, labels: Labels): MatchDelta<S> {
    const slot = this.freeSlots.pop() ?? this.idsBySlot.length;
    this.rows.ensure(slot, 0);
    this.slots.set(id, slot);
    this.idsBySlot[slot] = id;
    this.labelsBySlot[slot] = labels;
    // A reused slot's row holds the last item's ids: every column is written, as if all were absent before.
    this.rows.clearRow(slot);
    this.writeRow(slot, labels);
    const gained: S[] = [];
    // A selector is filed under one key, and an item has one value per column: none comes up twice.
    const data = this.rows.data;
    const base = this.rows.base(slot);
    this.filing.forEachCandidate(data, base, this.columns.active, (sel) => {
      if (!sel.matcher(data, base)) return;
      sel.matches.add(slot, this.idsBySlot.length);
      gained.push(sel.id);
    });
    if (this.slots.size >= this.refileAt) {
      this.refileAt = this.slots.size * 2;
      this.rechooseKeys();
    }
    return gained.length === 0 ? NO_CHANGE : { gained, lost: NONE };
  }

  /**
   * Writes the item's values into its row and the columns' counts; notes the changed columns and their previous
   * ids, and returns true when there is one.
   */
  private writeRow(slot: number, labels: Labels): boolean {
    const { active, activeKeys, values } = this.columns;
    const data = this.rows.data;
    const base = this.rows.base(slot);
    const byColumn = this.rows.byColumn;
    const { changedColumns, changedFrom } = this;
    let count = 0;
    const map = labels instanceof Map ? labels : undefined;
    const record = labels as Readonly<Record<string, string>>;
    for (let i = 0; i < active.length; i++) {
      const column = active[i]!;
      const key = activeKeys[i]!;
      const value = map ? map.get(key) : Object.hasOwn(record, key) ? record[key] : undefined;
      const was = data[base + column]!;
      if (value === undefined) {
        if (was === ABSENT) continue;
      } else if (was !== ABSENT && values[column]!.valueOf(was) === value) {
        // Unchanged, the common case: no hashing of the value.
        continue;
      }
      const ids = values[column]!;
      const now = value === undefined ? ABSENT : ids.idOf(value);
      data[base + column] = now;
      byColumn[column]![slot] = now;
      ids.moveItem(slot, was, now);
      changedColumns[count] = column;
      changedFrom[count++] = was;
    }
    this.changedCount = count;
    return count > 0;
  }

  /** The slots of the items a newly filed selector matches, added to its own set. */
  private slotsMatching(sel: SelectorEntry<S>): number[] {
    const matched: number[] = [];
    const key = sel.key;
    if (key.kind === 'never') return matched;
    const { data, stride } = this.rows;
    const limit = this.idsBySlot.length;
    const consider = (slot: number) => {
      if (this.idsBySlot[slot] === undefined || !sel.matcher(data, slot * stride)) return;
      sel.matches.add(slot, limit);
      matched.push(slot);
    };
    if (key.kind === 'unfiled') {
      for (let slot = 0; slot < limit; slot++) consider(slot);
      return matched;
    }
    if (key.kind === 'label') {
      // Down the filing column: the items holding any value.
      const ids = this.rows.byColumn[key.column]!;
      for (let slot = 0; slot < limit; slot++) if (ids[slot] !== ABSENT) consider(slot);
      return matched;
    }
    // Only the items holding one of its values, in slot order as a column walk would give them.
    const values = this.columns.values[key.column]!;
    for (const id of key.ids) for (const slot of values.slotsWith(id)) consider(slot);
    return matched.length < 2 ? matched : matched.sort((a, b) => a - b);
  }

  /** The key's column, filled from every item's labels when it is new. */
  private retainColumn(key: string): number {
    const { column, created } = this.columns.retain(key);
    if (!created) return column;
    this.rows.ensure(Math.max(this.idsBySlot.length - 1, 0), column);
    const ids = this.columns.values[column]!;
    for (let slot = 0; slot < this.idsBySlot.length; slot++) {
      const labels = this.labelsBySlot[slot];
      const value = labels === undefined ? undefined : labelValue(labels, key);
      const id = value === undefined ? ABSENT : ids.idOf(value);
      this.rows.set(slot, column, id);
      ids.moveItem(slot, ABSENT, id);
    }
    return column;
  }

  /** What the selector requires, by column and value id; the ids are held, added to the matcher's. */
  private requiredColumns(
    node: SelectorNode,
    matcherHeld: readonly number[],
  ): { required: RequiredColumns; heldValues: readonly number[] } {
    const heldValues = [...matcherHeld];
    const required = new Map<number, ColumnConstraint>();
    for (const [label, constraint] of requiredLabels(node)) {
      const column = this.columns.columnOf(label)!;
      if (constraint === 'any') {
        required.set(column, 'any');
        continue;
      }
      const values = this.columns.values[column]!;
      const ids = [...constraint].map((value) => {
        const id = values.idOf(value);
        values.retainBySelector(id);
        heldValues.push(column, id);
        return id;
      });
      required.set(column, ids);
    }
    return { required, heldValues };
  }

  private readonly countItems = (column: number, constraint: ColumnConstraint): number => {
    const values = this.columns.values[column]!;
    if (constraint === 'any') return values.itemTotal;
    let n = 0;
    for (const id of constraint) n += values.itemCount(id);
    return n;
  };

  private chooseKey(required: RequiredColumns): FilingKey {
    return chooseFilingKey(required, this.countItems);
  }

  /** Per column read, the reader key where it is not the filing key. */
  private chooseReaderKeys(readColumns: readonly number[], required: RequiredColumns, key: FilingKey): ReaderKeys {
    let readerKeys: Map<number, FilingKey> | undefined;
    for (const read of readColumns) {
      const readerKey = chooseReaderKey(read, required, key, this.countItems);
      if (readerKey === key) continue;
      readerKeys ??= new Map();
      readerKeys.set(read, readerKey);
    }
    return readerKeys ?? NO_READER_KEYS;
  }

  /** Counts moved since the keys were chosen: re-file the selectors whose best keys are now others. */
  private rechooseKeys(): void {
    for (const sel of this.selectors.values()) {
      const key = this.chooseKey(sel.required);
      const readerKeys = this.chooseReaderKeys(sel.readColumns, sel.required, key);
      if (sameFilingKey(key, sel.key) && sameReaderKeys(readerKeys, sel.readerKeys)) continue;
      // Unfiled before filed, as the old and new keys may share reader buckets.
      this.filing.unfile(sel, sel.key, sel.readerKeys);
      this.filing.file(sel, key, readerKeys);
      sel.key = key;
      sel.readerKeys = readerKeys;
    }
  }

  /** Takes a selector out of the filing, the value ids and the columns it held. */
  private forget(sel: SelectorEntry<S>): void {
    this.filing.unfile(sel, sel.key, sel.readerKeys);
    for (let i = 0; i < sel.heldValues.length; i += 2) {
      this.columns.values[sel.heldValues[i]!]!.releaseBySelector(sel.heldValues[i + 1]!);
    }
    for (const key of sel.reads) this.columns.release(key);
  }
}

function sameReaderKeys(a: ReaderKeys, b: ReaderKeys): boolean {
  if (a.size !== b.size) return false;
  for (const [read, key] of a) {
    const other = b.get(read);
    if (other === undefined || !sameFilingKey(key, other)) return false;
  }
  return true;
}

function labelValue(labels: Labels, key: string): string | undefined {
  if (labels instanceof Map) return labels.get(key);
  const record = labels as Readonly<Record<string, string>>;
  return Object.hasOwn(record, key) ? record[key] : undefined;
}
