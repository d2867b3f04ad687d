// An incremental index of selectors against labelled items (endpoints): which items each selector matches, kept
// current under add, update and delete of either side, reporting only what changed.
//
// An item update touches only the selectors that can be affected:
//  - those that matched it before and read a changed key (a selector's result depends only on keys it reads);
//  - those that read a changed key and whose filing key the item now passes (selector-filing.ts): e.g. after
//    `app: web → db`, only selectors filed under app=db (or under a label the item has, or unfiled) and reading
//    app are evaluated.
// A new item is matched against the selectors filed under its label/value pairs and the unfiled ones; a new
// selector against the items behind its filing key (item-label-index.ts).

import { referencedLabels, type SelectorNode } from './ast.js';
import { canonicalSelector } from './canonical.js';
import type { Labels, Matcher } from './evaluate.js';
import { matcherFor } from './evaluate.js';
import { ItemLabelIndex } from './item-label-index.js';
import { LabelBits, readsAnyOf } from './label-bits.js';
import { LabelTable } from './label-table.js';
import { type RequiredLabels, requiredLabels } from './restrictions.js';
import {
  chooseFilingKey,
  chooseReaderKey,
  type FilingKey,
  type ReaderKeys,
  SelectorFiling,
  sameFilingKey,
} from './selector-filing.js';
import { SlotSet } from './slot-set.js';

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
  readonly matcher: Matcher;
  readonly reads: ReadonlySet<string>;
  /** `reads` as label bits, so that "reads a changed key?" is mostly one AND. */
  readonly readBits: number;
  readonly required: RequiredLabels;
  key: FilingKey;
  /** Where it is filed as a reader of a key, where that differs from `key` (selector-filing.ts chooseReaderKey). */
  readerKeys: ReaderKeys;
  /** The slots of the items it matches. */
  readonly matches: SlotSet;
  /** The update that last looked at it, so that one update evaluates it once. */
  seenInUpdate: number;
}

/**
 * An indexed item is its own label table (owned by the index, updated in place): an update to an item not touched
 * for a while waits on memory for every object it reaches, so the item keeps to few objects.
 */
class ItemEntry<S, I> extends LabelTable {
  /**
   * The selectors matching it and their readBits, as pairs [sel0, bits0, sel1, bits1, …]: few per item, so an array
   * (cheaper than a Set to add to, small enough to search), and one array rather than two, so that an update skips
   * the ones reading no changed key with one fetch.
   */
  readonly matched: (SelectorEntry<S> | number)[] = [];

  constructor(
    readonly id: I,
    /** A small integer of its own while it is indexed, reused after it leaves: the selectors' match sets hold these. */
    readonly slot: number,
  ) {
    super();
  }

  /** For ItemLabelIndex. */
  get labels(): LabelTable {
    return this;
  }

  get matchCount(): number {
    return this.matched.length >> 1;
  }

  selectorAt(i: number): SelectorEntry<S> {
    return this.matched[2 * i] as SelectorEntry<S>;
  }
}

export class SelectorIndex<S, I> {
  private readonly selectors = new Map<S, SelectorEntry<S>>();
  private readonly items = new Map<I, ItemEntry<S, I>>();
  private readonly itemsBySlot: (ItemEntry<S, I> | undefined)[] = [];
  private readonly freeSlots: number[] = [];
  private readonly filing = new SelectorFiling<SelectorEntry<S>>();
  private readonly itemLabels = new ItemLabelIndex<ItemEntry<S, I>>(() => this.items.values());
  private readonly labelBits = new LabelBits();
  private refileAt: number;
  private updates = 0;

  // The update in progress (one at a time; nothing in here calls out): changed keys, old and new values
  // (undefined: absent), the keys' bits, the item, and what it gained and lost.
  private readonly changedKeys: string[] = [];
  private readonly changedFrom: (string | undefined)[] = [];
  private readonly changedTo: (string | undefined)[] = [];
  private changedBits = 0;
  private updating: ItemEntry<S, I> | undefined;
  private readonly gained: S[] = [];
  private readonly lost: S[] = [];

  constructor(options: SelectorIndexOptions = {}) {
    this.refileAt = options.firstRefileAt ?? 64;
  }

  get selectorCount(): number {
    return this.selectors.size;
  }

