import { randomInt } from 'node:crypto';

/** Values kept under one hash; past it, a new value of that hash is not shared. */
export const MAX_BUCKET = 8;

/**
 * One shared, frozen copy of equal immutable values (label maps, port lists): the pods of a Deployment carry
 * the same labels and ports, and holding them once is most of what a slim object can still save. Lookups go by
 * a hash and an equality, so that finding the shared copy builds no key string. Entries are weak: a value that
 * no object holds any more is collected, and a sweep drops the dead entries once as many values were added
 * since the last one as the table holds (amortised O(1); cheaper per entry than a FinalizationRegistry cell,
 * which matters because some values, such as a StatefulSet pod's labels, are unique).
 */
export class InternTable<T extends object> {
  private readonly buckets = new Map<number, WeakRef<T> | WeakRef<T>[]>();
  private addedSinceSweep = 0;

  constructor(
    private readonly hash: (v: T) => number,
    private readonly equal: (a: T, b: T) => boolean,
  ) {}

  /**
   * The shared copy equal to `value`; when there is none, `adopt(value)` becomes it (frozen). `adopt` may
   * return `value` itself or a cleaned-up copy, equal to it.
   */
  intern(value: T, adopt: (v: T) => T = (v) => v): T {
    const h = this.hash(value);
    let bucket = this.buckets.get(h);
    const found = bucket === undefined ? undefined : this.find(bucket, value);
    if (found !== undefined) return found;
    const shared = Object.freeze(adopt(value));
    if (Array.isArray(bucket) && bucket.length >= MAX_BUCKET) {
      // Values built to collide (remote labels are anyone's to choose) would make every lookup a walk of all of
      // them: a full bucket keeps its live values and takes no more; the others stay unshared, costing memory only.
      bucket = bucket.filter((r) => r.deref() !== undefined);
      this.buckets.set(h, bucket);
      if (bucket.length >= MAX_BUCKET) return shared;
    }
    const ref = new WeakRef(shared);
    if (bucket === undefined) this.buckets.set(h, ref);
    else if (Array.isArray(bucket)) bucket.push(ref);
    else this.buckets.set(h, [bucket, ref]);
    if (++this.addedSinceSweep > Math.max(1024, this.buckets.size)) this.sweep();
    return shared;
  }

  /** Hashes with an entry (live, or dead and awaiting a sweep). */
  get size(): number {
    return this.buckets.size;
  }

  private find(bucket: WeakRef<T> | WeakRef<T>[], value: T): T | undefined {
    if (!Array.isArray(bucket)) {
      const held = bucket.deref();
      return held !== undefined && this.equal(held, value) ? held : undefined;
    }
    for (const ref of bucket) {
      const held = ref.deref();
      if (held !== undefined && this.equal(held, value)) return held;
    }
    return undefined;
  }

  /** Drops the entries whose values were collected. */
  sweep(): void {
    this.addedSinceSweep = 0;
    for (const [h, bucket] of this.buckets) {
      if (!Array.isArray(bucket)) {
        if (bucket.deref() === undefined) this.buckets.delete(h);
        continue;
      }
      const live = bucket.filter((r) => r.deref() !== undefined);
      if (live.length === 0) this.buckets.delete(h);
      else if (live.length < bucket.length) this.buckets.set(h, live.length === 1 && live[0] ? live[0] : live);
    }
  }
}

/** FNV-1a over a string's UTF-16 code units, continuing from `h`. */
export function hashString(h: number, s: string): number {
  let x = h;
  for (let i = 0; i < s.length; i++) x = Math.imul(x ^ s.charCodeAt(i), 0x01000193);
  // A separator, so that ('ab','c') and ('a','bc') hash apart.
  return Math.imul(x ^ 0xff, 0x01000193);
}

/**
 * FNV-1a's offset basis, mixed with a number drawn at start: collisions searched for offline (remote label values
 * are anyone's to choose) do not carry over to a running process.
 */
export const hashSeed = (0x811c9dc5 ^ randomInt(0, 2 ** 32 - 1)) >>> 0;
