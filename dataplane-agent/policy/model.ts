// The policy model the dataplane programs: ordered policies whose rules have compiled peer selectors. Peer
// selectors are evaluated against endpoint labels as the agent builds them (endpoint-labels.ts): the pod's labels,
// `fedmesh.io/cluster`, `projectcalico.org/namespace`, and the namespace's labels as `pcns.<key>`. A peer's cluster
// scope is compiled into its selector, so that "local endpoints only" is a term of the selector like any other.

import type { SelectorNode } from '../../core/selector/ast.js';

export type Direction = 'ingress' | 'egress';
export const directions: readonly Direction[] = ['ingress', 'egress'] as const;

export type RuleAction = 'Allow' | 'Deny';

/** IP protocols a rule can name; ICMP rules have no ports. */
export type RuleProtocol = 'TCP' | 'UDP' | 'SCTP' | 'ICMP';

/** A port of a rule: a number or range on one protocol, or a named container port resolved per endpoint. */
export type RulePort =
  | { readonly protocol: 'TCP' | 'UDP' | 'SCTP'; readonly port: number; readonly endPort: number }
  | { readonly protocol: 'TCP' | 'UDP' | 'SCTP'; readonly name: string };

/** One alternative of a rule's peers: endpoints selected by labels, or networks. */
export type RulePeer =
  | { readonly kind: 'selector'; readonly selector: SelectorNode }
  | { readonly kind: 'nets'; readonly nets: readonly string[]; readonly except: readonly string[] };

export interface PolicyRule {
  readonly action: RuleAction;
  /** Only this protocol (ports imply theirs); undefined: any. */
  readonly protocol?: RuleProtocol;
  /** Any of these (empty: any port). */
  readonly ports: readonly RulePort[];
  /** Any of these peers (empty: any peer). */
  readonly peers: readonly RulePeer[];
}

export interface DataplanePolicy {
  /** `<kind>/<namespace>/<name>`: unique, and the tie-breaker after `order`. */
  readonly key: string;
  readonly order: number;
  /** The endpoints the policy applies to (local cluster, this namespace: compiled in). */
  readonly selector: SelectorNode;
  /** The directions the policy applies to; a selected endpoint is denied what no rule of them allows. */
  readonly types: readonly Direction[];
  readonly ingress: readonly PolicyRule[];
  readonly egress: readonly PolicyRule[];
}

/** Calico's default tier: by order, then by key. */
export function comparePolicies(a: DataplanePolicy, b: DataplanePolicy): number {
  if (a.order !== b.order) return a.order - b.order;
  return a.key < b.key ? -1 : a.key > b.key ? 1 : 0;
}