  get itemCount(): number {
    return this.items.size;
  }

  /** Ids of the items the selector matches now (empty for an unknown selector). */
  matchingItems(selector: S): I[] {
    const ids: I[] = [];
    this.selectors.get(selector)?.matches.forEach((slot) => {
      ids.push(this.itemAt(slot).id);
    });
    return ids;
  }

  /** Ids of the selectors that match the item now. */
  selectorsMatching(item: I): S[] {
    const entry = this.items.get(item);
    const ids: S[] = [];
    if (entry) for (let i = 0; i < entry.matchCount; i++) ids.push(entry.selectorAt(i).id);
    return ids;
  }

  /**
   * Adds or replaces a selector; returns the items it gained and lost. Replacing it with an equal selector (same
   * canonical form) changes nothing.
   */
  setSelector(id: S, node: SelectorNode): MatchDelta<I> {
    const canonical = canonicalSelector(node);
    const old = this.selectors.get(id);
    if (old?.canonical === canonical) return NO_CHANGE;
    const required = requiredLabels(node);
    for (const label of required.keys()) this.itemLabels.retainCounts(label);
    const reads = referencedLabels(node);
    const key = this.chooseKey(required);
    const entry: SelectorEntry<S> = {
      id,
      canonical,
      matcher: matcherFor(node),
      reads,
      readBits: this.labelBits.maskOf(reads),
      required,
      key,
      readerKeys: this.chooseReaderKeys(reads, required, key),
      matches: new SlotSet(),
      seenInUpdate: 0,
    };
    this.fileSelector(entry, entry.key, entry.readerKeys);
    const matched = this.itemsMatching(entry);
    this.selectors.set(id, entry);

    const lost: I[] = [];
    if (old) {
      this.forget(old);
      old.matches.forEach((slot) => {
        if (!entry.matches.has(slot)) lost.push(this.itemAt(slot).id);
      });
    }
    const gained: I[] = [];
    for (const item of matched) {
      addMatchedBy(item, entry);
      if (!old?.matches.has(item.slot)) gained.push(item.id);
    }
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
   * Adds or relabels an item; returns the selectors that started and stopped matching it. The labels are copied:
   * the caller may reuse its object.
   */
  setItem(id: I, labels: Labels): MatchDelta<S> {
    const item = this.items.get(id);
    if (!item) return this.addItem(id, labels);
    if (!this.diffLabels(item, labels)) return NO_CHANGE;
    this.applyChanges(item);
    // No selector reads a changed key (a pod-template-hash, say): no result can change.
    if (this.changedBits === 0) return NO_CHANGE;

    this.updates++;
    this.updating = item;
    this.gained.length = 0;
    this.lost.length = 0;
    this.dropLostMatches(item);
    for (const key of this.changedKeys) this.filing.forEachReader(key, item, this.visitReader);
    this.updating = undefined;
    if (this.gained.length === 0 && this.lost.length === 0) return NO_CHANGE;
    return { gained: copyOrNone(this.gained), lost: copyOrNone(this.lost) };
  }

  /** A selector that reads a changed key of the item being updated and that the item passes the filing of. */
  private readonly visitReader = (sel: SelectorEntry<S>): void => {
    if (sel.seenInUpdate === this.updates) return;
    sel.seenInUpdate = this.updates;
    const item = this.updating!;
    if (sel.matcher(item)) this.recordMatch(sel, item, this.gained);
  };

  /** Removes an item; returns the selectors that matched it. */
  deleteItem(id: I): MatchDelta<S> {
    const item = this.items.get(id);
    if (!item) return NO_CHANGE;
    this.items.delete(id);
    this.itemsBySlot[item.slot] = undefined;
    this.freeSlots.push(item.slot);
    for (const [label, value] of item) this.itemLabels.labelChanged(item, label, value, undefined);
    if (item.matchCount === 0) return NO_CHANGE;
    const lost: S[] = [];
    for (let i = 0; i < item.matchCount; i++) {
      const sel = item.selectorAt(i);
      sel.matches.delete(item.slot);
      lost.push(sel.id);
    }
    return { gained: NONE, lost };
  }

  private addItem(id: I, labels: Labels): MatchDelta<S> {
    const slot = this.freeSlots.pop() ?? this.itemsBySlot.length;
    const item = new ItemEntry<S, I>(id, slot);
    copyLabels(labels, item);
    this.items.set(id, item);
    this.itemsBySlot[slot] = item;
    for (const [label, value] of item) this.itemLabels.labelChanged(item, label, undefined, value);
    const gained: S[] = [];
    // A selector is filed under one key, and an item has one value per label: none comes up twice.
    this.filing.forEachCandidate(item, (sel) => {
      if (sel.matcher(item)) this.recordMatch(sel, item, gained);
    });
    if (this.items.size >= this.refileAt) {
      this.refileAt = this.items.size * 2;
      this.rechooseKeys();
    }
    return gained.length === 0 ? NO_CHANGE : { gained, lost: NONE };
  }

  private itemAt(slot: number): ItemEntry<S, I> {
    return this.itemsBySlot[slot]!;
  }

  private recordMatch(sel: SelectorEntry<S>, item: ItemEntry<S, I>, gained: S[]): void {
    sel.matches.add(item.slot, this.itemsBySlot.length);
    addMatchedBy(item, sel);
    gained.push(sel.id);
  }

  /** Fills the changed-key scratch with the keys whose value differs; true when there is one. */
  private diffLabels(current: LabelTable, next: Labels): boolean {
    this.changedKeys.length = 0;
    this.changedFrom.length = 0;
    this.changedTo.length = 0;
    this.changedBits = 0;
    let shared = 0;
    // Keys usually come in the same order as last time: `at` is where the next one should be in the table.
    let at = 0;
    const consider = (key: string, value: string | undefined) => {
      const i = current.indexOf(key, at);
      at = i + 1;
      shared += this.noteChange(key, i < 0 ? undefined : current.valueAt(i), value);
    };
    if (next instanceof Map) {
      for (const [key, value] of next) consider(key, value);
    } else {
      const record = next as Readonly<Record<string, string>>;
      // for-in reads through V8's enum cache, much faster than Object.keys here; the guard keeps it to own keys.
      for (const key in record) if (Object.hasOwn(record, key)) consider(key, record[key]);
    }
    if (shared < current.size) {
      current.forEach((value, key) => {
        if (!hasLabel(next, key)) this.noteChange(key, value, undefined);
      });
    }
    return this.changedKeys.length > 0;
  }

  /** Notes one key if its value changed; returns 1 when it was present before (to count shared keys). */
  private noteChange(key: string, was: string | undefined, now: string | undefined): number {
    if (was !== now) {
      this.changedKeys.push(key);
      this.changedFrom.push(was);
      this.changedTo.push(now);
      this.changedBits |= this.labelBits.bitOf(key);
    }
    return was === undefined ? 0 : 1;
  }

  /** Writes the noted changes into the item's own map and its label index entries. */
  private applyChanges(item: ItemEntry<S, I>): void {
    for (let i = 0; i < this.changedKeys.length; i++) {
      const key = this.changedKeys[i]!;
      const now = this.changedTo[i];
      if (now === undefined) item.delete(key);
      else item.set(key, now);
      this.itemLabels.labelChanged(item, key, this.changedFrom[i], now);
    }
  }

  /** Re-evaluates what matched the item, where a changed key is read; notes the ids that stopped matching. */
  private dropLostMatches(item: ItemEntry<S, I>): void {
    const matched = item.matched;
    for (let i = 0; i < matched.length; ) {
      if (((matched[i + 1] as number) & this.changedBits) === 0) {
        i += 2;
        continue;
      }
      const sel = matched[i] as SelectorEntry<S>;
      sel.seenInUpdate = this.updates;
      if (readsAnyOf(sel.readBits, sel.reads, this.changedBits, this.changedKeys) && !sel.matcher(item)) {
        sel.matches.delete(item.slot);
        this.lost.push(sel.id);
        removeMatchedAt(item, i >> 1);
      } else {
        i += 2;
      }
    }
  }

  /** The items a newly filed selector matches, added to its own set. */
  private itemsMatching(sel: SelectorEntry<S>): ItemEntry<S, I>[] {
    const matched: ItemEntry<S, I>[] = [];
    const visit = (item: ItemEntry<S, I>) => {
      if (sel.matcher(item)) {
        sel.matches.add(item.slot, this.itemsBySlot.length);
        matched.push(item);
      }
    };
    const key = sel.key;
    if (key.kind === 'unfiled') this.items.forEach(visit);
    else if (key.kind === 'values') this.itemLabels.forEachMatching(key.label, key.values, visit);
    else if (key.kind === 'label') this.itemLabels.forEachMatching(key.label, 'any', visit);
    return matched;
  }

  private chooseKey(required: RequiredLabels): FilingKey {
    return chooseFilingKey(required, (label, constraint) => this.itemLabels.countMatching(label, constraint));
  }

  /** Per key read, the reader key where it is not the filing key. */
  private chooseReaderKeys(reads: ReadonlySet<string>, required: RequiredLabels, key: FilingKey): ReaderKeys {
    let readerKeys: Map<string, FilingKey> | undefined;
    for (const read of reads) {
      const readerKey = chooseReaderKey(read, required, key, (label, constraint) =>
        this.itemLabels.countMatching(label, constraint),
      );
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
      const readerKeys = this.chooseReaderKeys(sel.reads, sel.required, key);
      if (sameFilingKey(key, sel.key) && sameReaderKeys(readerKeys, sel.readerKeys)) continue;
      // Retained before the old key is released, so that a label both use keeps its items index; unfiled before
      // filed, as the old and new keys may share reader buckets (filing first would then lose the selector there).
      this.retainKeyItems(key);
      this.unfileSelector(sel, sel.key, sel.readerKeys);
      this.filing.file(sel, key, readerKeys);
      sel.key = key;
      sel.readerKeys = readerKeys;
    }
  }

  private fileSelector(sel: SelectorEntry<S>, key: FilingKey, readerKeys: ReaderKeys): void {
    this.retainKeyItems(key);
    this.filing.file(sel, key, readerKeys);
  }

  private retainKeyItems(key: FilingKey): void {
    if (key.kind === 'values' || key.kind === 'label') this.itemLabels.retainItems(key.label);
  }

  private unfileSelector(sel: SelectorEntry<S>, key: FilingKey, readerKeys: ReaderKeys): void {
    this.filing.unfile(sel, key, readerKeys);
    if (key.kind === 'values' || key.kind === 'label') this.itemLabels.releaseItems(key.label);
  }

  /** Takes a selector out of the filing, the label statistics and its items' lists. */
  private forget(sel: SelectorEntry<S>): void {
    this.unfileSelector(sel, sel.key, sel.readerKeys);
    for (const label of sel.required.keys()) this.itemLabels.releaseCounts(label);
    sel.matches.forEach((slot) => {
      const item = this.itemAt(slot);
      removeMatchedAt(item, item.matched.indexOf(sel) >> 1);
    });
  }
}

const NO_READER_KEYS: ReaderKeys = new Map();

function sameReaderKeys(a: ReaderKeys, b: ReaderKeys): boolean {
  if (a.size !== b.size) return false;
  for (const [read, key] of a) {
    const other = b.get(read);
    if (other === undefined || !sameFilingKey(key, other)) return false;
  }
  return true;
}

function addMatchedBy<S>(item: ItemEntry<S, unknown>, sel: SelectorEntry<S>): void {
  item.matched.push(sel, sel.readBits);
}

/** Swap-remove of the i-th pair: the order of an item's selectors means nothing. */
function removeMatchedAt(item: ItemEntry<unknown, unknown>, i: number): void {
  const m = item.matched;
  const last = m.length - 2;
  m[2 * i] = m[last]!;
  m[2 * i + 1] = m[last + 1]!;
  m.length = last;
}

/** A copy for the caller, or the shared empty array. */
function copyOrNone<T>(xs: readonly T[]): readonly T[] {
  return xs.length === 0 ? NONE : xs.slice();
}

function hasLabel(labels: Labels, key: string): boolean {
  return labels instanceof Map ? labels.has(key) : Object.hasOwn(labels, key);
}

function copyLabels(labels: Labels, copy: LabelTable): void {
  if (labels instanceof Map) {
    for (const [key, value] of labels) copy.set(key, value);
  } else {
    const record = labels as Readonly<Record<string, string>>;
    for (const key of Object.keys(record)) copy.set(key, record[key]!);
  }
}
