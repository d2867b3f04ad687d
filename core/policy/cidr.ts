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

const DOT = 0x2e;
const DIGIT_0 = 0x30;
const DIGIT_9 = 0x39;

/** Four decimals 0-255 without leading zeros, as Go's netip (leading zeros were octal in some parsers). */
function parseIPv4(text: string): Uint8Array | null {
  const out = new Uint8Array(4);
  let part = 0;
  let value = 0;
  let digits = 0;
  for (let i = 0; i <= text.length; i++) {
    const c = i === text.length ? DOT : text.charCodeAt(i);
    if (c === DOT) {
      if (digits === 0 || part === 4) return null;
      out[part++] = value;
      value = 0;
      digits = 0;
    } else if (c >= DIGIT_0 && c <= DIGIT_9) {
      if (digits > 0 && value === 0) return null; // a leading zero
      value = value * 10 + (c - DIGIT_0);
      digits++;
      if (value > 255) return null;
    } else return null;
  }
  return part === 4 ? out : null;
}

function parseIPv6(text: string): Uint8Array | null {
  if (text.includes('%')) return null; // zones have no place in a CIDR
  const halves = text.split('::');
  if (halves.length > 2) return null;
  const groups = (s: string): string[] | null => (s === '' ? [] : s.split(':'));
  const head = groups(halves[0]!);
  const tail = halves.length === 2 ? groups(halves[1]!) : [];
  if (head === null || tail === null) return null;
  const words: number[] = [];
  const all = [...head, ...tail];
  for (let i = 0; i < all.length; i++) {
    const g = all[i]!;
    if (i === all.length - 1 && g.includes('.')) {
      const v4 = parseIPv4(g);
      if (v4 === null) return null;
      words.push((v4[0]! << 8) | v4[1]!, (v4[2]! << 8) | v4[3]!);
    } else {
      if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return null;
      words.push(Number.parseInt(g, 16));
    }
  }
  const headWords = head.length + (tail.length === 0 && head.at(-1)?.includes('.') ? 1 : 0);
  if (halves.length === 1) {
    if (words.length !== 8) return null;
  } else {
    if (words.length > 7) return null;
    const fill = 8 - words.length;
    const split = Math.min(headWords, words.length);
    words.splice(split, 0, ...new Array<number>(fill).fill(0));
  }
  const out = new Uint8Array(16);
  for (let i = 0; i < 8; i++) {
    out[i * 2] = words[i]! >> 8;
    out[i * 2 + 1] = words[i]! & 0xff;
  }
  return out;
}

function formatIPv6(bytes: Uint8Array): string {
  const words: number[] = [];
  for (let i = 0; i < 8; i++) words.push((bytes[i * 2]! << 8) | bytes[i * 2 + 1]!);
  // The longest run of two or more zero words becomes `::` (the first such run on a tie).
  let bestStart = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (words[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && words[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (ws: number[]) => ws.map((w) => w.toString(16)).join(':');
  if (bestStart === -1) return hex(words);
  return `${hex(words.slice(0, bestStart))}::${hex(words.slice(bestStart + bestLen))}`;
}
