// The overlay as a pure calculation: from the remote nodes (remotenodes of the federation API) and which clusters
// have overlay routing enabled, the neighbour, FDB and route entries the node's VXLAN device needs. Per remote
// node: one permanent neighbour (VTEP IP -> VTEP MAC) and one FDB entry (VTEP MAC -> node IP); per pod CIDR one
// route via the VTEP IP, onlink. Input written by another cluster is checked here; what fails a check is left out
// and reported, never programmed. The overlay never takes a destination it does not own: a remote pod CIDR that
// overlaps a route of the node's main table other than fedmesh's own and the default route is refused. Nor may
// one remote cluster take another's: pod CIDRs that overlap between clusters are refused on both sides, and no
// pod CIDR may contain a remote node's tunnel addresses.

import {
  cidrContains,
  formatCidr,
  type Ipv4Cidr,
  normalizeMac,
  notUnicastIpv4,
  notUnicastIpv4Cidr,
  notUnicastMac,
  parseIpv4,
  parseIpv4Cidr,
} from '../ipv4.js';

/** The protocol number that marks fedmesh's routes and nexthops (`ip route show proto 201`). */
export const routeProtocol = 201;

/**
 * Routes go through nexthop objects, one per remote VTEP (id = the VTEP's IPv4 address as a number, so that it is
 * the same after a restart): 5k onlink gateway routes cost the kernel ~4x more than 5k nexthops plus 5k routes
 * that name them, measured on these machines. A remote node's pod CIDRs all share its nexthop.
 */
export function nexthopId(vtepIP: string): number {
  return vtepIP.split('.').reduce((acc, p) => acc * 256 + Number(p), 0);
}

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
  /** The node's main routing table as the kernel holds it now: each route not fedmesh's is off limits. */
  readonly localRoutes: readonly LocalRoute[];
  /**
   * The node's nexthop objects, of every protocol: a remote VTEP whose nexthop id (nexthopId) one that is not
   * fedmesh's holds is refused, so that the overlay never takes over another tool's nexthop and its routes.
   */
  readonly localNexthops: readonly LocalNexthop[];
  /** This node's own tunnel endpoint: a remote node claiming any part of it is refused. */
  readonly self?: TunnelEndpoint;
}

export interface TunnelEndpoint {
  readonly nodeIP: string;
  readonly vtepIP: string;
  readonly vtepMAC: string;
}

/** A route of the node's main table (`ip -j route show table main`). */
export interface LocalRoute {
  /** `default`, `a.b.c.d/len`, or a bare address (a /32), as ip prints it. */
  readonly dst: string;
  /** The route's protocol number: routeProtocol for fedmesh's own. */
  readonly protocol: number;
  /** The route as `ip route` prints it, for messages. */
  readonly text: string;
}

