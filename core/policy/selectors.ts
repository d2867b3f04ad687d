// Selectors inside policies: compiled through the selector core with errors at their field path (a caret excerpt
// for expression syntax), and the fedmesh.io/cluster rules: a main selector applies to local endpoints only, cluster
// names are DNS labels, and negative cluster terms get a warning that says what they really select.

import { compare, type SelectorNode } from '../selector/ast.js';
import { canonicalSelector } from '../selector/canonical.js';
import { caretUnder } from '../selector/caret.js';
import { CLUSTER_LABEL, clusterScope, mentionsClusterLabel, namedClusters } from '../selector/cluster-scope.js';
import {
  compileLabelSelector,
  InvalidLabelSelectorError,
  type LabelSelector,
  requirementNode,
} from '../selector/label-selector.js';
import { checkSelector } from '../selector/parser.js';
import { at, type Diagnostics, item } from './diagnostics.js';
import type { EndpointPeer, PeerClusters } from './model.js';

/** A selector expression (FNP), or null after reporting where and why it does not parse. */
export function compileSelectorText(text: string, path: string, d: Diagnostics): SelectorNode | null {
  const check = checkSelector(text);
  if (check.ok) return check.node;
  const { position, message } = check.error;
  d.fail(path, `invalid selector at position ${position}: ${message}`, caretUnder(text, position));
  return null;
}

/** A Kubernetes LabelSelector, or null after reporting each problem with Kubernetes' wording. */
export function compileLabelSelectorAt(selector: LabelSelector, path: string, d: Diagnostics): SelectorNode | null {
  // compileLabelSelector validates (once) and throws the problems; validating here first would do it twice.
  try {
    return compileLabelSelector(selector, path);
  } catch (err) {
    if (!(err instanceof InvalidLabelSelectorError)) throw err;
    for (const e of err.errors) {
      // Kubernetes' validation words errors as `<path>: <message>`; paths hold no ': '.
      const cut = e.indexOf(': ');
      d.fail(e.slice(0, cut), e.slice(cut + 2));
    }
    return null;
  }
}

/**
 * The parts of a LabelSelector that name fedmesh.io/cluster, with their paths, each as its own tree: checks on
 * cluster terms report the exact matchLabels or matchExpressions entry. The selector must have compiled (so every
 * part is valid): the trees are made without validating again, as compileLabelSelector makes them.
 */
