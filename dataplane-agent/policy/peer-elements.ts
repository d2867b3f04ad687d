// The elements of the `peers` set (`ip . tag`), implied rather than stored: a peer selector's elements are the
// counted addresses of the endpoints in the identities it matches, which the calculation already holds. Stored one
// by one, a start of 100k endpoints cost 133k map insertions before nft saw anything; implied, a selector matching
// an identity costs nothing per address, and the text of an element is built only when a transaction is rendered.
// What is kept is the count (the set's size) and, for an address two endpoints hold at once (an IP reused while the
// old pod terminates, or a remote cluster listing one twice), how many of them contribute it to each tag: such an
// element stays while any does.

import type { NftElements } from '../nft/state.js';

export interface Tag {
  /** The tag as nft writes it in an element. */
  readonly text: string;
}

/** Every tag with the addresses contributing to it (an address may come more than once if it is shared). */
export type PeerContributions<T extends Tag> = () => Iterable<readonly [T, Iterable<string>]>;

export class PeerElements<T extends Tag> implements NftElements {
  private count = 0;
  /** Shared addresses -> contributors per tag. */
  private readonly shared = new Map<string, Map<T, number>>();

  constructor(private readonly contributions: PeerContributions<T>) {}

  get size(): number {
    return this.count;
  }

  isShared(ip: string): boolean {
    return this.shared.has(ip);
  }

  /**
   * `ip` gets a second holder: from now on its contributions are counted per tag, starting from those of the one
   * holder it had (`tags`: the tags it contributes `ip` to).
   */
  share(ip: string, tags: Iterable<T>): void {
    if (this.shared.has(ip)) return;
    const counts = new Map<T, number>();
    for (const tag of tags) counts.set(tag, 1);
    this.shared.set(ip, counts);
  }

  /** `ip` is down to one holder (or none): its counts are no longer needed (each is 0 or 1 now). */
  unshare(ip: string): void {
    this.shared.delete(ip);
  }

  /** Whether any address is held by two endpoints now. */
  get anyShared(): boolean {
    return this.shared.size > 0;
  }

  /**
   * `n` contributions start (or stop) at once, to one tag, of addresses no other endpoint holds (so each is an
   * element of its own): what contribute would do n times, without looking up each address.
   */
  contributeUnshared(n: number, on: boolean): void {
    this.count += on ? n : -n;
  }

  /** One holder starts (or stops) contributing `ip` to `tag`; true when the element came (or went). */
  contribute(tag: T, ip: string, on: boolean): boolean {
    const counts = this.shared.get(ip);
    if (counts) {
      const n = counts.get(tag) ?? 0;
      if (on) {
        counts.set(tag, n + 1);
        if (n > 0) return false;
      } else {
        if (n === 0) return false;
        if (n > 1) {
          counts.set(tag, n - 1);
          return false;
        }
        counts.delete(tag);
      }
    }
    this.count += on ? 1 : -1;
    return true;
  }

  *[Symbol.iterator](): Iterator<string> {
    for (const [tag, ips] of this.contributions()) {
      // A shared address may come once per holder: written once.
      const seen = this.shared.size > 0 ? new Set<string>() : undefined;
      for (const ip of ips) {
        if (seen && this.shared.has(ip)) {
          if (seen.has(ip)) continue;
          seen.add(ip);
        }
        yield element(tag, ip);
      }
    }
  }
}

export function element(tag: Tag, ip: string): string {
  return `${ip} . ${tag.text}`;
}
