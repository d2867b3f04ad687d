// IP addresses as text (what Kubernetes objects, policies and remote clusters write) to bytes and back, strictly:
// IPv4 as four decimals 0-255 without leading zeros, IPv6 in hex groups with at most one `::`, printed in the
// canonical form of RFC 5952. Loops over characters rather than regexes and splits where it matters: every address
// of every remote pod and every ipBlock of every admission review passes here.

const DOT = 0x2e;
const DIGIT_0 = 0x30;
const DIGIT_9 = 0x39;

/** Four decimals 0-255 without leading zeros, as Go's netip (leading zeros were octal in some parsers). */
export function parseIPv4(text: string): Uint8Array | null {
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

export function parseIPv6(text: string): Uint8Array | null {
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

/**
 * RFC 5952 text of 16 bytes: lower-case hex without leading zeros, the first longest run of two or more zero groups
 * as `::`.
 */
export function formatIPv6(bytes: Uint8Array): string {
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
