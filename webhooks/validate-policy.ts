// NetworkPolicy and FederatedNetworkPolicy admission: the shape with ajv, then the policy compiler (core/policy)
// for every selector, CIDR, port and cluster rule, then what needs the cluster's state: cluster names in peers
// that no RemoteClusterConfiguration has. A plain NetworkPolicy (core/policy/plain-network-policy.ts), about which
// the compiler would say nothing, is allowed without compiling it.

import {
  compileFederatedNetworkPolicy,
  compileNetworkPolicy,
  type Diagnostic,
  type FederatedNetworkPolicy,
  formatDiagnostic,
  isPlainNetworkPolicy,
  type NetworkPolicyObject,
  type NormalizedPolicy,
  type Peer,
} from '../core/policy/index.js';
import { CLUSTER_LABEL, namedClusters } from '../core/selector/cluster-scope.js';
import { objectShapes, shapeErrors } from './object-schemas.js';
import type { ValidationContext, Verdict } from './validation-context.js';

// Shared by every plain review: frozen through, so that no caller can add to another review's answer.
const NOTHING_TO_SAY: Verdict = Object.freeze({ errors: Object.freeze([]), warnings: Object.freeze([]) });

/**
 * A NetworkPolicy's verdict. A plain one (isPlainNetworkPolicy: nearly every policy) is allowed without compiling
 * it, which would find nothing to say; any other is compiled for its errors and warnings.
 */
export function validateNetworkPolicy(object: unknown, ctx: ValidationContext): Verdict {
  const shape = shapeErrors(objectShapes.NetworkPolicy, object);
  if (shape.length > 0) return { errors: shape, warnings: [] };
  if (isPlainNetworkPolicy(object as NetworkPolicyObject, clusterNeedsNoWarning(ctx))) return NOTHING_TO_SAY;
  return compiledNetworkPolicyVerdict(object as NetworkPolicyObject, ctx);
}

/** The verdict from compiling the policy: what validateNetworkPolicy answers for one that is not plain. */
export function compiledNetworkPolicyVerdict(object: NetworkPolicyObject, ctx: ValidationContext): Verdict {
  const r = compileNetworkPolicy(object, { localCluster: ctx.localCluster });
  return verdict(r.errors, r.warnings, r.policy, ctx);
}

export function validateFederatedNetworkPolicy(object: unknown, ctx: ValidationContext): Verdict {
  const shape = shapeErrors(objectShapes.FederatedNetworkPolicy, object);
  if (shape.length > 0) return { errors: shape, warnings: [] };
  const r = compileFederatedNetworkPolicy(object as FederatedNetworkPolicy, { localCluster: ctx.localCluster });
  return verdict(r.errors, r.warnings, r.policy, ctx);
}

function verdict(
  errors: readonly Diagnostic[],
  warnings: readonly Diagnostic[],
  policy: NormalizedPolicy | null,
  ctx: ValidationContext,
): Verdict {
  const out = warnings.map(formatDiagnostic);
  if (policy !== null && errors.length === 0)
    out.push(...unknownClusterWarnings(policy, ctx), ...ipv6NetWarnings(policy));
  return { errors, warnings: out };
}

/**
 * A warning per peer with IPv6 networks: the agent decides policy for IPv4 only, so such a peer admits (or denies)
 * nothing, and the IPv6 traffic of the pods the policy isolates is dropped.
 */
export function ipv6NetWarnings(policy: NormalizedPolicy): string[] {
  const out: string[] = [];
  for (const peer of peersOf(policy)) {
    if (peer.kind !== 'nets') continue;
    const v6 = peer.nets.filter((n) => n.cidr.includes(':')).map((n) => n.cidr);
    if (v6.length === 0) continue;
    out.push(
      `${peer.path}: ${v6.join(', ')} ${v6.length === 1 ? 'is' : 'are'} IPv6, and fedmesh enforces policy for IPv4 only: this matches no traffic, and the IPv6 traffic of the pods this policy selects is dropped`,
    );
  }
  return out;
}

/** Every peer of every rule, ingress then egress. */
function* peersOf(policy: NormalizedPolicy): Generator<Peer> {
  for (const rule of [...policy.ingress, ...policy.egress]) yield* rule.peers ?? [];
}

/**
 * Whether a cluster named in a peer needs no warning: the local cluster, one a RemoteClusterConfiguration names, or
 * any before the first list of them (nothing is known to be missing yet).
 */
export function clusterNeedsNoWarning(ctx: ValidationContext): (name: string) => boolean {
  const known = ctx.knownClusters();
  return (name) => known === undefined || name === ctx.localCluster || known.has(name);
}

/** A warning per peer that names a cluster with no RemoteClusterConfiguration (a typo, or one not joined yet). */
export function unknownClusterWarnings(policy: NormalizedPolicy, ctx: ValidationContext): string[] {
  const needsNoWarning = clusterNeedsNoWarning(ctx);
  const out = new Set<string>();
  for (const peer of peersOf(policy)) {
    // A peer that selects local endpoints only never mentions the cluster label: no walk needed (most peers).
    if (peer.kind !== 'endpoints' || peer.clusters.kind === 'local') continue;
    const names = namedClusters(peer.selector);
    if (peer.namespaces.kind === 'selector') names.push(...namedClusters(peer.namespaces.selector));
    for (const name of names) {
      if (needsNoWarning(name)) continue;
      out.add(
        `${peer.path}: ${CLUSTER_LABEL} names "${name}", but no RemoteClusterConfiguration "${name}" exists: this peer selects nothing there until that cluster joins the mesh (check the spelling; kubectl get rcc)`,
      );
    }
  }
  return [...out];
}
