// The policy calculation: endpoints, namespaces and policies in; the nftables content fedmesh wants out, kept
// current incrementally, with the names of what changed since the last flush. No I/O.
//
// Shape of the ruleset (table inet fedmesh), chosen so that per-endpoint work is data, not rules, and so that the
// table holds few sets (nft 1.0.6 fetches every set's declaration before each transaction: a delta's cost grows
// with the number of sets, not with the number of elements):
//  - one set `peers` of `ip . tag` for every peer selector (its tag) and every endpoint, local or remote, it selects;
//  - one set `named-ports` of `ip . protocol . port . tag` for every endpoint with a container port of that name;
//  - one interval set `except-nets` of `network range . tag` for every list of ipBlock exceptions (the network
//    itself inline in the rule), and one `port-lists` of `port range . tag` for every list of ports (a single port
//    or range stays inline); equal lists share a tag. Anonymous sets in rules would cost every later transaction
//    (nft loads them all), and nft fetches the elements of interval sets that are not concatenations;
//  - one chain per distinct ordered list of policies (`prof-<hash>`, a "profile"): their rules in order, Allow
//    returns, Deny drops, the end drops (a selected endpoint is denied what no rule allowed);
//  - two verdict maps from the IPs of this node's endpoints to their profile (`ingress-eps`, `egress-eps`);
//  - the base chain `forward`: established flows pass, then the egress profile of the source, then the ingress
//    profile of the destination. An address of this node's pod CIDRs that belongs to no known endpoint is dropped,
//    and so is an endpoint whose namespace is not known yet (fail closed);
//  - two sets of IPv6 addresses of this node's endpoints that a policy isolates, per direction: policy is decided
//    for IPv4 only, so their IPv6 traffic in that direction is dropped rather than let through unfiltered.
// Membership comes from one SelectorIndex over identities (identities.ts: endpoints grouped by the labels selectors
// read): a label change re-evaluates only the selectors that read that label, and 100k endpoints of a few thousand
// label combinations cost the index a few thousand items.

import { createHash } from 'node:crypto';
import { SetIndex } from '../../core/collections/set-index.js';
import { NetworkSet } from '../../core/net/network-set.js';
import { referencedLabels, type SelectorNode } from '../../core/selector/ast.js';
import { canonicalSelector } from '../../core/selector/canonical.js';
import { clusterScope } from '../../core/selector/cluster-scope.js';
import { type MatchDelta, SelectorIndex } from '../../core/selector/index.js';
import { parseIpv4, parseIpv4Cidr } from '../ipv4.js';
import {
  type ElementSink,
  emptyChanges,
  type NftChain,
  type NftChanges,
  type NftMap,
  type NftSet,
  type NftState,
} from '../nft/state.js';
import { endpointLabel, namespaceLabelView } from './endpoint-labels.js';
import { EndpointTable } from './endpoint-table.js';
import { Identities, type Identity, type Member } from './identities.js';
import {
  comparePolicies,
  type DataplanePolicy,
  type Direction,
  directions,
  type PolicyRule,
  type RulePeer,
} from './model.js';
import { element, PeerElements } from './peer-elements.js';
import { networkRanges, portRanges } from './ranges.js';
import { TagPool, tagExpression, tagText } from './tag-pool.js';

export interface EndpointPort {
  readonly name: string;
  readonly port: number;
  readonly protocol: 'TCP' | 'UDP' | 'SCTP';
}

/** A pod with an IP, local or remote. */
export interface Endpoint {
  readonly cluster: string;
  readonly namespace: string;
  readonly name: string;
  readonly nodeName: string;
  readonly ips: readonly string[];
  /**
   * Its IPv6 addresses (local pods; as the API writes them). Policy is decided for IPv4 only: while a policy isolates
   * the endpoint in a direction, its IPv6 traffic in that direction is dropped.
   */
  readonly ipv6?: readonly string[];
  readonly labels: Readonly<Record<string, string>>;
  readonly ports: readonly EndpointPort[];
}

export const ingressMap = 'ingress-eps';
export const egressMap = 'egress-eps';
export const localEndpointsSet = 'local-eps';
export const nodeCidrsSet = 'node-cidrs';
export const peersSet = 'peers';
export const namedPortsSet = 'named-ports';
export const portListsSet = 'port-lists';
export const exceptNetsSet = 'except-nets';
/** The remote pod CIDRs routed through the tunnel: the only sources a packet out of the tunnel may have. */
export const tunnelSourcesSet = 'tunnel-sources';
/** IPv6 addresses of this node's endpoints isolated for ingress (policy decided for IPv4 only: dropped). */
export const ingressIsolatedV6Set = 'ingress-isolated-v6';
/** The same for egress. */
export const egressIsolatedV6Set = 'egress-isolated-v6';
export const forwardChain = 'forward';

const hash = (s: string) => createHash('sha256').update(s).digest('hex').slice(0, 16);
const protoName = { TCP: 'tcp', UDP: 'udp', SCTP: 'sctp' } as const;
const ipSet = 'type ipv4_addr;';
const ipv6Set = 'type ipv6_addr;';
const intervalSet = 'type ipv4_addr; flags interval; auto-merge;';
/** The declaration of `peers` (a driver may create it ahead: NftDriver.streamSet). */
export const peersDecl = 'type ipv4_addr . mark;';
const namedPortsDecl = 'type ipv4_addr . inet_proto . inet_service . mark;';
const portListsDecl = 'type inet_service . mark; flags interval;';
const exceptNetsDecl = 'type ipv4_addr . mark; flags interval;';
/** A concatenation like except-nets (nft 1.0.6 reads back a plain interval set before every transaction). */
const tunnelSourcesDecl = 'type ipv4_addr . mark; flags interval;';
const tunnelSourceTag = 0;
const verdictMap = 'type ipv4_addr : verdict;';

export function endpointKey(cluster: string, namespace: string, name: string): string {
  return `${cluster}/${namespace}/${name}`;
}

/**
 * The rules of the base chain: what came out of the tunnel with a source it does not route (a spoofed local or
 * unknown address: any host can send VXLAN to the port) or as IPv6 is dropped, even for an established flow;
 * then established flows pass, unknown local addresses are dropped (fail closed), and the rest is dispatched.
 */
export function forwardRules(tunnelDevice?: string): string[] {
  const tunnel =
    tunnelDevice === undefined
      ? []
      : [
          `iifname "${tunnelDevice}" meta nfproto ipv6 drop`,
          `iifname "${tunnelDevice}" ip saddr . ${tagExpression(tunnelSourceTag)} != @${tunnelSourcesSet} drop`,
        ];
  return [
    ...tunnel,
    'ct state established,related accept',
    'ct state invalid drop',
    `ip6 daddr @${ingressIsolatedV6Set} drop`,
    `ip6 saddr @${egressIsolatedV6Set} drop`,
    `ip saddr @${nodeCidrsSet} ip saddr != @${localEndpointsSet} drop`,
    `ip daddr @${nodeCidrsSet} ip daddr != @${localEndpointsSet} drop`,
    `ip saddr vmap @${egressMap}`,
    `ip daddr vmap @${ingressMap}`,
  ];
}

