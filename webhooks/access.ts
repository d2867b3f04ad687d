// What `fedmesh webhooks` may do in its cluster, as the ServiceAccount it runs as, and nothing more:
//  - list and watch RemoteClusterConfigurations (warnings for cluster names no RCC has);
//  - read Secrets in its own namespace (warning when an RCC's access Secret is missing);
//  - get and patch its own ValidatingWebhookConfiguration (keep caBundle in sync when it generates certificates).
// The chart carries the same rules; a test compares them.

import { accessManifests } from '../core/kube/access-manifests.js';
import type { Manifest } from '../core/kube/apply.js';
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
  return accessManifests({
    namespace,
    serviceAccount: webhooksServiceAccount,
    roleName: name,
    labels,
    clusterRules: [
      { apiGroups: [rccGroup], resources: [rccPlural], verbs: ['get', 'list', 'watch'] },
      {
        apiGroups: ['admissionregistration.k8s.io'],
        resources: ['validatingwebhookconfigurations'],
        resourceNames: [opts.webhookConfiguration ?? defaultWebhookConfigurationName],
        verbs: ['get', 'patch'],
      },
    ],
    namespaceRules: [{ apiGroups: [''], resources: ['secrets'], verbs: ['get'] }],
    ...(opts.tokenSecret ? { tokenSecret: webhooksTokenSecret } : {}),
  });
}
