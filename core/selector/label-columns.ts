// Which label keys the index keeps as columns: those some selector reads, counted by the selectors reading them.
// A key no selector reads has no column, so its changes (a pod-template-hash) cost nothing but being skipped. A
// column whose last reader left is reused for the next new key, with fresh value ids.

import { ValueIds } from './value-ids.js';

export class LabelColumns {
  private readonly byKey = new Map<string, number>();
  private readonly readers: number[] = [];
  private readonly freeColumns: number[] = [];
  /** By column: the key, and its values' ids; undefined for a column not in use. */
  readonly keys: (string | undefined)[] = [];
  readonly values: (ValueIds | undefined)[] = [];
  /** The columns in use and their keys, side by side: what an update reads from a label map. */
  active: number[] = [];
  activeKeys: string[] = [];

  columnOf(key: string): number | undefined {
    return this.byKey.get(key);
  }

  /** Counts one more reader of the key; `created` when its column is new (the caller then fills it). */
  retain(key: string): { readonly column: number; readonly created: boolean } {
    const known = this.byKey.get(key);
    if (known !== undefined) {
      this.readers[known]!++;
      return { column: known, created: false };
    }
    const column = this.freeColumns.pop() ?? this.keys.length;
    this.byKey.set(key, column);
    this.keys[column] = key;
    this.values[column] = new ValueIds();
    this.readers[column] = 1;
    this.refreshActive();
    return { column, created: true };
  }

  release(key: string): void {
    const column = this.byKey.get(key);
    if (column === undefined || --this.readers[column]! > 0) return;
    this.byKey.delete(key);
    this.keys[column] = undefined;
    this.values[column] = undefined;
    this.freeColumns.push(column);
    this.refreshActive();
  }

  private refreshActive(): void {
    this.active = [];
    this.activeKeys = [];
    this.keys.forEach((key, column) => {
      if (key === undefined) return;
      this.active.push(column);
      this.activeKeys.push(key);
    });
  }
}