/** A nexthop object of the node (`ip -N -j nexthop show`). */
export interface LocalNexthop {
  readonly id: number;
  /** Its protocol number: routeProtocol for fedmesh's own. */
  readonly protocol: number;
  /** The nexthop as `ip nexthop` prints it, for messages. */
  readonly text: string;
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
  // This node's own networks: no remote pod CIDR may overlap them, and no remote node IP lie in them.
  const ours = inputs.protectedCIDRs.flatMap((t) => parseIpv4Cidr(t) ?? []);
  const taken = new TakenRanges();
  for (const c of ours) taken.claim(c, `${formatCidr(c)} of this cluster`);
  for (const r of inputs.localRoutes) {
    const c = r.dst === 'default' ? { base: 0, prefix: 0 } : parseIpv4Cidr(r.dst);
    // Not a problem of one remote node: without knowing what this route covers, no remote CIDR is safe to route.
    if (!c) throw new Error(`local route "${r.text}": destination "${r.dst}" is not an IPv4 network`);
    // The default route is the fallback for what nothing else routes: remote pod CIDRs are meant to be routed.
    if (r.protocol === routeProtocol || c.prefix === 0) continue;
    taken.claim(
      c,
      `the local route "${r.text}", which is not fedmesh's: the overlay never takes a destination it does not own`,
    );
  }
  // Sorted, so that the same conflicting input within a cluster gives the same winner on every node and after every
  // restart.
  const nodes = [...inputs.remoteNodes]
    .filter((n) => inputs.enabledClusters.has(n.cluster))
    .sort((a, b) => (a.cluster === b.cluster ? cmp(a.name, b.name) : cmp(a.cluster, b.cluster)));
  const context: CheckContext = {
    own: ownAddresses(inputs.self, ours),
    foreignNexthops: new Map(
      inputs.localNexthops.filter((h) => h.protocol !== routeProtocol).map((h) => [h.id, h] as const),
    ),
    local: taken,
    tunnels: new TunnelAddresses(nodes),
  };
  // 1. Each node and each pod CIDR against what this node has and the remote tunnel addresses (all of them before
  // step 3 claims remote pod CIDRs in `taken`).
  const checked = nodes.map((n) => checkNode(n, context));
  // 2. Pod CIDRs that overlap between clusters: refused on both sides, so that no cluster wins by its name.
  const rivalOf = rivalClaims(checked.flatMap((c) => c.cidrs.filter((p) => typeof p !== 'string')));
  // 3. In name order: a VTEP used twice and pod CIDRs that overlap within one cluster go to the first node.
  const vtepIPs = new Map<string, string>();
  for (const { node: n, who, refused, mac, cidrs: claims } of checked) {
    if (refused) {
      problems.push(`${who}: ${refused}`);
      continue;
    }
    const vtepOwner = vtepIPs.get(n.vtepIP);
    if (vtepOwner || fdb.has(mac)) {
      problems.push(`${who}: VTEP ${n.vtepIP} (${mac}) is used by ${vtepOwner ?? 'another remote node'} already`);
      continue;
    }
    const cidrs: string[] = [];
    for (const p of claims) {
      if (typeof p === 'string') {
        problems.push(`${who}: ${p}`);
        continue;
      }
      const rival = rivalOf(p);
      if (rival) {
        problems.push(
          `${who}: pod CIDR ${p.text} overlaps ${formatCidr(rival.cidr)} of ${rival.who}: clusters ${n.cluster} and ${rival.cluster} both claim these addresses, so neither gets them`,
        );
        continue;
      }
      const clash = taken.overlapping(p.cidr);
      if (clash) {
        problems.push(`${who}: pod CIDR ${p.text} overlaps ${clash.label}`);
        continue;
      }
      taken.claim(p.cidr, `${formatCidr(p.cidr)} of ${who}`);
      cidrs.push(formatCidr(p.cidr));
    }
    if (cidrs.length === 0) continue; // nothing to route to it: no tunnel entries either
    vtepIPs.set(n.vtepIP, who);
    neighbors.set(n.vtepIP, mac);
    fdb.set(mac, n.nodeIP);
    for (const c of cidrs) routes.set(c, n.vtepIP);
  }
  return { state: { neighbors, fdb, routes }, problems };
}

/** What a remote node is checked against before the others' claims count. */
interface CheckContext {
  readonly own: OwnAddresses;
  /** Nexthops that are not fedmesh's, by id. */
  readonly foreignNexthops: ReadonlyMap<number, LocalNexthop>;
  /** This node's networks and the destinations of its routes that are not fedmesh's. */
  readonly local: TakenRanges;
  readonly tunnels: TunnelAddresses;
}

/** A remote node after the checks that need no other node's pod CIDRs. */
interface CheckedNode {
  readonly node: RemoteNode;
  readonly who: string;
  /** Why the whole node is left out, if it is. */
  readonly refused: string | undefined;
  readonly mac: string;
  /** Its pod CIDRs in order: a claim, or why that CIDR is left out. */
  readonly cidrs: readonly (PodClaim | string)[];
}

/** A remote pod CIDR that passed the checks of a single node. */
interface PodClaim {
  readonly cluster: string;
  /** `remote node <cluster>/<name>`. */
  readonly who: string;
  readonly cidr: Ipv4Cidr;
  /** As the remote node wrote it. */
  readonly text: string;
}