interface ProfileEntry {
  readonly direction: Direction;
  readonly policies: readonly string[];
  refs: number;
}

export class PolicyCalculation {
  /** Selectors are filed under interned objects: an index result leads to its tag with no lookup by name. */
  private readonly index = new SelectorIndex<SelectorRef, EndpointIdentity>();
  private readonly identities = new Identities<SelectorRef, EndpointEntry>();
  /** Every endpoint, with its identity. */
  private readonly endpoints = new EndpointTable<EndpointEntry>();
  /** This node's endpoints by key (endpointKey). */
  private readonly hereByKey = new Map<string, EndpointEntry>();
  /** Local namespaces -> their labels as endpoints see them (namespaceLabelView). */
  private readonly namespaceLabels = new Map<string, Readonly<Record<string, string>>>();
  private readonly policies = new Map<string, DataplanePolicy>();
  /** Policy key -> the index's id of its own selector. */
  private readonly policyRefs = new Map<string, PolicyRef>();
  /** Peer selector (canonical form) -> its tag in `peers` and reference count (rules naming it). */
  private readonly peers = new Map<string, PeerSelection>();
  /**
   * Named port in a scope (portNameKey) -> its tag in `named-ports` and reference count (rules naming it). A name
   * resolves on local endpoints only, unless the rule's peer may select remote ones (see namedPortScope).
   */
  private readonly portNames = new Map<string, NamedPortTag>();
  private readonly peerTags = new TagPool();
  private readonly portTags = new TagPool();
  /** Lists of ports and of excepted networks (listKey) -> their tag and reference count (rules naming them). */
  private readonly lists = new Map<string, Tagged>();
  private readonly listTags = new TagPool();
  private readonly ruleTags: RuleTags;
  private readonly profiles = new Map<string, ProfileEntry>();
  /** Profile chain -> the policy each of its rules comes from (undefined: the base chain's and the final drop). */
  private readonly ruleOwners = new Map<string, readonly (string | undefined)[]>();
  /**
   * Policies with a rule nft refused (key -> the policy as refused, nft's message, and the directions of the refused
   * rules): in those directions a drop stands where their rules would be, until the policy changes or the refusals
   * are retried. Without this, one rule nft cannot take (from a policy older than the admission webhook, say) would
   * fail every full sync and freeze the node's whole ruleset.
   */
  private readonly refused = new Map<
    string,
    { readonly policy: DataplanePolicy; readonly reason: string; readonly directions: Set<Direction> }
  >();
  /** Addresses of local endpoints (any node) -> how many hold them: a remote endpoint never counts with these. */
  private readonly localIps = new Map<string, number>();
  /** Addresses of endpoints (local and remote) -> the endpoints holding them. */
  private readonly ipHolders = new SetIndex<string, EndpointEntry>();
  /** This node's pod CIDRs as numeric ranges: no remote endpoint counts with an address in them either. */
  private nodeRanges: readonly NodeRange[] = [];
  /** The cluster's other networks (setLocalNetworks). */
  private localNetworks = new NetworkSet([]);
  /** This node's endpoint addresses -> the endpoints holding them (usually one). */
  private readonly ipOwners = new SetIndex<string, string>();
  /** This node's endpoints -> their profile chain per direction (undefined: no policy selects it). */
  private readonly endpointProfiles = new Map<string, EndpointProfiles>();
  /**
   * Per set, elements that more than one endpoint contributes (two pods may share an IP for a moment), with the
   * count beyond the first; an element in the set and not here has exactly one contributor.
   */
  private readonly extra = new Map<string, Map<string, number>>();
  /** The elements of `peers`. */
  private readonly peerMembers = new PeerElements<PeerSelection>(() => this.peerContributions());
  /** The elements of every other set (the same objects as in `desired`). */
  private readonly plainSets = new Map<string, Set<string>>();
  private readonly state: NftState;
  /**
   * Policies received before the first full sync, applied when it reads the state (key -> the policy, or undefined
   * for a delete), and this node's endpoints to refresh once they are in; undefined once applied (or streamPeers).
   * At a start the agent lists a few policies and up to 100k endpoints in any order: applied after the endpoints,
   * a selector gaining an identity counts its elements at once (identityMembership), and no profile is built for
   * a prefix of an endpoint's policy list.
   */
  private pending: PendingPolicies | undefined = { queue: new Map(), refresh: new Set() };
  private changes: NftChanges = emptyChanges();
  /** Off until the first full sync: a full sync reads `desired`, and recording 100k element changes costs. */
  private tracking = false;
  /** Until the first full sync, where every change of `peers` goes as it happens (streamPeers). */
  private stream: ElementSink | undefined;

  /**
   * @param options.tunnelDevice the VXLAN device: packets it delivers must come from a remote pod CIDR routed
   *   through it (setTunnelSources); none, no such check (no overlay on this node).
   */
  constructor(
    private readonly localCluster: string,
    private readonly nodeName: string,
    options: { readonly tunnelDevice?: string } = {},
  ) {
    this.ruleTags = { peers: this.peers, portNames: this.portNames, lists: this.lists, localCluster };
    this.state = {
      sets: new Map<string, NftSet>([[peersSet, { declaration: peersDecl, elements: this.peerMembers }]]),
      maps: new Map<string, NftMap>([
        [ingressMap, { declaration: verdictMap, elements: new Map() }],
        [egressMap, { declaration: verdictMap, elements: new Map() }],
      ]),
      chains: new Map<string, NftChain>([
        [
          forwardChain,
          {
            hook: 'type filter hook forward priority filter; policy accept;',
            rules: forwardRules(options.tunnelDevice),
          },
        ],
      ]),
    };
    this.addPlainSet(localEndpointsSet, ipSet);
    this.addPlainSet(nodeCidrsSet, intervalSet);
    this.addPlainSet(namedPortsSet, namedPortsDecl);
    this.addPlainSet(portListsSet, portListsDecl);
    this.addPlainSet(exceptNetsSet, exceptNetsDecl);
    this.addPlainSet(ingressIsolatedV6Set, ipv6Set);
    this.addPlainSet(egressIsolatedV6Set, ipv6Set);
    if (options.tunnelDevice !== undefined) this.addPlainSet(tunnelSourcesSet, tunnelSourcesDecl);
  }

  /** The nftables content wanted now. */
  get desired(): NftState {
    this.applyPendingPolicies();
    return this.state;
  }

  /** What changed since the last call; the caller programs it (or, after a failure, resyncs everything). */
  takeChanges(): NftChanges {
    this.applyPendingPolicies();
    const c = this.changes;
    this.changes = emptyChanges();
    this.recycleTags();
    return c;
  }

  private recycleTags(): void {
    this.peerTags.recycle();
    this.portTags.recycle();
    this.listTags.recycle();
  }

