// The overlay as a pure calculation: from the remote nodes (remotenodes of the federation API) and which clusters
// have overlay routing enabled, the neighbour, FDB and route entries the node's VXLAN device needs. Per remote
// node: one permanent neighbour (VTEP IP -> VTEP MAC) and one FDB entry (VTEP MAC -> node IP); per pod CIDR one
// route via the VTEP IP, onlink. Input written by another cluster is checked here; what fails a check is left out
// and reported, never programmed.

import { formatCidr, type Ipv4Cidr, normalizeMac, parseIpv4, parseIpv4Cidr } from '../ipv4.js';

export interface RemoteNode {
  readonly cluster: string;
  readonly name: string;
  /** InternalIP: where VXLAN packets for the node go. */
  readonly nodeIP: string;
  readonly podCIDRs: readonly string[];
  readonly vtepIP: string;
  readonly vtepMAC: string;
}

export interface OverlayInputs {
  readonly remoteNodes: readonly RemoteNode[];
  /** Remote clusters whose RemoteClusterConfiguration says overlayRoutingMode: Enabled. */
  readonly enabledClusters: ReadonlySet<string>;
  /** Networks of our own (local pod CIDRs, the underlay): a remote route into them would hijack local traffic. */
  readonly protectedCIDRs: readonly string[];
}

export interface OverlayState {
  /** VTEP IP -> VTEP MAC. */
  readonly neighbors: ReadonlyMap<string, string>;
  /** VTEP MAC -> remote node IP. */
  readonly fdb: ReadonlyMap<string, string>;
  /** Pod CIDR -> VTEP IP (the gateway). */
  readonly routes: ReadonlyMap<string, string>;
}

export interface OverlayPlan {
  readonly state: OverlayState;
  /** Why a remote node or pod CIDR was left out, one line each (logged, and counted in metrics). */
  readonly problems: readonly string[];
}

/** Remote pod CIDRs shorter than this are refused: no cluster hands a node a /7, but a default route hijacks all. */
export const shortestRemotePrefix = 8;

export function computeOverlay(inputs: OverlayInputs): OverlayPlan {
  const problems: string[] = [];
  const neighbors = new Map<string, string>();
  const fdb = new Map<string, string>();
  const routes = new Map<string, string>();
  const taken = new TakenRanges();
  for (const text of inputs.protectedCIDRs) {
    const c = parseIpv4Cidr(text);
    if (c) taken.claim(c, 'this cluster');
  }
  const vtepIPs = new Map<string, string>();
  // Sorted, so that the same conflicting input gives the same winner on every node and after every restart.
  const nodes = [...inputs.remoteNodes]
    .filter((n) => inputs.enabledClusters.has(n.cluster))
    .sort((a, b) => (a.cluster === b.cluster ? cmp(a.name, b.name) : cmp(a.cluster, b.cluster)));
  for (const n of nodes) {
    const who = `remote node ${n.cluster}/${n.name}`;
    const mac = normalizeMac(n.vtepMAC);
    if (parseIpv4(n.nodeIP) === undefined) {
      problems.push(`${who}: node IP "${n.nodeIP}" is not an IPv4 address`);
      continue;
    }
    if (parseIpv4(n.vtepIP) === undefined || !mac) {
      problems.push(`${who}: VTEP "${n.vtepIP}" / "${n.vtepMAC}" is not an IPv4 address and a MAC`);
      continue;
    }
    const vtepOwner = vtepIPs.get(n.vtepIP);
    if (vtepOwner || fdb.has(mac)) {
      problems.push(`${who}: VTEP ${n.vtepIP} (${mac}) is used by ${vtepOwner ?? 'another remote node'} already`);
      continue;
    }
    const cidrs: string[] = [];
    for (const text of n.podCIDRs) {
      const c = parseIpv4Cidr(text);
      if (!c || c.prefix < shortestRemotePrefix || c.prefix === 32) {
        problems.push(`${who}: pod CIDR "${text}" is not an IPv4 network between /${shortestRemotePrefix} and /31`);
        continue;
      }
      const clash = taken.overlapping(c);
      if (clash) {
        problems.push(`${who}: pod CIDR ${text} overlaps ${formatCidr(clash.cidr)} of ${clash.owner}`);
        continue;
      }
      taken.claim(c, who);
      cidrs.push(formatCidr(c));
    }
    if (cidrs.length === 0) continue; // nothing to route to it: no tunnel entries either
    vtepIPs.set(n.vtepIP, who);
    neighbors.set(n.vtepIP, mac);
    fdb.set(mac, n.nodeIP);
    for (const c of cidrs) routes.set(c, n.vtepIP);
  }
  return { state: { neighbors, fdb, routes }, problems };
}

/**
 * Address ranges already claimed, sorted and disjoint: O(log n) to check, so that 5k remote nodes cost
 * milliseconds rather than the seconds of comparing every pair.
 */
class TakenRanges {
  private readonly starts: number[] = [];
  private readonly ends: number[] = [];
  private readonly owners: { cidr: Ipv4Cidr; owner: string }[] = [];

  /** The index of the first range that ends after `base`. */
  private firstEndingAfter(base: number): number {
    let lo = 0;
    let hi = this.ends.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.ends[mid]! <= base) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** A claimed range that overlaps `c`, if any. */
  overlapping(c: Ipv4Cidr): { cidr: Ipv4Cidr; owner: string } | undefined {
    const i = this.firstEndingAfter(c.base);
    return i < this.starts.length && this.starts[i]! < c.base + 2 ** (32 - c.prefix) ? this.owners[i] : undefined;
  }

  /** Claims `c`; ranges it overlaps (only this cluster's own networks may) are merged into it. */
  claim(c: Ipv4Cidr, owner: string): void {
    let start = c.base;
    let end = c.base + 2 ** (32 - c.prefix);
    const i = this.firstEndingAfter(start);
    let widest = { cidr: c, owner };
    let n = 0;
    while (i + n < this.starts.length && this.starts[i + n]! < end) {
      start = Math.min(start, this.starts[i + n]!);
      end = Math.max(end, this.ends[i + n]!);
      // CIDRs nest or are disjoint: the union of overlapping ones is the widest of them.
      if (this.owners[i + n]!.cidr.prefix < widest.cidr.prefix) widest = this.owners[i + n]!;
      n++;
    }
    this.starts.splice(i, n, start);
    this.ends.splice(i, n, end);
    this.owners.splice(i, n, widest);
  }
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
