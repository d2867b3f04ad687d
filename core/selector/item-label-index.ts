// What the selector index keeps about items, per label key, and only for the keys selectors use:
//  - value counts for keys that some selector requires (to choose where to file a selector);
//  - items by value for keys that some selector is filed under (to find the items a new selector can match).
// Both are reference-counted by the selectors that use them and built by one scan of the items on first use, so a
// label no selector mentions costs nothing when it changes.

import type { LabelLookup } from './evaluate.js';
import type { ValueConstraint } from './restrictions.js';
import { setIn } from './set-map.js';

export interface LabelledItem {
  readonly labels: LabelLookup;
}

export class ItemLabelIndex<T extends LabelledItem> {
  private readonly countRefs = new Map<string, number>();
  private readonly valueCounts = new Map<string, Map<string, number>>();
  private readonly labelCounts = new Map<string, number>();
  private readonly itemRefs = new Map<string, number>();
  private readonly itemsByValue = new Map<string, Map<string, Set<T>>>();

  /** `items` lists every item now; it is read when a key is first used. */
  constructor(private readonly items: () => Iterable<T>) {}

  retainCounts(label: string): void {
    if (retain(this.countRefs, label) > 1) return;
    const counts = new Map<string, number>();
    let total = 0;
    for (const item of this.items()) {
      const v = item.labels.get(label);
      if (v === undefined) continue;
      counts.set(v, (counts.get(v) ?? 0) + 1);
      total++;
    }
    this.valueCounts.set(label, counts);
    this.labelCounts.set(label, total);
  }

  releaseCounts(label: string): void {
    if (release(this.countRefs, label) > 0) return;
    this.valueCounts.delete(label);
    this.labelCounts.delete(label);
  }

  retainItems(label: string): void {
    if (retain(this.itemRefs, label) > 1) return;
    const byValue = new Map<string, Set<T>>();
    for (const item of this.items()) {
      const v = item.labels.get(label);
      if (v !== undefined) setIn(byValue, v).add(item);
    }
    this.itemsByValue.set(label, byValue);
  }

  releaseItems(label: string): void {
    if (release(this.itemRefs, label) === 0) this.itemsByValue.delete(label);
  }

  /** How many items satisfy the constraint (the key's counts must be retained). */
  countMatching(label: string, constraint: ValueConstraint): number {
    if (constraint === 'any') return this.labelCounts.get(label) ?? 0;
    const counts = this.valueCounts.get(label);
    let n = 0;
    for (const v of constraint) n += counts?.get(v) ?? 0;
    return n;
  }

  /** Visits the items that satisfy the constraint (the key's items must be retained). */
  forEachMatching(label: string, constraint: ValueConstraint, visit: (item: T) => void): void {
    const byValue = this.itemsByValue.get(label);
    if (!byValue) return;
    if (constraint === 'any') {
      for (const bucket of byValue.values()) bucket.forEach(visit);
    } else {
      for (const v of constraint) byValue.get(v)?.forEach(visit);
    }
  }

  /** One label of an item went from `was` to `now` (undefined: absent). */
  labelChanged(item: T, label: string, was: string | undefined, now: string | undefined): void {
    const counts = this.valueCounts.get(label);
    if (counts) {
      if (was !== undefined) decrement(counts, was);
      if (now !== undefined) counts.set(now, (counts.get(now) ?? 0) + 1);
      const delta = (now === undefined ? 0 : 1) - (was === undefined ? 0 : 1);
      if (delta !== 0) this.labelCounts.set(label, (this.labelCounts.get(label) ?? 0) + delta);
    }
    const byValue = this.itemsByValue.get(label);
    if (byValue) {
      if (was !== undefined) {
        const bucket = byValue.get(was);
        bucket?.delete(item);
        if (bucket?.size === 0) byValue.delete(was);
      }
      if (now !== undefined) setIn(byValue, now).add(item);
    }
  }
}

function retain(refs: Map<string, number>, key: string): number {
  const n = (refs.get(key) ?? 0) + 1;
  refs.set(key, n);
  return n;
}

function release(refs: Map<string, number>, key: string): number {
  const n = (refs.get(key) ?? 0) - 1;
  if (n > 0) refs.set(key, n);
  else refs.delete(key);
  return Math.max(n, 0);
}

function decrement(counts: Map<string, number>, key: string): void {
  const n = (counts.get(key) ?? 0) - 1;
  if (n <= 0) counts.delete(key);
  else counts.set(key, n);
}
