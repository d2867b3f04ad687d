// Small integer tags for peer selectors and port names: the element `ip . tag` in one shared set stands for "this
// IP is in that selection", so the table holds a fixed handful of sets however many selectors there are (nft 1.0.6
// fetches the declaration of every set of the table before each transaction: thousands of sets cost every delta).
// A released tag is reused only after the batch that released it was taken: by then the rules that named it
// are gone from the kernel, so an old rule never sees a new selection under its tag.

export class TagPool {
  private next = 1;
  private readonly free: number[] = [];
  private readonly released: number[] = [];

  take(): number {
    return this.free.pop() ?? this.next++;
  }

  release(tag: number): void {
    this.released.push(tag);
  }

  /** The batch that released tags was taken (rendered): they may be given out again. */
  recycle(): void {
    for (const t of this.released) this.free.push(t);
    this.released.length = 0;
  }
}

/** A tag as nft writes a `mark` value. */
export function tagText(tag: number): string {
  return `0x${tag.toString(16).padStart(8, '0')}`;
}

/**
 * The tag as an expression of a concatenation. nft 1.0.6 cannot type a bare number there ("Can't parse symbolic
 * invalid expressions"); a mark masked to zero and xored with the tag is typed and equals the tag for every packet
 * (the packet's mark is neither used for the decision nor changed). nft lists it as `meta mark & T | T`: equal.
 */
export function tagExpression(tag: number): string {
  return `(meta mark & 0x00000000 | ${tagText(tag)})`;
}
