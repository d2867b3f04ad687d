// IPv4 parsing for what other clusters and the API send us: strict (no leading zeros, no host bits), never
// throwing, so that a bad address is a reported problem and never an exception in the event loop.

import { parseIPv4 } from '../core/net/ip-address.js';

export interface Ipv4Cidr {
  /** Network address as an unsigned 32-bit number. */
  readonly base: number;
  readonly prefix: number;
}

/** `a.b.c.d` as an unsigned 32-bit number (four decimals 0-255 without leading zeros, nothing else). */
export function parseIpv4(text: string): number | undefined {
  const b = parseIPv4(text);
  return b === null ? undefined : b[0]! * 0x1000000 + ((b[1]! << 16) | (b[2]! << 8) | b[3]!);
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

export function cidrContains(c: Ipv4Cidr, ip: number): boolean {
  return ip >= c.base && ip < c.base + 2 ** (32 - c.prefix);
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

/**
 * Why `ip` cannot be a tunnel endpoint or the address of a remote node, or undefined when it can: the ranges that
 * are never one host's unicast address. The kernel refuses most of them in a neighbour or nexthop, failing the
 * whole batch line on every flush; the others would send tunnelled traffic to this node or to many.
 */
export function notUnicastIpv4(ip: number): string | undefined {
  for (const [base, prefix, name] of nonUnicastRanges) {
    if (Math.floor(ip / 2 ** (32 - prefix)) === Math.floor(base / 2 ** (32 - prefix))) return name;
  }
  return undefined;
}

/**
 * The range of notUnicastIpv4 that network `c` reaches into, or undefined when every address in it may be a host's:
 * a route for such a network would send loopback, link-local (the cloud metadata server 169.254.169.254) or
 * multicast traffic elsewhere.
 */
export function notUnicastIpv4Cidr(c: Ipv4Cidr): string | undefined {
  return nonUnicastRanges.find(([base, prefix]) => cidrsOverlap(c, { base, prefix }))?.[2];
}

const nonUnicastRanges: readonly (readonly [base: number, prefix: number, name: string])[] = [
  [0, 8, '0.0.0.0/8, "this network"'],
  [127 * 2 ** 24, 8, 'loopback 127.0.0.0/8'],
  [(169 * 256 + 254) * 2 ** 16, 16, 'link-local 169.254.0.0/16'],
  [224 * 2 ** 24, 4, 'multicast 224.0.0.0/4'],
  [240 * 2 ** 24, 4, 'reserved 240.0.0.0/4, with the broadcast address 255.255.255.255'],
];

/**
 * Why a MAC (as normalizeMac returns it) cannot be a tunnel endpoint's, or undefined when it can: all zeros is the
 * FDB's default entry (every unknown destination would go to that node); a set lowest bit of the first byte is a
 * group address (multicast, and broadcast ff:ff:ff:ff:ff:ff).
 */
export function notUnicastMac(mac: string): string | undefined {
  if (mac === '00:00:00:00:00:00') return 'all zeros';
  if (Number.parseInt(mac.slice(0, 2), 16) % 2 === 1) return mac === 'ff:ff:ff:ff:ff:ff' ? 'broadcast' : 'multicast';
  return undefined;
}
