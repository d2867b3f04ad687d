// NetworkPolicy and FederatedNetworkPolicy admission: the shape with ajv, then the policy compiler (core/policy)
// for every selector, CIDR, port and cluster rule, then what needs the cluster's state: cluster names in peers
// that no RemoteClusterConfiguration has.

import {
  compileFederatedNetworkPolicy,
  compileNetworkPolicy,
  type Diagnostic,
  type FederatedNetworkPolicy,
  formatDiagnostic,
  type NetworkPolicyObject,
  type NormalizedPolicy,
} from '../core/policy/index.js';
import type { SelectorNode } from '../core/selector/ast.js';
import { CLUSTER_LABEL, namedClusters } from '../core/selector/cluster-scope.js';
import { objectShapes, shapeErrors } from './object-schemas.js';
import type { ValidationContext, Verdict } from './validation-context.js';

export function validateNetworkPolicy(object: unknown, ctx: ValidationContext): Verdict {
  const shape = shapeErrors(objectShapes.NetworkPolicy, object);
  if (shape.length > 0) return { errors: shape, warnings: [] };
  const r = compileNetworkPolicy(object as NetworkPolicyObject, { localCluster: ctx.localCluster });
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
  if (policy !== null && errors.length === 0) out.push(...unknownClusterWarnings(policy, ctx));
  return { errors, warnings: out };
}

/** A warning per peer that names a cluster with no RemoteClusterConfiguration (a typo, or one not joined yet). */
export function unknownClusterWarnings(policy: NormalizedPolicy, ctx: ValidationContext): string[] {
  const known = ctx.knownClusters();
  if (known === undefined) return [];
  const out: string[] = [];
  for (const rule of [...policy.ingress, ...policy.egress]) {
    for (const peer of rule.peers ?? []) {
      if (peer.kind !== 'endpoints') continue;
      const selectors: SelectorNode[] = [peer.selector];
      if (peer.namespaces.kind === 'selector') selectors.push(peer.namespaces.selector);
      for (const name of new Set(selectors.flatMap(namedClusters))) {
        if (name === ctx.localCluster || known.has(name)) continue;
        out.push(
          `${peer.path}: ${CLUSTER_LABEL} names "${name}", but no RemoteClusterConfiguration "${name}" exists: this peer selects nothing there until that cluster joins the mesh (check the spelling; kubectl get rcc)`,
        );
      }
    }
  }
  return [...new Set(out)];
}
