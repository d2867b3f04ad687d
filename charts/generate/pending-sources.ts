// Stand-ins for definitions that belong to the webhooks and agent packages. Each one follows the contract those
// packages implement (`fedmesh webhooks`, `fedmesh agent`); when the package exports its own function, the chart
// sources (chart-sources.ts) import it instead and this stand-in is deleted. Until then the chart carries these.

import type { Manifest } from '../../core/kube/apply.js';

type Rule = { apiGroups: string[]; resources: string[]; verbs: string[]; resourceNames?: string[] };

/** What `fedmesh agent` reads and writes: local pods, namespaces and policies; remote workloads and nodes
 *  through the aggregated API; its own Node's VTEP annotations. */
export function agentClusterRules(): Rule[] {
  return [
    { apiGroups: [''], resources: ['namespaces', 'pods'], verbs: ['list', 'watch'] },
    { apiGroups: [''], resources: ['nodes'], verbs: ['get', 'list', 'watch', 'patch'] },
    { apiGroups: ['networking.k8s.io'], resources: ['networkpolicies'], verbs: ['list', 'watch'] },
    { apiGroups: ['fedmesh.io'], resources: ['federatednetworkpolicies'], verbs: ['list', 'watch'] },
    { apiGroups: ['federation.fedmesh.io'], resources: ['remotenodes', 'remoteworkloads'], verbs: ['list', 'watch'] },
  ];
}

/** `fedmesh webhooks` needs no API access when the chart provides its certificate (every chart TLS mode). */
export function webhooksClusterRules(): Rule[] {
  return [];
}

/**
 * The validating webhooks, without their clientConfig (the chart fills in the Service and caBundle): one HTTPS
 * path per kind, no side effects, v1 AdmissionReviews.
 */
export function validatingWebhooks(): Omit<Manifest, 'apiVersion' | 'kind' | 'metadata'>[] {
  const webhook = (name: string, group: string, resource: string) => ({
    name,
    path: `/validate/${resource}`,
    rules: [
      { apiGroups: [group], apiVersions: ['*'], operations: ['CREATE', 'UPDATE'], resources: [resource], scope: '*' },
    ],
    sideEffects: 'None',
    admissionReviewVersions: ['v1'],
    matchPolicy: 'Equivalent',
  });
  return [
    webhook('federatednetworkpolicies.fedmesh.io', 'fedmesh.io', 'federatednetworkpolicies'),
    webhook('networkpolicies.fedmesh.io', 'networking.k8s.io', 'networkpolicies'),
  ];
}