  /**
   * Starts (or stops) recording changes. Call it with true right before rendering a full sync; with false, only
   * full syncs may program `desired`.
   */
  trackChanges(on: boolean): void {
    this.applyPendingPolicies();
    this.tracking = on;
    if (on) this.stream = undefined;
    this.changes = emptyChanges();
    this.recycleTags();
  }

  /**
   * Until changes are tracked (trackChanges(true): a full sync's prepare), tells `sink` every element that comes
   * into or leaves `peers` as it happens, starting with those it holds now, so that a driver can load them into the
   * kernel while the rest is computed (NftDriver.streamSet). Held policies are applied now: with selectors in place, elements
   * appear as endpoints come (filing identities, selectors first costs about what selectors last does).
   */
  streamPeers(sink: ElementSink): void {
    this.applyPendingPolicies();
    this.stream = sink;
    for (const el of this.peerMembers) sink.add(el);
  }

  /**
   * nft refused `rule`, rule `index` of `chain` as rendered: the policy it comes from is programmed as a drop in that
   * direction from now on (until it changes, or retryRefusedPolicies). Returns that policy's key; undefined when the
   * rule is no policy's, or the chain changed since (the next full sync tells again).
   */
  refuseRule(chain: string, index: number, rule: string, reason: string): string | undefined {
    const prof = this.profiles.get(chain);
    if (!prof || this.state.chains.get(chain)?.rules[index] !== rule) return undefined;
    const key = this.ruleOwners.get(chain)?.[index];
    const policy = key === undefined ? undefined : this.policies.get(key);
    if (key === undefined || !policy) return undefined;
    const entry = this.refused.get(key) ?? { policy, reason, directions: new Set<Direction>() };
    this.refused.set(key, entry);
    if (!entry.directions.has(prof.direction)) {
      entry.directions.add(prof.direction);
      this.renderProfilesOf(key);
    }
    return key;
  }

  get refusedPolicyCount(): number {
    return this.refused.size;
  }

  /** Policies programmed as a drop because nft refused their rules: key -> nft's message. */
  refusedPolicies(): Map<string, string> {
    return new Map([...this.refused].map(([k, r]) => [k, r.reason]));
  }

  /**
   * Lifts every refusal, so that the next full sync tries those policies again (what nft refused may have been the
   * node's fault: a kernel module missing, since loaded). Returns how many there were.
   */
  retryRefusedPolicies(): number {
    const keys = [...this.refused.keys()];
    this.refused.clear();
    for (const key of keys) this.renderProfilesOf(key);
    return keys.length;
  }

  private renderProfilesOf(policyKey: string): void {
    for (const [name, prof] of this.profiles) if (prof.policies.includes(policyKey)) this.renderProfile(name, prof);
  }

  get endpointCount(): number {
    return this.endpoints.size;
  }

  get policyCount(): number {
    let n = this.policies.size;
    for (const [key, p] of this.pending?.queue ?? []) n += (p ? 1 : 0) - (this.policies.has(key) ? 1 : 0);
    return n;
  }

  private applyPendingPolicies(): void {
    const pending = this.pending;
    if (!pending) return;
    this.pending = undefined;
    try {
      for (const [key, p] of pending.queue) {
        if (p) this.applyPolicy(p, pending.refresh);
        else this.removePolicy(key, pending.refresh);
      }
    } finally {
      // Even after a throw (a bug): an endpoint a policy selects must get its verdict, never stay unfiltered.
      for (const key of pending.refresh) this.refreshEndpoint(key);
    }
  }

  // ---- inputs

  /**
   * The remote pod CIDRs the overlay routes through the tunnel now (each an IPv4 network; others are ignored).
   * Returns whether the set changed.
   */
  setTunnelSources(cidrs: Iterable<string>): boolean {
    if (!this.plainSets.has(tunnelSourcesSet)) return false;
    const want = new Set<string>();
    for (const c of cidrs) {
      // One element per network, not merged: the overlay's networks never overlap, and an element that merging
      // grew would have to be replaced (removed and added) where nothing changed.
      const range = networkRanges([c])?.[0];
      if (range !== undefined) want.add(`${range} . ${tagText(tunnelSourceTag)}`);
    }
    return this.replaceElements(tunnelSourcesSet, want);
  }

  setNodeCIDRs(cidrs: readonly string[]): void {
    if (!this.replaceElements(nodeCidrsSet, new Set(cidrs))) return;
    this.recountRemoteAddresses(() => {
      this.nodeRanges = cidrs.flatMap((c) => {
        const r = parseIpv4Cidr(c);
        return r ? [nodeRange(r.base, r.prefix, c)] : [];
      });
    });
  }

  /**
   * Networks of this cluster beyond this node's pod CIDRs: every node's pod CIDRs and addresses. No remote endpoint
   * counts with an address in them: a remote cluster claiming a local node's address (where host-network pods
   * answer) or a free address of another node's pod CIDR would otherwise pass for its pod there.
   */
  setLocalNetworks(cidrs: Iterable<string>): void {
    const next = new NetworkSet(cidrs);
    if (next.key === this.localNetworks.key) return;
    this.recountRemoteAddresses(() => {
      this.localNetworks = next;
    });
  }

  /** Makes one of the plain sets hold exactly `want`; whether anything changed. */
  private replaceElements(set: string, want: ReadonlySet<string>): boolean {
    const elements = this.plainSets.get(set);
    if (!elements) return false;
    let changed = false;
    for (const el of [...elements]) {
      if (want.has(el)) continue;
      this.removeElement(set, el);
      changed = true;
    }
    for (const el of want) {
      if (elements.has(el)) continue;
      this.addElement(set, el);
      changed = true;
    }
    return changed;
  }

  /**
   * Changes what counts as a local address (`change`), then makes every remote address whose standing changed
   * start or stop counting. O(remote addresses).
   */
  private recountRemoteAddresses(change: () => void): void {
    const before = new Map([...this.remoteAddresses()].map((ip) => [ip, this.isLocalAddress(ip)]));
    change();
    for (const [ip, was] of before) if (this.isLocalAddress(ip) !== was) this.remoteAddressCounts(ip, was);
  }

  /**
   * Remote addresses that do not count because a local endpoint holds them or they lie in this node's pod CIDRs or
   * the cluster's own networks (a remote cluster claiming a local address would otherwise pass for a local pod).
   * O(remote addresses).
   */
  refusedRemoteAddresses(): number {
    let n = 0;
    for (const ip of this.remoteAddresses()) if (this.isLocalAddress(ip)) n++;
    return n;
  }

