// The elements of a tagged set (`ip . tag`), held per tag as the plain IPs: adding an endpoint to a selection is
// one insertion of a string the endpoint already holds, and the element text is built only when a transaction is
// rendered (a full sync of 100k endpoints otherwise builds and hashes 100k new strings first).
// Two endpoints may share an IP for a moment: an element stays while any of them contributes it.

import type { NftElements } from '../nft/state.js';

export interface Tag {
  /** The tag as nft writes it in an element. */
  readonly text: string;
}

export class TaggedMembers implements NftElements {
  private readonly byTag = new Map<Tag, Map<string, number>>();
  private count = 0;

  get size(): number {
    return this.count;
  }

  /** Adds one contribution; true when the element is new. */
  add(tag: Tag, ip: string): boolean {
    let ips = this.byTag.get(tag);
    if (!ips) {
      ips = new Map();
      this.byTag.set(tag, ips);
    }
    const n = ips.get(ip) ?? 0;
    ips.set(ip, n + 1);
    if (n > 0) return false;
    this.count++;
    return true;
  }

  /** Removes one contribution; true when the element is gone. */
  delete(tag: Tag, ip: string): boolean {
    const ips = this.byTag.get(tag);
    const n = ips?.get(ip);
    if (!ips || n === undefined) return false;
    if (n > 1) {
      ips.set(ip, n - 1);
      return false;
    }
    ips.delete(ip);
    if (ips.size === 0) this.byTag.delete(tag);
    this.count--;
    return true;
  }

  *[Symbol.iterator](): Iterator<string> {
    for (const [tag, ips] of this.byTag) for (const ip of ips.keys()) yield element(tag, ip);
  }
}

export function element(tag: Tag, ip: string): string {
  return `${ip} . ${tag.text}`;
}
