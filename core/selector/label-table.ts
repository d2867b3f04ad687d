// An item's labels as the index keeps them: keys and values side by side in one array. Pods carry a handful of
// labels, so a scan is as quick as hashing, and one small array is far fewer cache lines to fetch than a Map's
// table when an update reaches an item that has not been touched for a while.

import type { LabelLookup } from './evaluate.js';

export class LabelTable implements LabelLookup {
  /** key0, value0, key1, value1, … */
  private readonly entries: string[] = [];

  get size(): number {
    return this.entries.length >> 1;
  }

  get(key: string): string | undefined {
    const i = this.indexOf(key, 0);
    return i < 0 ? undefined : this.entries[2 * i + 1];
  }

  has(key: string): boolean {
    return this.indexOf(key, 0) >= 0;
  }

  /** The position of the key, looking from `from` on first and then from the start; -1 when absent. */
  indexOf(key: string, from: number): number {
    const e = this.entries;
    const n = e.length >> 1;
    for (let i = from; i < n; i++) if (e[2 * i] === key) return i;
    for (let i = 0; i < from && i < n; i++) if (e[2 * i] === key) return i;
    return -1;
  }

  valueAt(i: number): string {
    return this.entries[2 * i + 1]!;
  }

  set(key: string, value: string): void {
    const i = this.indexOf(key, 0);
    if (i >= 0) this.entries[2 * i + 1] = value;
    else this.entries.push(key, value);
  }

  delete(key: string): void {
    const i = this.indexOf(key, 0);
    if (i < 0) return;
    this.entries.splice(2 * i, 2);
  }

  forEach(visit: (value: string, key: string) => void): void {
    const e = this.entries;
    for (let i = 0; i < e.length; i += 2) visit(e[i + 1]!, e[i]!);
  }

  *[Symbol.iterator](): IterableIterator<[string, string]> {
    const e = this.entries;
    for (let i = 0; i < e.length; i += 2) yield [e[i]!, e[i + 1]!];
  }
}
