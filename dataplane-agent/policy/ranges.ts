// Lists of ports and of networks as the disjoint, sorted ranges an nft interval set of concatenations takes: such
// a set cannot merge overlapping elements itself (no auto-merge), and two equal lists must give the same elements.

import { formatIpv4, parseIpv4 } from '../ipv4.js';
import type { RulePort } from './model.js';

type Range = readonly [number, number];

/** Sorted, with overlapping and adjacent ranges joined. */
function mergeRanges(ranges: Range[]): Range[] {
  const sorted = [...ranges].sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  const out: [number, number][] = [];
  for (const [from, to] of sorted) {
    const last = out.at(-1);
    if (last && from <= last[1] + 1) last[1] = Math.max(last[1], to);
    else out.push([from, to]);
  }
  return out;
}

/** A rule's numeric ports as nft writes them (`80`, `8000-8100`), merged. */
export function portRanges(ports: readonly RulePort[]): string[] {
  const ranges: Range[] = [];
  for (const p of ports) if (p.kind === 'range') ranges.push([p.from, p.to]);
  return mergeRanges(ranges).map(([from, to]) => (from === to ? String(from) : `${from}-${to}`));
}

/**
 * Networks (`a.b.c.d/len`; host bits are masked, as Calico does) as address ranges (`a.b.c.d-e.f.g.h`, or one
 * address), merged. A text that is no IPv4 network is returned as undefined: the caller must not drop it silently.
 */
export function networkRanges(cidrs: readonly string[]): string[] | undefined {
  const ranges: Range[] = [];
  for (const c of cidrs) {
    const [ip, len] = c.split('/');
    const addr = ip === undefined ? undefined : parseIpv4(ip);
    const prefix = len === undefined ? 32 : /^(3[0-2]|[12]?\d)$/.test(len) ? Number(len) : undefined;
    if (addr === undefined || prefix === undefined) return undefined;
    const size = 2 ** (32 - prefix);
    const base = addr - (addr % size);
    ranges.push([base, base + size - 1]);
  }
  return mergeRanges(ranges).map(([from, to]) =>
    from === to ? formatIpv4(from) : `${formatIpv4(from)}-${formatIpv4(to)}`,
  );
}
