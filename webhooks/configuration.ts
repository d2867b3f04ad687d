// The ValidatingWebhookConfiguration, from one function so that `fedmesh testbed deploy` and the Helm chart
// register the same thing: one webhook per kind, kube-system and the webhooks' own namespace excluded (the webhook
// must never block the system, nor its own recovery), sideEffects None, a small timeout, and a failurePolicy that
// is a setting:
//  - Fail (default): while no replica answers, writes of these kinds are refused (500 InternalError). Nothing
//    unvalidated gets in, at the price of availability; run 2+ replicas with a PodDisruptionBudget.
//  - Ignore: while no replica answers, writes go through unvalidated (a typo'd cluster name then silently matches
//    nothing). Writes never wait on fedmesh.

import type { Manifest } from '../core/kube/apply.js';
import { webhookRoutes } from './review.js';

export type FailurePolicy = 'Fail' | 'Ignore';

export const defaultWebhookConfigurationName = 'fedmesh';
/** Seconds kube-apiserver waits for an answer (1-30). Reviews take a millisecond; a slow one is a broken one. */
export const defaultTimeoutSeconds = 5;

export interface WebhookConfigurationOptions {
  readonly name?: string;
  /** Where kube-apiserver reaches the webhooks: a Service, or a URL (host processes, e.g. the testbed). */
  readonly endpoint:
    | { readonly service: { readonly namespace: string; readonly name: string; readonly port?: number } }
    | { readonly url: string };
  /** PEM bundle of the CAs that sign the serving certificate. */
  readonly caBundlePem: string;
  readonly failurePolicy?: FailurePolicy;
  readonly timeoutSeconds?: number;
  /** Namespaces never sent for review besides kube-system (the webhooks' own). */
  readonly excludedNamespaces?: readonly string[];
}

export const serviceSelectorMatchCondition =
  "has(object.metadata.annotations) && ('federation.fedmesh.io/serviceSelector' in object.metadata.annotations || 'federation.tigera.io/serviceSelector' in object.metadata.annotations)";

export function webhookConfigurationManifest(o: WebhookConfigurationOptions): Manifest {
  const caBundle = Buffer.from(o.caBundlePem).toString('base64');
  const excluded = [...new Set(['kube-system', ...(o.excludedNamespaces ?? [])])].sort();
  return {
    apiVersion: 'admissionregistration.k8s.io/v1',
    kind: 'ValidatingWebhookConfiguration',
    metadata: { name: o.name ?? defaultWebhookConfigurationName, labels: { 'app.kubernetes.io/part-of': 'fedmesh' } },
    webhooks: webhookRoutes.map((route) => {
      const path = `/validate/${route.name}`;
      const clientConfig =
        'url' in o.endpoint
          ? { url: `${o.endpoint.url.replace(/\/$/, '')}${path}`, caBundle }
          : { service: { ...o.endpoint.service, port: o.endpoint.service.port ?? 443, path }, caBundle };
      return {
        name: `${route.name}.webhooks.fedmesh.io`,
        admissionReviewVersions: ['v1'],
        clientConfig,
        rules: [
          {
            apiGroups: [route.group],
            apiVersions: [...route.versions],
            operations: ['CREATE', 'UPDATE'],
            resources: [route.resource],
            scope: route.scope,
          },
        ],
        // Cluster-scoped objects (RCCs) are never skipped by a namespaceSelector.
        namespaceSelector: {
          matchExpressions: [{ key: 'kubernetes.io/metadata.name', operator: 'NotIn', values: excluded }],
        },
        ...(route.resource === 'services'
          ? { matchConditions: [{ name: 'federated-services-only', expression: serviceSelectorMatchCondition }] }
          : {}),
        sideEffects: 'None',
        failurePolicy: o.failurePolicy ?? 'Fail',
        matchPolicy: 'Equivalent',
        timeoutSeconds: o.timeoutSeconds ?? defaultTimeoutSeconds,
      };
    }),
  };
}
