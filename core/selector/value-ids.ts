// One label key's values as small integers (1, 2, …; 0 means absent), so that an item's labels fit in a row of
// integers (item-rows.ts) and comparing a value is comparing two numbers.
//
// An id lives while an item holds its value or a selector names it (`app == 'x'` needs an id for 'x' before any item
// has it) and is then reused, so values that come and go (a pod-template-hash, if some selector reads it) do not
// pile up.
//
// Each id also lists the slots of the items holding it, so that a new selector filed under `app == 'x'` visits the
// items with app=x only, instead of walking the whole column (1k policies arriving after 100k pods: a walk of
// 100k slots per selector).

export const ABSENT = 0;

const NO_SLOTS: readonly number[] = [];

export class ValueIds {
  private readonly ids = new Map<string, number>();
  /** By id; index 0 (absent) unused. */
  private readonly values: (string | undefined)[] = [undefined];
  /** By id, the slots of the items holding the value, in no order; their count is what filing keys are chosen by. */
  private readonly slots: (number[] | undefined)[] = [undefined];
  /** By slot, where it sits in the list of the value it holds. */
  private readonly positions: number[] = [];
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
    this.slots[id] = undefined;
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
    return this.slots[id]?.length ?? 0;
  }

  /** The slots of the items holding the value (do not keep: the list changes with the items). */
  slotsWith(id: number): readonly number[] {
    return this.slots[id] ?? NO_SLOTS;
  }

  /** The item in `slot` took (`now`) or gave up (`was`) a value; either may be ABSENT. */
  moveItem(slot: number, was: number, now: number): void {
    if (was !== ABSENT) {
      const list = this.slots[was]!;
      const at = this.positions[slot]!;
      const last = list.pop()!;
      if (last !== slot) {
        list[at] = last;
        this.positions[last] = at;
      }
      this.holders--;
      this.freeIfUnused(was);
    }
    if (now !== ABSENT) {
      let list = this.slots[now];
      if (list === undefined) {
        list = [];
        this.slots[now] = list;
      }
      this.positions[slot] = list.length;
      list.push(slot);
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
    if (this.itemCount(id) !== 0 || this.selectorRefs[id] !== 0) return;
    this.ids.delete(this.values[id]!);
    this.values[id] = undefined;
    this.freeIds.push(id);
  }
}