  upsertEndpoint(given: Endpoint): void {
    // Every address counts once: membership is counted per address, and a repeated one would be added twice and
    // removed once (left in a peer set after its endpoint went). Sources drop repeats; this is the last guard.
    const ep =
      given.ips.length > 1 && new Set(given.ips).size < given.ips.length
        ? { ...given, ips: [...new Set(given.ips)] }
        : given;
    const identity = this.identityOf(ep);
    const entry = this.endpoints.get(ep.cluster, ep.namespace, ep.name);
    if (!entry) {
      const added: EndpointEntry = { key: undefined, ep, identity, at: 0, counted: NO_IPS };
      this.endpoints.set(ep.cluster, ep.namespace, ep.name, added);
      this.identities.join(identity, added);
      this.placeOnNode(added);
      this.takeIps(added);
      this.portElements(added, true);
      if (added.key !== undefined) this.refreshEndpoint(added.key);
      if (ep.cluster === this.localCluster) this.moveLocalIps([], ep.ips);
      return;
    }
    const old = entry.ep;
    const was = entry.identity;
    const sameIps = sameList(old.ips, ep.ips);
    const samePorts = sameIps && JSON.stringify(old.ports) === JSON.stringify(ep.ports);
    if (!samePorts) this.portElements(entry, false);
    // New addresses: the old ones leave every set the endpoint was in, the new ones join those it is in now.
    if (!sameIps) this.releaseIps(entry);
    entry.ep = ep;
    this.moveMember(entry, identity);
    if (!sameIps) this.takeIps(entry);
    else if (was !== identity) {
      for (const sel of identity.selectors) if (!was.selectors.has(sel)) this.peerMembership(sel, entry, true);
      for (const sel of was.selectors) if (!identity.selectors.has(sel)) this.peerMembership(sel, entry, false);
    }
    if (!samePorts) this.portElements(entry, true);
    if (entry.key !== undefined) this.refreshEndpoint(entry.key);
    if (ep.cluster === this.localCluster && !sameIps) this.moveLocalIps(old.ips, ep.ips);
  }

  deleteEndpoint(cluster: string, namespace: string, name: string): void {
    const entry = this.endpoints.get(cluster, namespace, name);
    if (!entry) return;
    const old = entry.ep;
    this.portElements(entry, false);
    this.releaseIps(entry);
    this.endpoints.delete(cluster, namespace, name);
    if (entry.key !== undefined) this.hereByKey.delete(entry.key);
    this.leaveIdentity(entry, entry.identity);
    if (entry.key !== undefined) this.refreshEndpoint(entry.key);
    if (cluster === this.localCluster) this.moveLocalIps(old.ips, []);
  }

  /** The endpoint holds its addresses: it counts with them in the peer sets of its identity's selectors. */
  private takeIps(entry: EndpointEntry): void {
    for (const ip of entry.ep.ips) {
      const holders = this.ipHolders.get(ip);
      // A second holder: the first one's contributions are counted from now on (peer-elements.ts).
      for (const first of holders) this.peerMembers.share(ip, this.contributedTags(first, ip));
      this.ipHolders.add(ip, entry);
    }
    entry.counted = this.countedIps(entry.ep);
    for (const sel of entry.identity.selectors) this.peerMembership(sel, entry, true);
  }

  /** The endpoint lets go of its addresses (before they change, or it goes). */
  private releaseIps(entry: EndpointEntry): void {
    for (const sel of entry.identity.selectors) this.peerMembership(sel, entry, false);
    entry.counted = NO_IPS;
    for (const ip of entry.ep.ips) {
      this.ipHolders.delete(ip, entry);
      if (this.peerMembers.isShared(ip) && !hasTwo(this.ipHolders.get(ip))) this.peerMembers.unshare(ip);
    }
  }

  /** The peer tags an endpoint contributes `ip` to now. */
  private *contributedTags(entry: EndpointEntry, ip: string): Generator<PeerSelection> {
    if (!entry.counted.includes(ip)) return;
    for (const sel of entry.identity.selectors) if (sel.kind === 'peer') yield sel;
  }

  // ---- addresses: a local endpoint's address is its own; a remote endpoint claiming it does not count

  private isLocalAddress(ip: string): boolean {
    if (this.localIps.has(ip)) return true;
    for (const r of this.nodeRanges) {
      // Addresses are strict dotted quads (no leading zeros): one in an octet-aligned range starts with its text.
      if (r.text !== undefined && !ip.startsWith(r.text)) continue;
      const n = parseIpv4(ip);
      if (n !== undefined && n >= r.base && n < r.base + r.size) return true;
    }
    return !this.localNetworks.empty && this.localNetworks.contains(ip);
  }

  /** The addresses an endpoint counts with in peer selections and named ports. */
  private countedIps(ep: Endpoint): readonly string[] {
    if (ep.cluster === this.localCluster) return ep.ips;
    return ep.ips.some((ip) => this.isLocalAddress(ip)) ? ep.ips.filter((ip) => !this.isLocalAddress(ip)) : ep.ips;
  }

  private moveLocalIps(before: readonly string[], after: readonly string[]): void {
    for (const ip of after) {
      const wasLocal = this.isLocalAddress(ip);
      this.localIps.set(ip, (this.localIps.get(ip) ?? 0) + 1);
      if (!wasLocal) this.remoteAddressCounts(ip, false);
    }
    for (const ip of before) {
      const n = this.localIps.get(ip) ?? 0;
      if (n > 1) this.localIps.set(ip, n - 1);
      else this.localIps.delete(ip);
      if (!this.isLocalAddress(ip)) this.remoteAddressCounts(ip, true);
    }
  }

  /** The remote endpoints holding `ip` start (or stop) counting with it, in every selection and named port. */
  private remoteAddressCounts(ip: string, counts: boolean): void {
    for (const entry of [...this.ipHolders.get(ip)]) {
      if (entry.ep.cluster === this.localCluster || entry.counted.includes(ip) === counts) continue;
      // This address only: a caller going through several updates the others in their turn.
      entry.counted = counts
        ? entry.ep.ips.filter((a) => a === ip || entry.counted.includes(a))
        : entry.counted.filter((a) => a !== ip);
      for (const sel of entry.identity.selectors) this.peerAddress(sel, ip, counts);
      this.portAddress(entry.ep, ip, counts);
    }
  }

  /** Addresses some remote endpoint holds. */
  private *remoteAddresses(): Generator<string> {
    for (const ip of this.ipHolders.keys()) {
      for (const entry of this.ipHolders.get(ip)) {
        if (entry.ep.cluster !== this.localCluster) {
          yield ip;
          break;
        }
      }
    }
  }

  /** Labels of a local namespace (undefined: deleted). Its endpoints are re-labelled with `pcns.*`. */
  setNamespace(name: string, labels: Readonly<Record<string, string>> | undefined): void {
    if (labels) this.namespaceLabels.set(name, namespaceLabelView(labels, this.localCluster));
    else this.namespaceLabels.delete(name);
    for (const { ep } of this.endpoints.values()) {
      if (ep.cluster === this.localCluster && ep.namespace === name) this.upsertEndpoint(ep);
    }
  }

  upsertPolicy(p: DataplanePolicy): void {
    // Its keys now, even while it is held: endpoints listed before it is applied are grouped by them from the start.
    this.readKeysOf(policySelectors(p));
    if (this.pending) {
      this.pending.queue.set(p.key, p);
      return;
    }
    this.applyPolicy(p);
  }

  deletePolicy(key: string): void {
    if (this.pending) {
      this.pending.queue.set(key, undefined);
      return;
    }
    this.removePolicy(key);
  }