export function labelSelectorParts(selector: LabelSelector, path: string): { node: SelectorNode; path: string }[] {
  const parts: { node: SelectorNode; path: string }[] = [];
  const labels = selector.matchLabels ?? {};
  if (Object.hasOwn(labels, CLUSTER_LABEL)) {
    parts.push({ node: compare('eq', CLUSTER_LABEL, labels[CLUSTER_LABEL]!), path: at(path, 'matchLabels') });
  }
  const expressions = selector.matchExpressions ?? [];
  for (let i = 0; i < expressions.length; i++) {
    const req = expressions[i]!;
    if (req.key === CLUSTER_LABEL) {
      parts.push({ node: requirementNode(req), path: item(at(path, 'matchExpressions'), i) });
    }
  }
  return parts;
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** Whether a cluster could have this name: cluster names are DNS-1123 labels. */
export function isClusterName(name: string): boolean {
  return name.length <= 63 && DNS_LABEL.test(name);
}

/** Errors for cluster names that no cluster can have (cluster names are DNS-1123 labels). */
export function checkClusterNames(node: SelectorNode, path: string, d: Diagnostics): void {
  if (!mentionsClusterLabel(node)) return; // most selectors: no list to build
  for (const name of namedClusters(node)) {
    if (!isClusterName(name)) {
      d.error(
        path,
        `${CLUSTER_LABEL} names the cluster ${JSON.stringify(name)}, which is not a valid cluster name: cluster names are DNS-1123 labels (lower case letters, digits and '-', at most 63 characters, e.g. "west-1")`,
      );
    }
  }
}

/** The main selector (FNP `selector`, NP `podSelector`) applies to local endpoints: naming another cluster is an error. */
export function checkMainSelectorClusters(
  node: SelectorNode,
  path: string,
  localCluster: string,
  d: Diagnostics,
): void {
  if (!mentionsClusterLabel(node)) return;
  const others = namedClusters(node).filter((n) => n !== localCluster);
  if (others.length === 0) return;
  d.error(
    path,
    `names the cluster${others.length > 1 ? 's' : ''} ${others.map((n) => JSON.stringify(n)).join(', ')} in ${CLUSTER_LABEL}, but a policy applies to local endpoints only (this cluster is ${JSON.stringify(localCluster)}); select remote endpoints in the rules' peers instead`,
  );
}

/** Warnings for negative cluster terms in a peer: what they select is rarely what was meant. */
export function warnNegativeClusterTerms(node: SelectorNode, path: string, d: Diagnostics): void {
  walkPositive(node, true, (term) => {
    if (term.kind === 'ne' || term.kind === 'notIn') {
      const names = term.kind === 'ne' ? [term.value] : term.values;
      d.warn(
        path,
        `${CLUSTER_LABEL} ${term.kind === 'ne' ? '!=' : 'not in'} ${names.map((n) => JSON.stringify(n)).join(', ')} selects local endpoints AND the endpoints of every other remote cluster, including clusters joined later; to select named clusters use ${CLUSTER_LABEL} in {…}`,
      );
    } else if (term.kind === 'notHas') {
      d.warn(
        path,
        `!has(${CLUSTER_LABEL}) (DoesNotExist) matches no endpoint: every endpoint, local or remote, carries ${CLUSTER_LABEL}; the peer can never match`,
      );
    }
  });
}

type ClusterTerm = { kind: 'ne'; value: string } | { kind: 'notIn'; values: readonly string[] } | { kind: 'notHas' };

// Visits the negative cluster terms as they act: `!(k == v)` is `k != v`, `!(k in S)` is `k not in S`.
function walkPositive(node: SelectorNode, positive: boolean, visit: (t: ClusterTerm) => void): void {
  switch (node.kind) {
    case 'not':
      walkPositive(node.operand, !positive, visit);
      return;
    case 'and':
    case 'or':
      for (const op of node.operands) walkPositive(op, positive, visit);
      return;
    case 'eq':
    case 'ne':
      if (node.label !== CLUSTER_LABEL) return;
      if ((node.kind === 'ne') === positive) visit({ kind: 'ne', value: node.value });
      return;
    case 'in':
    case 'notIn':
      if (node.label !== CLUSTER_LABEL) return;
      if ((node.kind === 'notIn') === positive) visit({ kind: 'notIn', values: node.values });
      return;
    case 'has':
      if (node.label === CLUSTER_LABEL && !positive) visit({ kind: 'notHas' });
      return;
    default:
      return;
  }
}

/**
 * Which clusters a peer reaches, from its endpoint and namespace selectors: local only when neither mentions
 * fedmesh.io/cluster; bounded by the names either one requires (both must hold); otherwise any cluster.
 */
export function peerClusters(selector: SelectorNode, namespaceSelector: SelectorNode | null): PeerClusters {
  // Most peers never mention the label: answered by a walk, without building scopes.
  const inSelector = mentionsClusterLabel(selector);
  const inNamespaces = namespaceSelector !== null && mentionsClusterLabel(namespaceSelector);
  if (!inSelector && !inNamespaces) return { kind: 'local' };
  let names: string[] | null = null;
  for (const node of [inSelector ? selector : null, inNamespaces ? namespaceSelector : null]) {
    if (node === null) continue;
    const s = clusterScope(node);
    if (s.kind !== 'clusters') continue;
    names = names === null ? [...s.names] : names.filter((n) => s.names.includes(n));
  }
  return names === null ? { kind: 'any' } : { kind: 'named', names };
}

/** A warning for a peer whose cluster terms admit no cluster at all. */
export function warnEmptyClusters(clusters: PeerClusters, path: string, d: Diagnostics): void {
  if (clusters.kind === 'named' && clusters.names.length === 0) {
    d.warn(path, `the ${CLUSTER_LABEL} terms of this peer admit no cluster: the peer can never match`);
  }
}

/**
 * An endpoint peer from its compiled selectors: namespaces linked by name unless a namespace selector is given,
 * its cluster scope, and a warning when its cluster terms admit no cluster.
 */
export function endpointPeer(
  selector: SelectorNode,
  nsSelector: SelectorNode | null,
  namespace: string,
  path: string,
  d: Diagnostics,
): EndpointPeer {
  const clusters = peerClusters(selector, nsSelector);
  warnEmptyClusters(clusters, path, d);
  return {
    kind: 'endpoints',
    selector,
    text: canonicalSelector(selector),
    namespaces:
      nsSelector === null
        ? { kind: 'same', name: namespace }
        : { kind: 'selector', selector: nsSelector, text: canonicalSelector(nsSelector) },
    clusters,
    path,
  };
}