function checkNode(n: RemoteNode, x: CheckContext): CheckedNode {
  const who = `remote node ${n.cluster}/${n.name}`;
  const mac = normalizeMac(n.vtepMAC) ?? '';
  const refused = endpointProblem(n) ?? selfProblem(n, x.own) ?? nexthopProblem(n, x.foreignNexthops);
  if (refused) return { node: n, who, refused, mac, cidrs: [] };
  const ownVtep = parseIpv4(n.vtepIP) ?? -1;
  const cidrs = n.podCIDRs.map((text): PodClaim | string => {
    const c = parseIpv4Cidr(text);
    if (!c || c.prefix < shortestRemotePrefix || c.prefix === 32) {
      return `pod CIDR "${text}" is not an IPv4 network between /${shortestRemotePrefix} and /31`;
    }
    const special = notUnicastIpv4Cidr(c);
    if (special) return `pod CIDR ${text} overlaps ${special}, which is not unicast`;
    const clash = x.local.overlapping(c);
    if (clash) return `pod CIDR ${text} overlaps ${clash.label}`;
    const tunnel = x.tunnels.inside(c, ownVtep);
    if (tunnel) return `pod CIDR ${text} contains ${tunnel}`;
    return { cluster: n.cluster, who, cidr: c, text };
  });
  return { node: n, who, refused: undefined, mac, cidrs };
}

/**
 * The node IPs and VTEP IPs of the remote nodes, sorted: a remote pod CIDR that contains one would route the
 * tunnel's own packets (to a node IP) into the tunnel again, where they loop until their TTL runs out, or a tunnel
 * endpoint to another node. A node's own VTEP IP is the exception: it is the network address of its first pod
 * CIDR (vtep.ts).
 */
class TunnelAddresses {
  private readonly ips: readonly number[];
  private readonly entries: readonly TunnelAddress[];

  constructor(nodes: readonly RemoteNode[]) {
    const entries: TunnelAddress[] = [];
    for (const node of nodes) {
      const nodeIP = parseIpv4(node.nodeIP);
      const vtepIP = parseIpv4(node.vtepIP);
      if (nodeIP !== undefined) entries.push({ ip: nodeIP, vtep: false, node });
      if (vtepIP !== undefined) entries.push({ ip: vtepIP, vtep: true, node });
    }
    this.entries = entries.sort((a, b) => a.ip - b.ip);
    this.ips = this.entries.map((e) => e.ip);
  }

  /** What `c` contains, but the VTEP IP `ownVtep`, if anything, for a message. */
  inside(c: Ipv4Cidr, ownVtep: number): string | undefined {
    const end = c.base + 2 ** (32 - c.prefix);
    for (let i = lowerBound(this.ips, c.base); i < this.ips.length && this.ips[i]! < end; i++) {
      const { vtep, ip, node: n } = this.entries[i]!;
      if (vtep && ip === ownVtep) continue;
      return vtep
        ? `the VTEP IP ${n.vtepIP} of remote node ${n.cluster}/${n.name}: traffic to that tunnel endpoint would go to another node`
        : `the node IP ${n.nodeIP} of remote node ${n.cluster}/${n.name}: tunnelled packets to it would be routed into the tunnel again`;
    }
    return undefined;
  }
}

interface TunnelAddress {
  readonly ip: number;
  /** A VTEP IP (else a node IP). */
  readonly vtep: boolean;
  readonly node: RemoteNode;
}

