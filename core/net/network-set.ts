// A set of IP networks (IPv4 and IPv6) answering "does this address lie in one of them": ranges sorted and
// merged per family, searched by bisection, so that checking many addresses against the networks of thousands of
// nodes costs a logarithm each.

import { parseIPv4, parseIPv6 } from './ip-address.js';

type Family = 4 | 6;

interface Ranges {
  readonly starts: bigint[];
  readonly ends: bigint[];
}

function toBigInt(bytes: Uint8Array): bigint {
  let n = 0n;
  for (const b of bytes) n = (n << 8n) | BigInt(b);
  return n;
}

/** An address as its family and number; undefined when it is no IPv4 or IPv6 address. */
function parseAddress(text: string): { family: Family; value: bigint } | undefined {
  const v4 = parseIPv4(text);
  if (v4) return { family: 4, value: toBigInt(v4) };
  const v6 = text.includes(':') ? parseIPv6(text) : null;
  return v6 ? { family: 6, value: toBigInt(v6) } : undefined;
}

export class NetworkSet {
  private readonly families = new Map<Family, Ranges>();
  /** The networks as given (valid ones), sorted: two sets with the same key hold the same addresses. */
  readonly key: string;

  /** Networks as `address/len` (a bare address is a single one); anything else is left out. */
  constructor(cidrs: Iterable<string>) {
    const parsed = new Map<Family, [bigint, bigint][]>();
    const valid: string[] = [];
    for (const text of cidrs) {
      const [ip = '', len, extra] = text.split('/');
      const a = parseAddress(ip);
      if (!a || extra !== undefined) continue;
      const bits = a.family === 4 ? 32 : 128;
      const prefix = len === undefined ? bits : /^\d{1,3}$/.test(len) ? Number(len) : -1;
      if (prefix < 0 || prefix > bits) continue;
      const size = 1n << BigInt(bits - prefix);
      const base = a.value - (a.value % size);
      const list = parsed.get(a.family) ?? [];
      list.push([base, base + size - 1n]);
      parsed.set(a.family, list);
      valid.push(text);
    }
    this.key = [...new Set(valid)].sort().join(',');
    for (const [family, list] of parsed) {
      list.sort((x, y) => (x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : 0));
      const starts: bigint[] = [];
      const ends: bigint[] = [];
      for (const [from, to] of list) {
        const last = ends.length - 1;
        if (last >= 0 && from <= ends[last]! + 1n) {
          if (to > ends[last]!) ends[last] = to;
        } else {
          starts.push(from);
          ends.push(to);
        }
      }
      this.families.set(family, { starts, ends });
    }
  }

  /** No network at all (a lookup can be skipped). */
  get empty(): boolean {
    return this.families.size === 0;
  }

  /** Whether the address (IPv4 or IPv6 text) lies in one of the networks. */
  contains(address: string): boolean {
    const a = this.families.size === 0 ? undefined : parseAddress(address);
    const r = a && this.families.get(a.family);
    if (!a || !r) return false;
    let lo = 0;
    let hi = r.starts.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (a.value < r.starts[mid]!) hi = mid - 1;
      else if (a.value > r.ends[mid]!) lo = mid + 1;
      else return true;
    }
    return false;
  }
}
