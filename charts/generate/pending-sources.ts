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

/** What `fedmesh webhooks` may do (webhooks/access.ts): its ClusterRole and its Role in its own namespace. */
export function webhooksAccessManifests(namespace: string): Manifest[] {
  const name = 'fedmesh:webhooks';
  return [
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRole',
      metadata: { name },
      rules: [
        { apiGroups: ['fedmesh.io'], resources: ['remoteclusterconfigurations'], verbs: ['get', 'list', 'watch'] },
        {
          apiGroups: ['admissionregistration.k8s.io'],
          resources: ['validatingwebhookconfigurations'],
          resourceNames: ['fedmesh'],
          verbs: ['get', 'patch'],
        },
      ],
    },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'Role',
      metadata: { name, namespace },
      rules: [{ apiGroups: [''], resources: ['secrets'], verbs: ['get'] }],
    },
  ];
}

const serviceSelectorMatchCondition =
  "has(object.metadata.annotations) && ('federation.fedmesh.io/serviceSelector' in object.metadata.annotations || 'federation.tigera.io/serviceSelector' in object.metadata.annotations)";

/** The ValidatingWebhookConfiguration (webhooks/configuration.ts): one webhook per kind. */
export function webhookConfigurationManifest(o: {
  endpoint: { service: { namespace: string; name: string; port?: number } };
  caBundlePem: string;
}): Manifest {
  const routes = [
    { name: 'networkpolicies', group: 'networking.k8s.io', version: 'v1', scope: 'Namespaced' },
    { name: 'federatednetworkpolicies', group: 'fedmesh.io', version: 'v1alpha1', scope: 'Namespaced' },
    { name: 'remoteclusterconfigurations', group: 'fedmesh.io', version: 'v1alpha1', scope: 'Cluster' },
    { name: 'services', group: '', version: 'v1', scope: 'Namespaced' },
  ];
  const excluded = ['kube-system', o.endpoint.service.namespace].sort();
  return {
    apiVersion: 'admissionregistration.k8s.io/v1',
    kind: 'ValidatingWebhookConfiguration',
    metadata: { name: 'fedmesh' },
    webhooks: routes.map((r) => ({
      name: `${r.name}.webhooks.fedmesh.io`,
      admissionReviewVersions: ['v1'],
      clientConfig: {
        service: { ...o.endpoint.service, port: o.endpoint.service.port ?? 443, path: `/validate/${r.name}` },
        caBundle: Buffer.from(o.caBundlePem).toString('base64'),
      },
      rules: [
        {
          apiGroups: [r.group],
          apiVersions: [r.version],
          operations: ['CREATE', 'UPDATE'],
          resources: [r.name],
          scope: r.scope,
        },
      ],
      namespaceSelector: {
        matchExpressions: [{ key: 'kubernetes.io/metadata.name', operator: 'NotIn', values: excluded }],
      },
      ...(r.name === 'services'
        ? { matchConditions: [{ name: 'federated-services-only', expression: serviceSelectorMatchCondition }] }
        : {}),
      sideEffects: 'None',
      failurePolicy: 'Fail',
      matchPolicy: 'Equivalent',
      timeoutSeconds: 5,
    })),
  };
}
