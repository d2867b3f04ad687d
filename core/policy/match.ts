// Which endpoints a normalized policy and its rules select: the reference semantics that `policy explain` shows and
// the agent's rendering must agree with. Selectors see an endpoint's labels plus the virtual fedmesh.io/cluster
// (its cluster's name, which wins over a real label of that name: a remote admin cannot relabel a pod into another
// cluster); namespace selectors see the namespace's labels in the endpoint's own cluster, plus the same label.

import { CLUSTER_LABEL } from '../selector/cluster-scope.js';
import { type LabelLookup, type Labels, labelLookup, matcherFor } from '../selector/evaluate.js';
import type { EndpointPeer, NormalizedPolicy, Peer, PolicyRule, PolicyType } from './model.js';

/** An endpoint as policy sees it: where it is and its labels. */
export interface PolicyEndpoint {
  readonly cluster: string;
  readonly namespace: string;
  readonly labels: Labels;
}

/** What matching needs to know about the mesh besides the endpoint. */
export interface MeshFacts {
  readonly localCluster: string;
  /** The labels of a namespace in a cluster; undefined when that cluster has no such namespace (known to us). */
  namespaceLabels(cluster: string, namespace: string): Labels | undefined;
}

/** The labels with fedmesh.io/cluster set to the cluster's name. */
export function withClusterLabel(labels: Labels, cluster: string): LabelLookup {
  const inner = labelLookup(labels);
  return { get: (key) => (key === CLUSTER_LABEL ? cluster : inner.get(key)) };
}

/** Whether the policy applies to the endpoint: a local endpoint in its namespace that its selector matches. */
export function policyAppliesTo(policy: NormalizedPolicy, endpoint: PolicyEndpoint, mesh: MeshFacts): boolean {
  return (
    endpoint.cluster === mesh.localCluster &&
    endpoint.namespace === policy.namespace &&
    matcherFor(policy.appliesTo)(withClusterLabel(endpoint.labels, endpoint.cluster))
  );
}

/** Whether an endpoint peer selects the endpoint (by cluster, namespace and labels). */
export function peerSelectsEndpoint(peer: EndpointPeer, endpoint: PolicyEndpoint, mesh: MeshFacts): boolean {
  return (
    peerAdmitsLocation(peer, endpoint, mesh) &&
    matcherFor(peer.selector)(withClusterLabel(endpoint.labels, endpoint.cluster))
  );
}

/** The cluster and namespace half of peerSelectsEndpoint (what an index over labels does not decide). */
export function peerAdmitsLocation(
  peer: EndpointPeer,
  endpoint: Pick<PolicyEndpoint, 'cluster' | 'namespace'>,
  mesh: MeshFacts,
): boolean {
  const { clusters } = peer;
  if (clusters.kind === 'local' && endpoint.cluster !== mesh.localCluster) return false;
  if (clusters.kind === 'named' && !clusters.names.includes(endpoint.cluster)) return false;
  if (peer.namespaces.kind === 'same') return endpoint.namespace === peer.namespaces.name;
  const nsLabels = mesh.namespaceLabels(endpoint.cluster, endpoint.namespace);
  return nsLabels !== undefined && matcherFor(peer.namespaces.selector)(withClusterLabel(nsLabels, endpoint.cluster));
}

/**
 * Whether a rule's peers take in the endpoint (as the other side of the traffic), whatever the ports: a rule
 * without peers takes in everything; a nets peer takes in an endpoint only by address, which this does not judge.
 */
export function ruleSelectsEndpoint(rule: PolicyRule, endpoint: PolicyEndpoint, mesh: MeshFacts): boolean {
  if (rule.peers === null) return true;
  return rule.peers.some((p: Peer) => p.kind === 'endpoints' && peerSelectsEndpoint(p, endpoint, mesh));
}

/** The index of the first rule of the direction that takes in the endpoint, or -1: that rule's action decides. */
export function decidingRule(
  policy: NormalizedPolicy,
  direction: PolicyType,
  endpoint: PolicyEndpoint,
  mesh: MeshFacts,
): number {
  const rules = direction === 'Ingress' ? policy.ingress : policy.egress;
  return rules.findIndex((r) => ruleSelectsEndpoint(r, endpoint, mesh));
}
