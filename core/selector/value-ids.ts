// One label key's values as small integers (1, 2, …; 0 means absent), so that an item's labels fit in a row of
// integers (item-rows.ts) and comparing a value is comparing two numbers.
//
// An id lives while an item holds its value or a selector names it (`app == 'x'` needs an id for 'x' before any item
// has it) and is then reused, so values that come and go (a pod-template-hash, if some selector reads it) do not
// pile up.

export const ABSENT = 0;

export class ValueIds {
  private readonly ids = new Map<string, number>();
  /** By id; index 0 (absent) unused. */
  private readonly values: (string | undefined)[] = [undefined];
  /** Items holding each value: what filing keys are chosen by. */
  private readonly items: number[] = [0];
  private readonly selectorRefs: number[] = [0];
  private readonly freeIds: number[] = [];
  private holders = 0;

  /** Items holding any value of this key. */
  get itemTotal(): number {
    return this.holders;
  }

  /** The value's id, given one if it has none; a new id stays only once an item or a selector holds it. */
  idOf(value: string): number {
    const known = this.ids.get(value);
    if (known !== undefined) return known;
    const id = this.freeIds.pop() ?? this.values.length;
    this.ids.set(value, id);
    this.values[id] = value;
    this.items[id] = 0;
    this.selectorRefs[id] = 0;
    return id;
  }

  /** The value's id, or ABSENT when no item or selector holds it. */
  peek(value: string): number {
    return this.ids.get(value) ?? ABSENT;
  }

  valueOf(id: number): string {
    return this.values[id]!;
  }

  itemCount(id: number): number {
    return this.items[id] ?? 0;
  }

  /** An item took (`now`) or gave up (`was`) a value; either may be ABSENT. */
  moveItem(was: number, now: number): void {
    if (was !== ABSENT) {
      this.items[was]!--;
      this.holders--;
      this.freeIfUnused(was);
    }
    if (now !== ABSENT) {
      this.items[now]!++;
      this.holders++;
    }
  }

  retainBySelector(id: number): void {
    this.selectorRefs[id]!++;
  }

  releaseBySelector(id: number): void {
    this.selectorRefs[id]!--;
    this.freeIfUnused(id);
  }

  /** Ids in use (for tests and statistics). */
  get size(): number {
    return this.ids.size;
  }

  private freeIfUnused(id: number): void {
    if (this.items[id] !== 0 || this.selectorRefs[id] !== 0) return;
    this.ids.delete(this.values[id]!);
    this.values[id] = undefined;
    this.freeIds.push(id);
  }
}
