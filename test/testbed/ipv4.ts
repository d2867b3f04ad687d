/** Small IPv4 helpers for the testbed's address plans (pod CIDRs, node addresses). */

export interface Cidr {
  readonly base: number; // network address as an unsigned 32-bit number
  readonly prefix: number;
}

export function parseIpv4(ip: string): number {
  const parts = ip.split('.');
  if (parts.length !== 4 || parts.some((p) => !/^\d{1,3}$/.test(p) || Number(p) > 255)) {
    throw new Error(`"${ip}" is not an IPv4 address`);
  }
  return parts.reduce((acc, p) => acc * 256 + Number(p), 0);
}

export function formatIpv4(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

export function parseCidr(cidr: string): Cidr {
  const [ip, len] = cidr.split('/');
  const prefix = Number(len);
  if (ip === undefined || len === undefined || !Number.isInteger(prefix) || prefix < 0 || prefix > 32) {
    throw new Error(`"${cidr}" is not an IPv4 CIDR such as 10.244.0.0/16`);
  }
  const addr = parseIpv4(ip);
  const size = 2 ** (32 - prefix);
  if (addr % size !== 0)
    throw new Error(`"${cidr}" has host bits set; the network is ${formatIpv4(addr - (addr % size))}/${prefix}`);
  return { base: addr, prefix };
}

export function formatCidr(c: Cidr): string {
  return `${formatIpv4(c.base)}/${c.prefix}`;
}

export function cidrSize(c: Cidr): number {
  return 2 ** (32 - c.prefix);
}

export function contains(c: Cidr, ip: number): boolean {
  return ip >= c.base && ip < c.base + cidrSize(c);
}

/** The i-th subnet of length `prefix` inside `c`. */
export function subnet(c: Cidr, prefix: number, i: number): Cidr {
  if (prefix < c.prefix) throw new Error(`cannot cut /${prefix} subnets out of ${formatCidr(c)}`);
  const count = 2 ** (prefix - c.prefix);
  if (i >= count)
    throw new Error(`${formatCidr(c)} holds only ${count} /${prefix} subnets (asked for subnet #${i + 1})`);
  return { base: c.base + i * 2 ** (32 - prefix), prefix };
}