  /**
   * @param deferred while held policies are applied: this node's endpoints to refresh once all are in. Refreshing
   *   after each policy would build and render a profile for every prefix of an endpoint's policy list (20
   *   policies selecting an endpoint: 20 profiles and 210 policy renderings, where 1 and 20 do).
   */
  private applyPolicy(p: DataplanePolicy, deferred?: Set<string>): void {
    const refusal = this.refused.get(p.key);
    // A relist delivers the same policy again: it stays refused; a changed one is tried again.
    if (refusal && JSON.stringify(refusal.policy) !== JSON.stringify(p)) this.refused.delete(p.key);
    const old = this.policies.get(p.key);
    this.policies.set(p.key, p);
    // Retain before release: a tag both versions use is kept, not freed and its elements rebuilt.
    this.retainRuleRefs(p);
    if (old) this.releaseRuleRefs(old);
    let ref = this.policyRefs.get(p.key);
    if (!ref) {
      ref = { kind: 'policy', key: p.key };
      this.policyRefs.set(p.key, ref);
    }
    const delta = this.setSelector(ref, p.selector);
    // This node's endpoints it selected or selects: their profiles change (its rules or types may have, too).
    const affected = new Set<string>();
    for (const identity of [...delta.lost, ...this.index.matchingItems(ref)]) {
      for (const key of identity.here) affected.add(key);
    }
    for (const key of affected) {
      if (deferred) deferred.add(key);
      else this.refreshEndpoint(key);
    }
    // Its rules may have changed: every profile that holds it is rendered again.
    this.renderProfilesOf(p.key);
  }

  private removePolicy(key: string, deferred?: Set<string>): void {
    const old = this.policies.get(key);
    if (!old) return;
    this.refused.delete(key);
    const ref = this.policyRefs.get(key);
    const lost = ref ? this.deleteSelector(ref) : [];
    this.policyRefs.delete(key);
    this.policies.delete(key);
    for (const identity of lost) {
      for (const k of identity.here) {
        if (deferred) deferred.add(k);
        else this.refreshEndpoint(k);
      }
    }
    this.releaseRuleRefs(old);
  }

  // ---- membership

  private nsLabelsOf(ep: Endpoint): Readonly<Record<string, string>> | undefined {
    return ep.cluster === this.localCluster ? this.namespaceLabels.get(ep.namespace) : undefined;
  }

  private onThisNode(ep: Endpoint): boolean {
    return ep.cluster === this.localCluster && ep.nodeName === this.nodeName;
  }

  // ---- identities: every selector goes into the index through these, so that each identity knows its selectors

  /** The identity of an endpoint's labels, made and filed in the index when it is new. */
  private identityOf(ep: Endpoint): EndpointIdentity {
    const nsView = this.nsLabelsOf(ep);
    return this.identities.find(
      (key) => endpointLabel(ep.labels, ep.cluster, ep.namespace, nsView, key),
      (made) => {
        for (const sel of this.index.setItem(made, made.labels).gained) made.selectors.add(sel);
      },
    );
  }

  /** Moves an endpoint between identities (or onto or off this node within one). */
  private moveMember(entry: EndpointEntry, to: EndpointIdentity): void {
    const from = entry.identity;
    entry.identity = to;
    if (from !== to) {
      this.leaveIdentity(entry, from); // first: joining overwrites the entry's place
      this.identities.join(to, entry);
    }
    this.placeOnNode(entry);
  }

  /**
   * Files the endpoint as one of this node's, or not, as its node says now. Only this node's endpoints (now or
   * before) get a key: the other 100k never need one.
   */
  private placeOnNode(entry: EndpointEntry): void {
    const { ep } = entry;
    if (this.onThisNode(ep)) {
      entry.key ??= endpointKey(ep.cluster, ep.namespace, ep.name);
      entry.identity.here.add(entry.key);
      this.hereByKey.set(entry.key, entry);
    } else if (entry.key !== undefined) {
      entry.identity.here.delete(entry.key);
      this.hereByKey.delete(entry.key);
    }
  }

  private leaveIdentity(entry: EndpointEntry, identity: EndpointIdentity): void {
    if (entry.key !== undefined) identity.here.delete(entry.key);
    if (this.identities.leave(identity, entry)) this.index.deleteItem(identity);
  }

  private setSelector(ref: SelectorRef, node: SelectorNode): MatchDelta<EndpointIdentity> {
    this.readKeysOf([node]);
    const delta = this.index.setSelector(ref, node);
    for (const identity of delta.gained) identity.selectors.add(ref);
    for (const identity of delta.lost) identity.selectors.delete(ref);
    return delta;
  }

  private deleteSelector(ref: SelectorRef): readonly EndpointIdentity[] {
    const lost = this.index.deleteSelector(ref).lost;
    for (const identity of lost) identity.selectors.delete(ref);
    return lost;
  }

  /**
   * Makes identities tell apart every key these selectors read. A new key splits identities: every endpoint moves
   * to the identity of its labels under the longer key list. The selectors filed so far read none of the new keys,
   * so each new identity matches what its endpoints' old one did: no element changes, only the grouping. O(endpoints),
   * once per label key that selectors start to read.
   */
  private readKeysOf(selectors: Iterable<SelectorNode>): void {
    const keys = new Set<string>();
    for (const node of selectors) for (const k of referencedLabels(node)) keys.add(k);
    if (!this.identities.addKeys(keys)) return;
    // Every identity was forgotten: each endpoint finds its new one, and an old one is taken out of the index as its
    // last member leaves.
    for (const entry of this.endpoints.values()) this.moveMember(entry, this.identityOf(entry.ep));
  }

  private identityMembership(peer: SelectorRef, identity: EndpointIdentity, member: boolean): void {
    if (peer.kind !== 'peer') return;
    if (!this.tracking && !this.stream && !this.peerMembers.anyShared) {
      // Nothing to record, and no address held twice: every counted address of a member is an element of its own.
      let n = 0;
      for (const entry of identity.members) n += entry.counted.length;
      this.peerMembers.contributeUnshared(n, member);
      return;
    }
    for (const entry of identity.members) this.peerMembership(peer, entry, member);
  }

  private peerMembership(peer: SelectorRef, entry: EndpointEntry, member: boolean): void {
    if (peer.kind !== 'peer') return; // a policy's main selector
    for (const ip of entry.counted) this.peerAddress(peer, ip, member);
  }

  /** Every peer tag with the addresses of the endpoints it selects (peer-elements.ts). */
  private *peerContributions(): Generator<readonly [PeerSelection, Iterable<string>]> {
    for (const sel of this.peers.values()) yield [sel, this.addressesOf(sel)];
  }

  private *addressesOf(sel: PeerSelection): Generator<string> {
    for (const identity of this.index.matchingItems(sel)) {
      for (const entry of identity.members) yield* entry.counted;
    }
  }

