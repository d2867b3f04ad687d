// The policy model the dataplane programs: ordered policies whose rules have peer selectors over endpoint labels
// as the agent builds them (endpoint-labels.ts): the pod's labels, `fedmesh.io/cluster`,
// `projectcalico.org/namespace`, and the namespace's labels as `pcns.<key>`. A peer's cluster and namespace scope
// are compiled into its selector, so that "local endpoints only" is a term like any other and one selector index
// answers every membership question. Built from core/policy's NormalizedPolicy by adapt.ts.

import type { SelectorNode } from '../../core/selector/ast.js';

export type Direction = 'ingress' | 'egress';
export const directions: readonly Direction[] = ['ingress', 'egress'] as const;

export type RuleAction = 'Allow' | 'Deny';

/** A destination port: an inclusive range, or a container port name resolved on the destination endpoint. */
export type RulePort =
  | { readonly kind: 'range'; readonly from: number; readonly to: number }
  | { readonly kind: 'named'; readonly name: string };

/** One alternative of a rule's peers: endpoints selected by labels, or a network minus exceptions. */
export type RulePeer =
  | { readonly kind: 'selector'; readonly selector: SelectorNode }
  | { readonly kind: 'net'; readonly cidr: string; readonly except: readonly string[] };

export interface PolicyRule {
  readonly action: RuleAction;
  /** IP protocol number; null: any. */
  readonly protocol: number | null;
  /** Any of these (empty: any port). */
  readonly ports: readonly RulePort[];
  readonly icmp: { readonly type: number; readonly code: number | null } | null;
  /** Any of these; null: any peer at all. An empty list matches nothing. */
  readonly peers: readonly RulePeer[] | null;
}

export interface DataplanePolicy {
  /** `<kind>/<namespace>/<name>`: unique. */
  readonly key: string;
  readonly order: number;
  /** Breaks ties of `order` as core/policy does (name, namespace, kind). */
  readonly rank: string;
  /** The endpoints the policy applies to (local cluster, its namespace: compiled in). */
  readonly selector: SelectorNode;
  /** The directions the policy applies to; a selected endpoint is denied what no rule of them allows. */
  readonly types: readonly Direction[];
  readonly ingress: readonly PolicyRule[];
  readonly egress: readonly PolicyRule[];
}

/** Calico's default tier: by order, then name, namespace and kind. */
export function comparePolicies(a: DataplanePolicy, b: DataplanePolicy): number {
  if (a.order !== b.order) return a.order < b.order ? -1 : 1;
  return a.rank < b.rank ? -1 : a.rank > b.rank ? 1 : 0;
}
