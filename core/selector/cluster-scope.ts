// Which clusters a selector can reach through the virtual label fedmesh.io/cluster (DESIGN.md, "Policy scope, safe
// by default"). Every endpoint, local ones included, carries the label with its cluster's name when selectors are
// evaluated; callers add it to the label map. The policy layer decides what each scope means for a rule peer:
// a peer whose selectors never mention the label selects local endpoints only.

import { type SelectorNode, sortedUnique } from './ast.js';
import { requiredValues } from './restrictions.js';

export const CLUSTER_LABEL = 'fedmesh.io/cluster';

export type ClusterScope =
  /** The selector never reads fedmesh.io/cluster: a rule peer with it selects local endpoints only. */
  | { readonly kind: 'unmentioned' }
  /** It can match only endpoints of these clusters (sorted; empty: it can match nothing). */
  | { readonly kind: 'clusters'; readonly names: readonly string[] }
  /** It reads the label without bounding it to named clusters (has(), !=, not in, starts with, ||…): any cluster. */
  | { readonly kind: 'any-cluster' };

export function clusterScope(node: SelectorNode): ClusterScope {
  if (!mentionsClusterLabel(node)) return { kind: 'unmentioned' };
  const constraint = requiredValues(node, CLUSTER_LABEL);
  if (constraint !== undefined && constraint !== 'any') return { kind: 'clusters', names: sortedUnique(constraint) };
  return { kind: 'any-cluster' };
}

/** Whether any term of the selector reads fedmesh.io/cluster. */
export function mentionsClusterLabel(node: SelectorNode): boolean {
  switch (node.kind) {
    case 'all':
    case 'global':
      return false;
    case 'not':
      return mentionsClusterLabel(node.operand);
    case 'and':
    case 'or':
      return node.operands.some(mentionsClusterLabel);
    default:
      return node.label === CLUSTER_LABEL;
  }
}

/**
 * Every cluster name written in an ==, !=, in or not in term on fedmesh.io/cluster, sorted: what an admission check
 * needs to refuse a main selector that names another cluster, whatever the term's polarity.
 */
export function namedClusters(node: SelectorNode): string[] {
  const names: string[] = [];
  collectNames(node, names);
  return sortedUnique(names);
}

function collectNames(node: SelectorNode, out: string[]): void {
  switch (node.kind) {
    case 'eq':
    case 'ne':
      if (node.label === CLUSTER_LABEL) out.push(node.value);
      return;
    case 'in':
    case 'notIn':
      if (node.label === CLUSTER_LABEL) out.push(...node.values);
      return;
    case 'not':
      collectNames(node.operand, out);
      return;
    case 'and':
    case 'or':
      for (const op of node.operands) collectNames(op, out);
      return;
    default:
      return;
  }
}
