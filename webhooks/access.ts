// What `fedmesh webhooks` may do in its cluster, as the ServiceAccount it runs as, and nothing more:
//  - list and watch RemoteClusterConfigurations (warnings for cluster names no RCC has);
//  - read Secrets in its own namespace (warning when an RCC's access Secret is missing);
//  - get and patch its own ValidatingWebhookConfiguration (keep caBundle in sync when it generates certificates).
// The chart carries the same rules; a test compares them.

import type { Manifest } from '../core/kube/apply.js';
import { serviceAccountTokenSecret } from '../core/kube/service-account-token.js';
import { rccGroup, rccPlural } from '../federation/index.js';
import { defaultWebhookConfigurationName } from './configuration.js';

export const webhooksServiceAccount = 'fedmesh-webhooks';
/** The long-lived token Secret of the ServiceAccount, for a process run outside a pod (the testbed's). */
export const webhooksTokenSecret = `${webhooksServiceAccount}-token`;
const name = 'fedmesh:webhooks';
const labels = { 'app.kubernetes.io/part-of': 'fedmesh' };

export function webhooksAccessManifests(
  namespace: string,
  opts: { tokenSecret?: boolean; webhookConfiguration?: string } = {},
): Manifest[] {
  const subjects = [{ kind: 'ServiceAccount', name: webhooksServiceAccount, namespace }];
  const out: Manifest[] = [
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace, labels } },
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: webhooksServiceAccount, namespace, labels } },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRole',
      metadata: { name, labels },
      rules: [
        { apiGroups: [rccGroup], resources: [rccPlural], verbs: ['get', 'list', 'watch'] },
        {
          apiGroups: ['admissionregistration.k8s.io'],
          resources: ['validatingwebhookconfigurations'],
          resourceNames: [opts.webhookConfiguration ?? defaultWebhookConfigurationName],
          verbs: ['get', 'patch'],
        },
      ],
    },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: { name, labels },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name },
      subjects,
    },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'Role',
      metadata: { name, namespace, labels },
      rules: [{ apiGroups: [''], resources: ['secrets'], verbs: ['get'] }],
    },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: { name, namespace, labels },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name },
      subjects,
    },
  ];
  if (opts.tokenSecret) {
    out.push(serviceAccountTokenSecret(namespace, webhooksServiceAccount, webhooksTokenSecret, labels));
  }
  return out;
}