  private peerAddress(peer: SelectorRef, ip: string, member: boolean): void {
    if (peer.kind !== 'peer') return;
    if (!this.peerMembers.contribute(peer, ip, member)) return;
    if (this.tracking) {
      if (member) this.recordAdded(peersSet, element(peer, ip));
      else this.recordRemoved(peersSet, element(peer, ip));
    } else if (this.stream) {
      if (member) this.stream.add(element(peer, ip));
      else this.stream.remove(element(peer, ip));
    }
  }

  /** The endpoint's elements in `named-ports`: of every named port tag, or only of the tag `only`. */
  private portElements(entry: EndpointEntry, add: boolean, only?: NamedPortTag): void {
    if (this.portNames.size === 0) return; // no rule names a port: no endpoint has elements in named-ports
    for (const ip of entry.counted) this.portAddress(entry.ep, ip, add, only);
  }

  private portAddress(ep: Endpoint, ip: string, add: boolean, only?: NamedPortTag): void {
    const local = ep.cluster === this.localCluster;
    for (const p of ep.ports) {
      for (const scope of local ? namedPortScopes : remoteNamedPortScopes) {
        if (only !== undefined && (p.name !== only.name || scope !== only.scope)) continue;
        const named = this.portNames.get(portNameKey(scope, p.name));
        if (!named) continue;
        const el = `${ip} . ${protoName[p.protocol]} . ${p.port} . ${named.text}`;
        if (add) this.addElement(namedPortsSet, el);
        else this.removeElement(namedPortsSet, el);
      }
    }
  }

  private addElement(set: string, el: string): void {
    const elements = this.plainSets.get(set);
    if (!elements) return;
    const before = elements.size;
    elements.add(el); // one lookup: the size says whether it was there
    if (elements.size === before) {
      let extra = this.extra.get(set);
      if (!extra) {
        extra = new Map();
        this.extra.set(set, extra);
      }
      extra.set(el, (extra.get(el) ?? 0) + 1);
      return;
    }
    if (this.tracking) this.recordAdded(set, el);
  }

  private removeElement(set: string, el: string): void {
    const elements = this.plainSets.get(set);
    if (!elements?.has(el)) return;
    const extra = this.extra.get(set);
    const n = extra?.get(el);
    if (n !== undefined) {
      if (n > 1) extra?.set(el, n - 1);
      else extra?.delete(el);
      return;
    }
    elements.delete(el);
    if (this.tracking) this.recordRemoved(set, el);
  }

  private recordAdded(set: string, el: string): void {
    const c = this.setChange(set);
    if (!c.removed.delete(el)) c.added.add(el);
  }

  private recordRemoved(set: string, el: string): void {
    const c = this.setChange(set);
    if (!c.added.delete(el)) c.removed.add(el);
  }

  private setChange(set: string): { added: Set<string>; removed: Set<string> } {
    let c = this.changes.sets.get(set);
    if (!c) {
      c = { added: new Set(), removed: new Set() };
      this.changes.sets.set(set, c);
    }
    return c;
  }

  /** One of the fixed sets of plain elements (every set but `peers`). */
  private addPlainSet(name: string, declaration: string): void {
    const elements = new Set<string>();
    this.plainSets.set(name, elements);
    this.state.sets.set(name, { declaration, elements });
  }

  // ---- rule references: peer selectors, named ports, nets

  private retainRuleRefs(p: DataplanePolicy): void {
    for (const [direction, rule] of rulesOf(p)) {
      for (const peer of rule.peers ?? []) {
        if (peer.kind === 'selector') {
          const id = peerSelectorKey(peer);
          const entry = this.peers.get(id);
          if (entry) {
            entry.refs++;
            continue;
          }
          const sel: PeerSelection = { kind: 'peer', ...tagged(this.peerTags.take()) };
          this.peers.set(id, sel);
          for (const identity of this.setSelector(sel, peer.selector).gained)
            this.identityMembership(sel, identity, true);
        } else {
          const except = networkRanges(peer.except);
          if (except && except.length > 0) this.retainList(exceptNetsSet, except);
        }
      }
      const services = portRanges(rule.ports);
      if (services.length > 1) this.retainList(portListsSet, services);
      for (const port of rule.ports) {
        if (port.kind !== 'named') continue;
        for (const scope of ruleNamedPortScopes(rule, direction, this.localCluster)) {
          const key = portNameKey(scope, port.name);
          const named = this.portNames.get(key);
          if (named) {
            named.refs++;
            continue;
          }
          const created: NamedPortTag = { ...tagged(this.portTags.take()), name: port.name, scope };
          this.portNames.set(key, created);
          for (const entry of this.endpoints.values()) this.portElements(entry, true, created);
        }
      }
    }
  }

  /** A list of constant ranges (networks, ports) under one tag, shared by the rules that name an equal list. */
  private retainList(set: string, ranges: readonly string[]): void {
    const key = listKey(set, ranges);
    const entry = this.lists.get(key);
    if (entry) {
      entry.refs++;
      return;
    }
    const created = tagged(this.listTags.take());
    this.lists.set(key, created);
    for (const r of ranges) this.addElement(set, `${r} . ${created.text}`);
  }

  private releaseList(set: string, ranges: readonly string[]): void {
    const key = listKey(set, ranges);
    const entry = this.lists.get(key);
    if (!entry || --entry.refs > 0) return;
    for (const r of ranges) this.removeElement(set, `${r} . ${entry.text}`);
    this.lists.delete(key);
    this.listTags.release(entry.tag);
  }

  private releaseRuleRefs(p: DataplanePolicy): void {
    for (const [direction, rule] of rulesOf(p)) {
      for (const peer of rule.peers ?? []) {
        if (peer.kind === 'selector') {
          const id = peerSelectorKey(peer);
          const entry = this.peers.get(id);
          if (!entry || --entry.refs > 0) continue;
          for (const identity of this.deleteSelector(entry)) this.identityMembership(entry, identity, false);
          this.peers.delete(id);
          this.peerTags.release(entry.tag);
        } else {
          const except = networkRanges(peer.except);
          if (except && except.length > 0) this.releaseList(exceptNetsSet, except);
        }
      }
      const services = portRanges(rule.ports);
      if (services.length > 1) this.releaseList(portListsSet, services);
      for (const port of rule.ports) {
        if (port.kind !== 'named') continue;
        for (const scope of ruleNamedPortScopes(rule, direction, this.localCluster)) {
          const key = portNameKey(scope, port.name);
          const named = this.portNames.get(key);
          if (!named || --named.refs > 0) continue;
          for (const entry of this.endpoints.values()) this.portElements(entry, false, named);
          this.portNames.delete(key);
          this.portTags.release(named.tag);
        }
      }
    }
  }

  // ---- this node's endpoints and their profiles

