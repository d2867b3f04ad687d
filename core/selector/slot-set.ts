// A set of small non-negative integers (the index's item slots): a Set while small, a bitmap once the bitmap is the
// smaller of the two. A broad selector (`all()`, `env != 'prod'`) matches most items, and a bitmap holds those in
// one bit each, adds and removes them without hashing, and never rehashes under churn.

/** Bytes a Set spends per member, roughly (V8's ordered hash tables: buckets, entries, chains). */
const SET_BYTES_PER_MEMBER = 24;

export class SlotSet {
  private small: Set<number> | undefined = new Set();
  private bits: Uint32Array | undefined;
  private count = 0;

  get size(): number {
    return this.count;
  }

  has(slot: number): boolean {
    if (this.small) return this.small.has(slot);
    const word = slot >>> 5;
    return word < this.bits!.length && (this.bits![word]! & (1 << (slot & 31))) !== 0;
  }

  /** Adds the slot; `slotLimit` is one past the highest slot in use anywhere (to size a bitmap). */
  add(slot: number, slotLimit: number): void {
    if (this.small) {
      if (this.small.has(slot)) return;
      this.small.add(slot);
      this.count++;
      if (this.count * SET_BYTES_PER_MEMBER > slotLimit / 8 + 64) this.toBitmap(slotLimit);
      return;
    }
    let bits = this.bits!;
    const word = slot >>> 5;
    if (word >= bits.length) bits = this.grow(word);
    const mask = 1 << (slot & 31);
    if ((bits[word]! & mask) === 0) {
      bits[word] = bits[word]! | mask;
      this.count++;
    }
  }

  delete(slot: number): void {
    if (this.small) {
      if (this.small.delete(slot)) this.count--;
      return;
    }
    const bits = this.bits!;
    const word = slot >>> 5;
    const mask = 1 << (slot & 31);
    if (word < bits.length && (bits[word]! & mask) !== 0) {
      bits[word] = bits[word]! & ~mask;
      this.count--;
      // Back to a Set well below the switch point, so that a set hovering at it does not flip back and forth.
      if (this.count * SET_BYTES_PER_MEMBER * 4 < bits.length * 4) this.toSmall();
    }
  }

  forEach(visit: (slot: number) => void): void {
    if (this.small) {
      this.small.forEach(visit);
      return;
    }
    const bits = this.bits!;
    for (let word = 0; word < bits.length; word++) {
      let w = bits[word]!;
      while (w !== 0) {
        const low = w & -w;
        visit(word * 32 + (31 - Math.clz32(low)));
        w ^= low;
      }
    }
  }

  private toBitmap(slotLimit: number): void {
    let limit = slotLimit;
    for (const slot of this.small!) limit = Math.max(limit, slot + 1);
    const bits = new Uint32Array(Math.max(1, Math.ceil(limit / 32)));
    for (const slot of this.small!) bits[slot >>> 5] = bits[slot >>> 5]! | (1 << (slot & 31));
    this.bits = bits;
    this.small = undefined;
  }

  private toSmall(): void {
    const small = new Set<number>();
    this.forEach((slot) => {
      small.add(slot);
    });
    this.small = small;
    this.bits = undefined;
  }

  private grow(word: number): Uint32Array {
    const bits = new Uint32Array(Math.max(word + 1, this.bits!.length * 2));
    bits.set(this.bits!);
    this.bits = bits;
    return bits;
  }
}
