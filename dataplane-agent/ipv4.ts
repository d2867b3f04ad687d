// IPv4 parsing for what other clusters and the API send us: strict (no leading zeros, no host bits), never
// throwing, so that a bad address is a reported problem and never an exception in the event loop.

export interface Ipv4Cidr {
  /** Network address as an unsigned 32-bit number. */
  readonly base: number;
  readonly prefix: number;
}

const octet = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/;

export function parseIpv4(text: string): number | undefined {
  const parts = text.split('.');
  if (parts.length !== 4 || !parts.every((p) => octet.test(p))) return undefined;
  return parts.reduce((acc, p) => acc * 256 + Number(p), 0);
}

export function formatIpv4(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

/** `a.b.c.d/len` with no host bits set; a bare address is a /32. */
export function parseIpv4Cidr(text: string): Ipv4Cidr | undefined {
  const [ip, len, extra] = text.split('/');
  if (ip === undefined || extra !== undefined) return undefined;
  const prefix = len === undefined ? 32 : /^(3[0-2]|[12]?\d)$/.test(len) ? Number(len) : -1;
  const base = parseIpv4(ip);
  if (base === undefined || prefix < 0) return undefined;
  if (base % 2 ** (32 - prefix) !== 0) return undefined;
  return { base, prefix };
}

export function formatCidr(c: Ipv4Cidr): string {
  return `${formatIpv4(c.base)}/${c.prefix}`;
}

export function cidrsOverlap(a: Ipv4Cidr, b: Ipv4Cidr): boolean {
  const aEnd = a.base + 2 ** (32 - a.prefix);
  const bEnd = b.base + 2 ** (32 - b.prefix);
  return a.base < bEnd && b.base < aEnd;
}

/** A MAC address as ip/bridge print it: six lower-case hex pairs. */
export function normalizeMac(text: string): string | undefined {
  const t = text.toLowerCase();
  return /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/.test(t) ? t : undefined;
}
