// A set of IPv4 networks for address lookups: sorted, merged ranges searched by bisection, so that checking every
// remote address against the networks of a cluster of thousands of nodes costs a logarithm each, not a walk.

import { parseIpv4Cidr } from './ipv4.js';

export class AddressRanges {
  /** Range starts and ends (inclusive), sorted and disjoint. */
  private readonly starts: readonly number[];
  private readonly ends: readonly number[];
  /** The networks as given (valid ones), sorted: two sets with the same key hold the same addresses. */
  readonly key: string;

  /** Networks as `a.b.c.d/len` (a bare address is a /32); anything else is left out. */
  constructor(cidrs: Iterable<string>) {
    const parsed: [number, number][] = [];
    const valid: string[] = [];
    for (const text of cidrs) {
      const c = parseIpv4Cidr(text);
      if (!c) continue;
      valid.push(text);
      parsed.push([c.base, c.base + 2 ** (32 - c.prefix) - 1]);
    }
    parsed.sort((a, b) => a[0] - b[0]);
    const starts: number[] = [];
    const ends: number[] = [];
    for (const [from, to] of parsed) {
      const last = ends.length - 1;
      if (last >= 0 && from <= ends[last]! + 1) ends[last] = Math.max(ends[last]!, to);
      else {
        starts.push(from);
        ends.push(to);
      }
    }
    this.starts = starts;
    this.ends = ends;
    this.key = [...new Set(valid)].sort().join(',');
  }

  get size(): number {
    return this.starts.length;
  }

  /** Whether the address (a number, as parseIpv4 gives it) lies in one of the networks. */
  has(ip: number): boolean {
    let lo = 0;
    let hi = this.starts.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (ip < this.starts[mid]!) hi = mid - 1;
      else if (ip > this.ends[mid]!) lo = mid + 1;
      else return true;
    }
    return false;
  }
}
