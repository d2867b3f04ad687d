/**
 * The last `capacity` events, by consecutive revision: what lets a watch resume from a recent revision, and
 * tells it when that revision is too old (the API server answers 410 Expired).
 */
export class EventHistory<E extends { readonly revision: number }> {
  private readonly ring: (E | undefined)[];
  private start = 0;
  private size = 0;

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError('capacity must be a positive integer');
    this.ring = new Array<E | undefined>(capacity);
  }

  /** Events must arrive with revisions increasing by one. */
  push(ev: E): void {
    const last = this.latest;
    if (last !== undefined && ev.revision !== last + 1) {
      throw new Error(`event revision ${ev.revision} does not follow ${last}`);
    }
    if (this.size < this.capacity) {
      this.ring[(this.start + this.size) % this.capacity] = ev;
      this.size++;
    } else {
      this.ring[this.start] = ev;
      this.start = (this.start + 1) % this.capacity;
    }
  }

  get latest(): number | undefined {
    return this.size === 0 ? undefined : this.ring[(this.start + this.size - 1) % this.capacity]?.revision;
  }

  /** The oldest revision still held, undefined when empty. */
  get oldest(): number | undefined {
    return this.size === 0 ? undefined : this.ring[this.start]?.revision;
  }

  /**
   * The events after `revision`, or undefined when some of them are gone. `current` is the store's revision:
   * resuming from it (or an empty history at it) gives no events.
   */
  since(revision: number, current: number): E[] | undefined {
    if (revision > current) return undefined;
    if (revision === current) return [];
    const oldest = this.oldest;
    if (oldest === undefined || revision < oldest - 1) return undefined;
    const out: E[] = [];
    for (let i = revision + 1 - oldest; i < this.size; i++) {
      const ev = this.ring[(this.start + i) % this.capacity];
      if (ev) out.push(ev);
    }
    return out;
  }
}
