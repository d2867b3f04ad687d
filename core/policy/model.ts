// The normalized policy: what a Kubernetes NetworkPolicy or a FederatedNetworkPolicy means, in one form that the
// admission webhook, `fedmesh policy explain` and the agent's rule rendering all read. Plain immutable data.
//
// Semantics (docs/policy.md):
// - `appliesTo` picks LOCAL endpoints in the policy's namespace only; it never reaches another cluster.
// - Policies are ordered by `order` (a Kubernetes NetworkPolicy is 1000, an FNP without `order` comes last), then by
//   name, then namespace, then kind (comparePolicies). Within a policy and direction, the first rule whose match
//   holds decides with its action. An endpoint that some policy selects for a direction and that no rule allowed is
//   denied; an endpoint that no policy selects is allowed.
// - A peer that never mentions `fedmesh.io/cluster` selects local endpoints only (`clusters.kind === 'local'`).
//   Every endpoint, local ones included, carries `fedmesh.io/cluster` with its cluster's name when selectors are
//   evaluated (match.ts); the virtual value wins over a real label of that name.

import type { SelectorNode } from '../selector/ast.js';

export type PolicyKind = 'NetworkPolicy' | 'FederatedNetworkPolicy';
export type PolicyType = 'Ingress' | 'Egress';
export type RuleAction = 'Allow' | 'Deny';

/** The order of every Kubernetes NetworkPolicy (as in Calico). */
export const NETWORK_POLICY_ORDER = 1000;
/** The order of an FNP that sets none: after every ordered policy (Calico's "no order"). */
export const UNORDERED = Number.POSITIVE_INFINITY;

/** Protocols known by name; any other IP protocol is its number (1-255). */
export const PROTOCOL_NUMBERS = { ICMP: 1, TCP: 6, UDP: 17, ICMPv6: 58, SCTP: 132, UDPLite: 136 } as const;
export type ProtocolName = keyof typeof PROTOCOL_NUMBERS;
export type Protocol = ProtocolName | number;
/** The protocols whose rules may carry ports. */
export const PORT_PROTOCOLS: readonly ProtocolName[] = ['TCP', 'UDP', 'SCTP', 'UDPLite'];

/** A destination port: an inclusive numeric range (one port: from === to), or a container port name. */
export type PortMatch =
  | { readonly kind: 'range'; readonly from: number; readonly to: number }
  | { readonly kind: 'named'; readonly name: string };

/** ICMP type and optional code (for protocol ICMP or ICMPv6). */
export interface IcmpMatch {
  readonly type: number;
  readonly code: number | null;
}

/** A CIDR in canonical form (host bits cleared, IPv6 compressed) and the CIDRs inside it that are excluded. */
export interface NetMatch {
  readonly cidr: string;
  readonly except: readonly string[];
}

/** Which namespaces a peer's endpoints may be in, in each cluster the peer reaches. */
export type NamespaceMatch =
  /** The namespace with this name (the policy's own), in each cluster: namespaces are linked by name. */
  | { readonly kind: 'same'; readonly name: string }
  /** Every namespace whose labels (plus the virtual fedmesh.io/cluster) match, in each cluster. */
  | { readonly kind: 'selector'; readonly selector: SelectorNode; readonly text: string };

/** Which clusters a peer can reach. The peer's selectors still decide for each endpoint. */
export type PeerClusters =
  /** The peer never mentions fedmesh.io/cluster: local endpoints only (the safe default). */
  | { readonly kind: 'local' }
  /** Only endpoints of these clusters can match (sorted; empty: the peer can never match). */
  | { readonly kind: 'named'; readonly names: readonly string[] }
  /** Endpoints of any cluster in the mesh, local included, can match. */
  | { readonly kind: 'any' };

/** Endpoints (pods) chosen by labels. */
export interface EndpointPeer {
  readonly kind: 'endpoints';
  /** Over the endpoint's labels plus the virtual fedmesh.io/cluster. */
  readonly selector: SelectorNode;
  /** The selector's canonical text, for messages and as a stable key. */
  readonly text: string;
  readonly namespaces: NamespaceMatch;
  readonly clusters: PeerClusters;
  /** Field path of the peer in the source object, e.g. `spec.ingress[0].from[1]`. */
  readonly path: string;
}

/** Addresses chosen by CIDR (NetworkPolicy ipBlock, FNP nets), wherever they are. */
export interface NetsPeer {
  readonly kind: 'nets';
  readonly nets: readonly NetMatch[];
  readonly path: string;
}

export type Peer = EndpointPeer | NetsPeer;

export interface PolicyRule {
  readonly action: RuleAction;
  /** null: any protocol. */
  readonly protocol: Protocol | null;
  /** Destination ports; empty: any port (or the protocol has none). */
  readonly ports: readonly PortMatch[];
  readonly icmp: IcmpMatch | null;
  /** The other side of the traffic (source for ingress, destination for egress). null: anything at all. */
  readonly peers: readonly Peer[] | null;
  /**
   * Field path of the rule in the source object, e.g. `spec.ingress[2]`. A NetworkPolicy rule whose ports use
   * several protocols becomes one rule per protocol (as Calico converts it), all with the same path.
   */
  readonly path: string;
}

export interface NormalizedPolicy {
  readonly kind: PolicyKind;
  readonly namespace: string;
  readonly name: string;
  readonly order: number;
  /** Over the labels of local endpoints in `namespace`. */
  readonly appliesTo: SelectorNode;
  readonly appliesToText: string;
  /** Sorted: Ingress before Egress. */
  readonly types: readonly PolicyType[];
  readonly ingress: readonly PolicyRule[];
  readonly egress: readonly PolicyRule[];
}

/** Policy evaluation order: order, then name, then namespace, then kind (FederatedNetworkPolicy first). */
export function comparePolicies(a: NormalizedPolicy, b: NormalizedPolicy): number {
  if (a.order !== b.order) return a.order < b.order ? -1 : 1;
  return compareText(a.name, b.name) || compareText(a.namespace, b.namespace) || compareText(a.kind, b.kind);
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
