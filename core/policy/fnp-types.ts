// FederatedNetworkPolicy (fedmesh.io/v1alpha1, namespaced, short name fnp): Calico-style policy with selector
// expressions. The shapes here are the CRD's schema (fnp-crd.ts) as TypeScript; every field is optional where the
// schema allows it, because objects come from outside.

export const FNP_GROUP = 'fedmesh.io';
export const FNP_VERSION = 'v1alpha1';
export const FNP_KIND = 'FederatedNetworkPolicy';
export const FNP_PLURAL = 'federatednetworkpolicies';
export const FNP_API_VERSION = `${FNP_GROUP}/${FNP_VERSION}`;

/** A port: a number, a range `"8000:8080"`, or a container port name (`"http"`). */
export type FnpPort = number | string;

/** One side of an FNP rule. A peer picks endpoints (selector / namespaceSelector) or addresses (nets), not both. */
export interface FnpEntity {
  /** Selector expression over endpoint labels (plus the virtual fedmesh.io/cluster). */
  readonly selector?: string | null;
  /** Selector expression over namespace labels; without it, the policy's own namespace (linked by name). */
  readonly namespaceSelector?: string | null;
  /** CIDRs. */
  readonly nets?: readonly string[] | null;
  /** Destination ports (destination side only); need a protocol that has ports. */
  readonly ports?: readonly FnpPort[] | null;
}

export interface FnpIcmp {
  readonly type?: number | null;
  readonly code?: number | null;
}

export interface FnpRule {
  readonly action?: string | null;
  /** TCP, UDP, SCTP, UDPLite, ICMP, ICMPv6, or an IP protocol number 1-255. Absent: any protocol. */
  readonly protocol?: string | number | null;
  readonly icmp?: FnpIcmp | null;
  readonly source?: FnpEntity | null;
  readonly destination?: FnpEntity | null;
}

export interface FnpSpec {
  /** Which local endpoints in the namespace the policy applies to; default all(). */
  readonly selector?: string | null;
  /** Lower first; absent: after every ordered policy. Kubernetes NetworkPolicies have 1000. */
  readonly order?: number | null;
  /** Default: Ingress, plus Egress when there are egress rules. */
  readonly types?: readonly string[] | null;
  readonly ingress?: readonly FnpRule[] | null;
  readonly egress?: readonly FnpRule[] | null;
}

export interface FederatedNetworkPolicy {
  readonly apiVersion?: string;
  readonly kind?: string;
  readonly metadata?: { readonly name?: string; readonly namespace?: string } | null;
  readonly spec?: FnpSpec | null;
}
