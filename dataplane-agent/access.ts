// What `fedmesh agent` may do, as the ServiceAccount it runs as, and nothing more:
//  - list and watch pods, namespaces and NetworkPolicies (local endpoints and policy),
//    FederatedNetworkPolicies, and RemoteClusterConfigurations (which clusters have overlay routing);
//  - list and watch remoteworkloads and remotenodes of the federation API (remote endpoints, tunnel map);
//  - get and patch Nodes: read its own (InternalIP, podCIDRs) and publish its VTEP annotations; list and watch
//    them all: every node's pod CIDRs and addresses are the cluster's, never a remote pod's or a remote route's.
// The chart carries the same rules (a test compares them).

import { accessManifests } from '../core/kube/access-manifests.js';
import type { Manifest } from '../core/kube/apply.js';

export const agentServiceAccount = 'fedmesh-agent';
/** The long-lived token Secret of the ServiceAccount, for an agent run outside a pod (the testbed's). */
export const agentTokenSecret = `${agentServiceAccount}-token`;
const name = 'fedmesh:agent';
const labels = { 'app.kubernetes.io/part-of': 'fedmesh' };

export function agentClusterRoleRules(): Record<string, string[]>[] {
  const watch = ['get', 'list', 'watch'];
  return [
    { apiGroups: [''], resources: ['pods', 'namespaces'], verbs: watch },
    { apiGroups: [''], resources: ['nodes'], verbs: ['get', 'list', 'watch', 'patch'] },
    { apiGroups: ['networking.k8s.io'], resources: ['networkpolicies'], verbs: watch },
    { apiGroups: ['fedmesh.io'], resources: ['federatednetworkpolicies', 'remoteclusterconfigurations'], verbs: watch },
    { apiGroups: ['federation.fedmesh.io'], resources: ['remoteworkloads', 'remotenodes'], verbs: watch },
  ];
}

export function agentAccessManifests(namespace: string, opts: { tokenSecret?: boolean } = {}): Manifest[] {
  return accessManifests({
    namespace,
    serviceAccount: agentServiceAccount,
    roleName: name,
    labels,
    clusterRules: agentClusterRoleRules(),
    ...(opts.tokenSecret ? { tokenSecret: agentTokenSecret } : {}),
  });
}