  /** Recomputes an endpoint of this node: local-eps membership and the verdict maps for its IPs. */
  private refreshEndpoint(key: string): void {
    const entry = this.hereByKey.get(key);
    const ep = entry?.ep;
    const before = this.endpointProfiles.get(key);
    const live = ep !== undefined;
    let after: EndpointProfiles | undefined;
    if (live) {
      const known = this.namespaceLabels.has(ep.namespace);
      const selecting = [...entry!.identity.selectors]
        .map((s) => (s.kind === 'policy' ? this.policies.get(s.key) : undefined))
        .filter((p): p is DataplanePolicy => p !== undefined)
        .sort(comparePolicies);
      after = { ips: ep.ips, ipv6: ep.ipv6 ?? [] };
      for (const dir of directions) {
        // Fail closed: until its namespace is known, the namespace selectors of its policies cannot be decided.
        if (!known) {
          after[dir] = 'drop';
          continue;
        }
        const list = selecting.filter((p) => p.types.includes(dir)).map((p) => p.key);
        if (list.length > 0) after[dir] = this.retainProfile(dir, list);
      }
    }
    if (after) this.endpointProfiles.set(key, after);
    else this.endpointProfiles.delete(key);
    this.ipOwners.move(key, before?.ips ?? [], after?.ips ?? []);
    // Verdict map entries of every address it held or holds, from whichever endpoints hold it now.
    for (const ip of new Set([...(before?.ips ?? []), ...(after?.ips ?? [])])) {
      for (const dir of directions)
        this.setMapElement(dir === 'ingress' ? ingressMap : egressMap, ip, this.verdictAt(ip, dir));
    }
    for (const dir of directions) {
      const oldV = before?.[dir];
      if (oldV !== undefined && oldV !== 'drop') this.releaseProfile(oldV);
    }
    for (const ip of before?.ips ?? []) this.removeElement(localEndpointsSet, ip);
    for (const ip of after?.ips ?? []) this.addElement(localEndpointsSet, ip);
    // Added before removed: an address isolated before and after never leaves its set.
    for (const dir of directions) {
      const set = dir === 'ingress' ? ingressIsolatedV6Set : egressIsolatedV6Set;
      if (after?.[dir] !== undefined) for (const ip of after.ipv6) this.addElement(set, ip);
      if (before?.[dir] !== undefined) for (const ip of before.ipv6) this.removeElement(set, ip);
    }
  }

  /**
   * The verdict for an address of this node in one direction. Two pods may hold one address for a moment (an IP
   * reused while the old pod terminates): the stricter holds (drop, then a profile, then none; between two
   * profiles, the first endpoint by key), so that deleting either never leaves the other unfiltered.
   */
  private verdictAt(ip: string, dir: Direction): string | undefined {
    let best: string | undefined;
    let bestRank = 0;
    let bestKey = '';
    for (const key of this.ipOwners.get(ip)) {
      const v = this.endpointProfiles.get(key)?.[dir];
      const rank = v === undefined ? 0 : v === 'drop' ? 2 : 1;
      if (rank > bestRank || (rank === bestRank && rank > 0 && key < bestKey)) {
        best = v;
        bestRank = rank;
        bestKey = key;
      }
    }
    return best === undefined ? undefined : verdictOf(best);
  }

  private setMapElement(map: string, key: string, verdict: string | undefined): void {
    const m = this.state.maps.get(map)!;
    const old = m.elements.get(key);
    if (old === verdict) return;
    if (verdict === undefined) m.elements.delete(key);
    else m.elements.set(key, verdict);
    if (!this.tracking) return;
    let c = this.changes.maps.get(map);
    if (!c) {
      c = new Set();
      this.changes.maps.set(map, c);
    }
    c.add(key);
  }

  private retainProfile(direction: Direction, policies: readonly string[]): string {
    const name = `prof-${hash(`${direction}|${policies.join('\n')}`)}`;
    const entry = this.profiles.get(name);
    if (entry) {
      entry.refs++;
      return name;
    }
    const created: ProfileEntry = { direction, policies, refs: 1 };
    this.profiles.set(name, created);
    this.renderProfile(name, created);
    return name;
  }

  private releaseProfile(name: string): void {
    const entry = this.profiles.get(name);
    if (!entry || --entry.refs > 0) return;
    this.profiles.delete(name);
    this.state.chains.delete(name);
    this.ruleOwners.delete(name);
    if (this.tracking) this.changes.chains.add(name);
  }

  private renderProfile(name: string, prof: ProfileEntry): void {
    const rules: string[] = [];
    const owners: (string | undefined)[] = [];
    for (const key of prof.policies) {
      const p = this.policies.get(key);
      if (!p) continue;
      if (this.refused.get(key)?.directions.has(prof.direction)) {
        // Fail closed: what the policy's rules would have decided is dropped; earlier policies still allow.
        rules.push('drop');
        owners.push(key);
        continue;
      }
      const list = prof.direction === 'ingress' ? p.ingress : p.egress;
      for (const rule of list) {
        for (const line of renderRule(rule, prof.direction, this.ruleTags)) {
          rules.push(line);
          owners.push(key);
        }
      }
    }
    rules.push('drop');
    owners.push(undefined);
    this.state.chains.set(name, { rules });
    this.ruleOwners.set(name, owners);
    if (this.tracking) this.changes.chains.add(name);
  }
}

/** An endpoint as given, and the identity its labels put it in (`at`: its place among the identity's members). */
interface EndpointEntry extends Member {
  /** endpointKey, once it is (or was) on this node. */
  key: string | undefined;
  ep: Endpoint;
  identity: EndpointIdentity;
  /** The addresses it counts with in peer sets and named ports now (countedIps), while it holds them. */
  counted: readonly string[];
}

const NO_IPS: readonly string[] = Object.freeze([]);

function hasTwo(values: Iterable<unknown>): boolean {
  let n = 0;
  for (const _ of values) if (++n === 2) return true;
  return false;
}

type EndpointIdentity = Identity<SelectorRef, EndpointEntry>;

/** Every selector of a policy: its own and its rules' peers'. */
function* policySelectors(p: DataplanePolicy): Generator<SelectorNode> {
  yield p.selector;
  for (const [, rule] of rulesOf(p)) {
    for (const peer of rule.peers ?? []) if (peer.kind === 'selector') yield peer.selector;
  }
}

/** An endpoint of this node: its profile chain per direction (undefined: no policy isolates it there). */
interface EndpointProfiles {
  ingress?: string;
  egress?: string;
  readonly ips: readonly string[];
  readonly ipv6: readonly string[];
}

/** A pod CIDR of this node as numbers, and for /8, /16 and /24 the text its addresses start with (`10.245.3.`). */
interface NodeRange {
  readonly base: number;
  readonly size: number;
  readonly text: string | undefined;
}

function nodeRange(base: number, prefix: number, cidr: string): NodeRange {
  const octets = prefix % 8 === 0 && prefix > 0 && prefix < 32 ? prefix / 8 : 0;
  const text = octets > 0 ? `${cidr.split('.').slice(0, octets).join('.')}.` : undefined;
  return { base, size: 2 ** (32 - prefix), text };
}

/** Policies held until the first full sync, and this node's endpoints to refresh once they are applied. */
interface PendingPolicies {
  readonly queue: Map<string, DataplanePolicy | undefined>;
  readonly refresh: Set<string>;
}

