import { formatIPv6, parseIPv4, parseIPv6 } from '../net/ip-address.js';

// CIDRs as policies write them (`10.0.0.0/8`, `fd00::/64`): parsed into bytes, compared, and printed in canonical
// form (host bits cleared, IPv6 compressed as RFC 5952 says), without the network stack.

export interface Cidr {
  readonly family: 4 | 6;
  /** The network address (host bits cleared): 4 or 16 bytes. */
  readonly bytes: Uint8Array;
  readonly prefix: number;
  /** Whether the text had host bits set (`10.0.0.1/8`): legal, but it means the network. */
  readonly hadHostBits: boolean;
}

export type CidrParse = { readonly ok: true; readonly cidr: Cidr } | { readonly ok: false; readonly reason: string };

const MAX_TEXT = 64;

export function parseCidr(text: string): CidrParse {
  if (text.length > MAX_TEXT) return { ok: false, reason: 'too long to be a CIDR' };
  const slash = text.indexOf('/');
  if (slash === -1) return { ok: false, reason: 'a CIDR needs a prefix length, e.g. 10.0.0.0/8 or fd00::/64' };
  const addr = text.slice(0, slash);
  const prefixText = text.slice(slash + 1);
  const bytes = addr.includes(':') ? parseIPv6(addr) : parseIPv4(addr);
  if (bytes === null) return { ok: false, reason: `"${addr}" is not an IPv4 or IPv6 address` };
  const bits = bytes.length * 8;
  if (!/^(0|[1-9][0-9]{0,2})$/.test(prefixText) || Number(prefixText) > bits) {
    return { ok: false, reason: `the prefix length must be a number from 0 to ${bits}` };
  }
  const prefix = Number(prefixText);
  const hadHostBits = clearHostBits(bytes, prefix); // `bytes` is this parse's own array
  return { ok: true, cidr: { family: bytes.length === 4 ? 4 : 6, bytes, prefix, hadHostBits } };
}

/** Whether `inner` lies inside `outer` (same family, at least as long a prefix, same network bits). */
export function cidrContains(outer: Cidr, inner: Cidr): boolean {
  if (outer.family !== inner.family || inner.prefix < outer.prefix) return false;
  return samePrefix(inner.bytes, outer.bytes, outer.prefix);
}

export function formatCidr(c: Cidr): string {
  const b = c.bytes;
  return `${c.family === 4 ? `${b[0]}.${b[1]}.${b[2]}.${b[3]}` : formatIPv6(b)}/${c.prefix}`;
}

/** Whether an address (text) lies in the CIDR; false for text that is no address. */
export function addressInCidr(address: string, cidr: Cidr): boolean {
  const bytes = address.includes(':') ? parseIPv6(address) : parseIPv4(address);
  if (bytes === null || bytes.length !== cidr.bytes.length) return false;
  return samePrefix(bytes, cidr.bytes, cidr.prefix);
}

// Loops over the bytes rather than regexes, spreads, callbacks and copies: every ipBlock of every admission review
// passes here.

/** The bits of byte `i` that lie inside a prefix of `prefix` bits. */
function prefixMask(i: number, prefix: number): number {
  const keep = prefix - i * 8;
  return keep >= 8 ? 0xff : keep <= 0 ? 0 : (0xff << (8 - keep)) & 0xff;
}

/** Whether two addresses of one family agree on their first `prefix` bits. */
function samePrefix(a: Uint8Array, b: Uint8Array, prefix: number): boolean {
  for (let i = 0; i < a.length; i++) {
    const m = prefixMask(i, prefix);
    if ((a[i]! & m) !== (b[i]! & m)) return false;
  }
  return true;
}

/** Clears the bits after the prefix, in place; whether any was set. */
function clearHostBits(bytes: Uint8Array, prefix: number): boolean {
  let had = false;
  for (let i = 0; i < bytes.length; i++) {
    const m = prefixMask(i, prefix);
    if ((bytes[i]! & ~m) !== 0) {
      had = true;
      bytes[i] = bytes[i]! & m;
    }
  }
  return had;
}