/** The index of the first of the sorted `values` that is not below `v`. */
function lowerBound(values: readonly number[], v: number): number {
  let lo = 0;
  let hi = values.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (values[mid]! < v) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** The claims of one CIDR: the first of each cluster (most CIDRs have one), and per cluster a rival's claim. */
interface ClaimGroup {
  readonly cidr: Ipv4Cidr;
  readonly first: PodClaim[];
  /** Per claim of `first`, a claim of another cluster that overlaps this CIDR. */
  readonly rivals: (PodClaim | undefined)[];
}

/**
 * For each claim, a claim of another cluster that overlaps it (undefined: none). CIDRs nest or are disjoint: claims
 * are grouped by CIDR, and each group is compared with itself and the groups around it (one lookup per prefix
 * length in use), per cluster rather than per claim, so that many nodes claiming one CIDR cost no more than one.
 */
function rivalClaims(claims: readonly PodClaim[]): (claim: PodClaim) => PodClaim | undefined {
  const groups: Map<number, ClaimGroup>[] = Array.from({ length: 33 }, () => new Map());
  const groupOf = (c: Ipv4Cidr) => groups[c.prefix]!.get(networkNumber(c.base, c.prefix));
  for (const p of claims) {
    let g = groupOf(p.cidr);
    if (!g) {
      g = { cidr: p.cidr, first: [], rivals: [] };
      groups[p.cidr.prefix]!.set(networkNumber(p.cidr.base, p.cidr.prefix), g);
    }
    if (!g.first.some((c) => c.cluster === p.cluster)) g.first.push(p);
  }
  const lengths = groups.flatMap((byNumber, p) => (byNumber.size > 0 ? [p] : []));
  for (const byNumber of groups) {
    for (const g of byNumber.values()) {
      for (const p of lengths) {
        if (p >= g.cidr.prefix) break;
        const around = groups[p]!.get(networkNumber(g.cidr.base, p));
        if (!around) continue;
        markRivals(g, around);
        markRivals(around, g);
      }
      markRivals(g, g);
    }
  }
  return (claim) => {
    const g = groupOf(claim.cidr);
    return g?.rivals[g.first.findIndex((c) => c.cluster === claim.cluster)];
  };
}

/** Notes in `target`, per cluster, a claim of `source` by another cluster (the first noted stays). */
function markRivals(target: ClaimGroup, source: ClaimGroup): void {
  for (const [i, mine] of target.first.entries()) {
    if (target.rivals[i]) continue;
    const rival = source.first.find((c) => c.cluster !== mine.cluster);
    if (rival) target.rivals[i] = rival;
  }
}

/** Why a remote node's tunnel endpoint (node IP, VTEP IP and MAC) cannot be programmed, or undefined. */
function endpointProblem(n: RemoteNode): string | undefined {
  for (const [what, text] of [
    ['node IP', n.nodeIP],
    ['VTEP IP', n.vtepIP],
  ] as const) {
    const ip = parseIpv4(text);
    if (ip === undefined) return `${what} "${text}" is not an IPv4 address`;
    const range = notUnicastIpv4(ip);
    if (range) return `${what} ${text} is not a unicast address (${range})`;
  }
  const mac = normalizeMac(n.vtepMAC);
  if (!mac) return `VTEP MAC "${n.vtepMAC}" is not a MAC address`;
  const kind = notUnicastMac(mac);
  return kind ? `VTEP MAC ${mac} is not a unicast MAC (${kind})` : undefined;
}

/** This node's own tunnel endpoint and networks, parsed once for all the remote nodes checked against them. */
interface OwnAddresses {
  /** Its node IP and VTEP IP. */
  readonly ips: ReadonlySet<number>;
  readonly vtepIP: number | undefined;
  readonly vtepMAC: string | undefined;
  readonly networks: readonly Ipv4Cidr[];
}

function ownAddresses(self: TunnelEndpoint | undefined, networks: readonly Ipv4Cidr[]): OwnAddresses {
  const nodeIP = parseIpv4(self?.nodeIP ?? '');
  const vtepIP = parseIpv4(self?.vtepIP ?? '');
  const ips = new Set([nodeIP, vtepIP].filter((ip): ip is number => ip !== undefined));
  return { ips, vtepIP, vtepMAC: normalizeMac(self?.vtepMAC ?? ''), networks };
}

/**
 * Why a remote node's tunnel endpoint is this node's own, or undefined. Its node IP would send the tunnel's packets
 * back here (each loops until its TTL runs out); its VTEP IP or MAC would shadow this node's own entries. The node's
 * addresses are valid here (endpointProblem has passed).
 */
function selfProblem(n: RemoteNode, own: OwnAddresses): string | undefined {
  const nodeIP = parseIpv4(n.nodeIP) ?? -1;
  const inNetwork = own.networks.find((c) => cidrContains(c, nodeIP));
  if (own.ips.has(nodeIP) || inNetwork) {
    return `node IP ${n.nodeIP} is an address of this node${inNetwork ? ` (in ${formatCidr(inNetwork)})` : ''}: tunnelled packets would come back here`;
  }
  if (own.vtepIP !== undefined && parseIpv4(n.vtepIP) === own.vtepIP) return `VTEP IP ${n.vtepIP} is this node's own`;
  const mac = normalizeMac(n.vtepMAC);
  if (mac !== undefined && mac === own.vtepMAC) return `VTEP MAC ${mac} is this node's own`;
  return undefined;
}

/**
 * Why a remote node's nexthop id is not the overlay's to take, or undefined: a nexthop of another tool holds it
 * (replacing it would move that tool's routes into the tunnel, deleting it would delete them). The VTEP IP is
 * valid here (endpointProblem has passed).
 */
function nexthopProblem(n: RemoteNode, foreign: ReadonlyMap<number, LocalNexthop>): string | undefined {
  const held = foreign.get(nexthopId(n.vtepIP));
  return held
    ? `VTEP IP ${n.vtepIP} needs nexthop id ${held.id}, which the nexthop "${held.text}" holds: it is not fedmesh's`
    : undefined;
}

/**
 * Address ranges already claimed. CIDRs nest or are disjoint, so `c` overlaps a claim exactly when a claim is one of
 * the CIDRs around c (c included: one lookup per prefix length in use) or lies inside c (each claim marks the CIDRs
 * around it). A few hash lookups per check and per claim, in any order: sorted arrays cost an O(n) insertion per
 * claim, 0.2-0.4 s for 40k remote pod CIDRs in random or descending order (this: 40-50 ms in any order).
 */
class TakenRanges {
  /** Per prefix length, network number -> the first claim of exactly that CIDR. */
  private readonly claims: Map<number, Claimed>[] = Array.from({ length: 33 }, () => new Map());
  /** Per prefix length, network number -> the first claim strictly inside that CIDR. */
  private readonly inside: Map<number, Claimed>[] = Array.from({ length: 33 }, () => new Map());
  /** The prefix lengths claimed, shortest first. */
  private lengths: readonly number[] = [];

  /** A claim that overlaps `c`, if any: the widest around it, else one inside it. */
  overlapping(c: Ipv4Cidr): Claimed | undefined {
    for (const p of this.lengths) {
      if (p > c.prefix) break;
      const around = this.claims[p]!.get(networkNumber(c.base, p));
      if (around) return around;
    }
    return this.inside[c.prefix]!.get(networkNumber(c.base, c.prefix));
  }

  /** Claims `c`; claims may overlap (this node's own networks and routes do). */
  claim(c: Ipv4Cidr, label: string): void {
    const claimed = { cidr: c, label };
    const same = this.claims[c.prefix]!;
    const n = networkNumber(c.base, c.prefix);
    if (!same.has(n)) same.set(n, claimed);
    if (!this.lengths.includes(c.prefix)) this.lengths = [...this.lengths, c.prefix].sort((a, b) => a - b);
    // Narrowest first: where a CIDR around c is marked already, so are all the CIDRs around that one.
    for (let p = c.prefix - 1; p >= 0; p--) {
      const around = this.inside[p]!;
      const k = networkNumber(c.base, p);
      if (around.has(k)) break;
      around.set(k, claimed);
    }
  }
}

interface Claimed {
  readonly cidr: Ipv4Cidr;
  /** What it is, for messages ("10.244.0.0/24 of this cluster"). */
  readonly label: string;
}

/** Which CIDR of length `prefix` holds address `ip`, as a number (small: a map key without allocation). */
function networkNumber(ip: number, prefix: number): number {
  return Math.floor(ip / 2 ** (32 - prefix));
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