/** A peer selector or port name with its tag in the shared set, and the rules that name it. */
interface Tagged {
  readonly tag: number;
  /** The tag as elements write it. */
  readonly text: string;
  refs: number;
}

interface PolicyRef {
  readonly kind: 'policy';
  readonly key: string;
}

interface NamedPortTag extends Tagged {
  readonly name: string;
  readonly scope: NamedPortScope;
}

interface PeerSelection extends Tagged {
  readonly kind: 'peer';
}

type SelectorRef = PolicyRef | PeerSelection;

function tagged(tag: number): Tagged {
  return { tag, text: tagText(tag), refs: 1 };
}

function verdictOf(profile: string): string {
  return profile === 'drop' ? 'drop' : `jump ${profile}`;
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

function peerSelectorKey(peer: Extract<RulePeer, { kind: 'selector' }>): string {
  return canonicalSelector(peer.selector);
}

/**
 * One rule as nft rule bodies: one line per peer alternative and port group (their product is the rule's OR).
 * In a profile, the endpoint's own address is matched by the dispatch map already; the rule matches the peer.
 */
export function renderRule(rule: PolicyRule, direction: Direction, tags: RuleTags): string[] {
  if (rule.peers !== null && rule.peers.length === 0) return []; // no peer can match
  const peerField = direction === 'ingress' ? 'ip saddr' : 'ip daddr';
  const verdict = rule.action === 'Allow' ? 'return' : 'drop';
  const peerMatches: { readonly match: string; readonly scope: NamedPortScope }[] = [];
  if (rule.peers === null) peerMatches.push({ match: '', scope: namedPortScope(null, direction, tags.localCluster) });
  for (const p of rule.peers ?? []) {
    const m = peerMatch(p, peerField, rule.action, tags);
    if (m !== undefined) peerMatches.push({ match: m, scope: namedPortScope(p, direction, tags.localCluster) });
  }
  const proto = rule.protocol === null ? '' : `meta l4proto ${rule.protocol}`;
  // The destination's own port of a name: for ingress this node's endpoint, for egress the peer (of the scope the
  // peer can select).
  const namedMatches = (scope: NamedPortScope) =>
    rule.ports.flatMap((port) => {
      if (port.kind !== 'named') return [];
      const named = tags.portNames.get(portNameKey(scope, port.name));
      if (!named) throw new Error(`port name ${port.name} (${scope}) has no tag`);
      return [`${proto} ip daddr . meta l4proto . th dport . ${tagExpression(named.tag)} @${namedPortsSet}`.trim()];
    });
  const otherMatches: string[] = [];
  const ranges = portRanges(rule.ports);
  if (ranges.length === 1) otherMatches.push(`${proto} th dport ${ranges[0]}`.trim());
  else if (ranges.length > 1) {
    const list = listTag(tags, portListsSet, ranges);
    otherMatches.push(`${proto} th dport . ${tagExpression(list)} @${portListsSet}`.trim());
  }
  const out: string[] = [];
  for (const pm of peerMatches) {
    const portMatches = [...namedMatches(pm.scope), ...otherMatches];
    if (portMatches.length === 0) {
      const icmp = rule.icmp
        ? ` icmp type ${rule.icmp.type}${rule.icmp.code === null ? '' : ` icmp code ${rule.icmp.code}`}`
        : '';
      portMatches.push(`${proto}${icmp}`.trim());
    }
    for (const port of portMatches) out.push([pm.match, port, verdict].filter((s) => s !== '').join(' '));
  }
  return out;
}

/**
 * Where a named port of a rule resolves: on local endpoints only, as a standard NetworkPolicy means it, unless the
 * rule's peer is a selector that may select remote endpoints (it names other clusters). A peer-less rule, an
 * ipBlock peer and every ingress rule (the port is this node's endpoint's) resolve locally: otherwise any remote
 * cluster could open a plain policy's named port to whatever address and port it claims for its pods.
 */
export function namedPortScope(peer: RulePeer | null, direction: Direction, localCluster: string): NamedPortScope {
  if (direction === 'ingress' || peer === null || peer.kind === 'net') return 'local';
  const scope = clusterScope(peer.selector);
  return scope.kind === 'clusters' && scope.names.every((n) => n === localCluster) ? 'local' : 'mesh';
}

/** The scopes a rule's named ports resolve in (one per distinct scope of its peers). */
function ruleNamedPortScopes(rule: PolicyRule, direction: Direction, localCluster: string): NamedPortScope[] {
  if (rule.peers === null) return [namedPortScope(null, direction, localCluster)];
  return [...new Set(rule.peers.map((p) => namedPortScope(p, direction, localCluster)))];
}

function* rulesOf(p: DataplanePolicy): Generator<[Direction, PolicyRule]> {
  for (const rule of p.ingress) yield ['ingress', rule];
  for (const rule of p.egress) yield ['egress', rule];
}

/** Local endpoints only, or every endpoint of the mesh. */
export type NamedPortScope = 'local' | 'mesh';
const namedPortScopes: readonly NamedPortScope[] = ['local', 'mesh'];
const remoteNamedPortScopes: readonly NamedPortScope[] = ['mesh'];

function portNameKey(scope: NamedPortScope, name: string): string {
  return `${scope}|${name}`;
}

/** The tags a rule's rendering reads. */
export interface RuleTags {
  readonly peers: ReadonlyMap<string, { readonly tag: number }>;
  /** portNameKey -> tag. */
  readonly portNames: ReadonlyMap<string, { readonly tag: number }>;
  readonly localCluster: string;
  /** listKey -> tag. */
  readonly lists: ReadonlyMap<string, { readonly tag: number }>;
}

function listKey(set: string, ranges: readonly string[]): string {
  return `${set}|${ranges.join(',')}`;
}

function listTag(tags: RuleTags, set: string, ranges: readonly string[]): number {
  const entry = tags.lists.get(listKey(set, ranges));
  if (!entry) throw new Error(`${set} list ${ranges.join(',')} has no tag`);
  return entry.tag;
}

/** One peer alternative as a match; undefined: it matches nothing. */
function peerMatch(peer: RulePeer, field: string, action: PolicyRule['action'], tags: RuleTags): string | undefined {
  if (peer.kind === 'net') {
    const inNet = `${field} ${peer.cidr}`;
    if (peer.except.length === 0) return inNet;
    const except = networkRanges(peer.except);
    // Exceptions that are no IPv4 networks (never from adapt.ts): fail closed, an Allow admits nothing of this
    // network and a Deny denies all of it.
    if (except === undefined) return action === 'Allow' ? undefined : inNet;
    return `${inNet} ${field} . ${tagExpression(listTag(tags, exceptNetsSet, except))} != @${exceptNetsSet}`;
  }
  const entry = tags.peers.get(peerSelectorKey(peer));
  if (!entry) throw new Error(`peer selector ${canonicalSelector(peer.selector)} has no tag`);
  return `${field} . ${tagExpression(entry.tag)} @${peersSet}`;
}
