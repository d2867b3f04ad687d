// Stand-ins for definitions that belong to the webhooks and agent packages, in the shape those packages export
// them (`webhooksAccessManifests`, `webhookConfigurationManifest`, `agentClusterRoleRules`). When the package is
// merged, chart-sources.ts imports its function instead and this file is deleted; `npm run chart:generate` then
// rewrites the chart's generated files from the real definitions.

import type { Manifest } from '../../core/kube/apply.js';

type Rule = { apiGroups: string[]; resources: string[]; verbs: string[]; resourceNames?: string[] };

/** What `fedmesh agent` reads and writes (dataplane-agent/access.ts). */
export function agentClusterRoleRules(): Rule[] {
  const watch = ['get', 'list', 'watch'];
  return [
    { apiGroups: [''], resources: ['pods', 'namespaces'], verbs: watch },
    { apiGroups: [''], resources: ['nodes'], verbs: ['get', 'patch'] },
    { apiGroups: ['networking.k8s.io'], resources: ['networkpolicies'], verbs: watch },
    { apiGroups: ['fedmesh.io'], resources: ['federatednetworkpolicies', 'remoteclusterconfigurations'], verbs: watch },
    { apiGroups: ['federation.fedmesh.io'], resources: ['remoteworkloads', 'remotenodes'], verbs: watch },
  ];
}
