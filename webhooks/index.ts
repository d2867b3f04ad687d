// The validating admission webhooks of fedmesh (`fedmesh webhooks`): NetworkPolicy, FederatedNetworkPolicy,
// RemoteClusterConfiguration and federated Services, served over HTTPS in a process of their own.

import type { Registry } from 'prom-client';
import type { KubeRestClient } from '../core/kube/rest-client.js';
import type { Logger } from '../core/log/logger.js';
import { type ClusterState, watchClusterState } from './cluster-state.js';
import { caBundlePublisher } from './publish-ca-bundle.js';
import { startWebhookServer, type WebhookServer } from './server.js';
import {
  fileServingCertificates,
  GeneratedServingCertificates,
  type ServingCertificates,
} from './serving-certificates.js';

export { webhooksAccessManifests, webhooksServiceAccount, webhooksTokenSecret } from './access.js';
export { ADMISSION_API_VERSION, type AdmissionRequest, type AdmissionResponse } from './admission-review.js';
export {
  defaultTimeoutSeconds,
  defaultWebhookConfigurationName,
  type FailurePolicy,
  type WebhookConfigurationOptions,
  webhookConfigurationManifest,
} from './configuration.js';
export { policyShapeErrors } from './object-schemas.js';
export { KEEP_ALIVE_MS, MAX_BODY_BYTES, startWebhookServer, type WebhookServer } from './server.js';
export { prepareGeneratedCertificates } from './serving-certificates.js';
export type { ValidationContext } from './validation-context.js';

export type CertificateSource =
  | { readonly kind: 'files'; readonly certFile: string; readonly keyFile: string }
  | {
      readonly kind: 'generated';
      readonly dir: string;
      readonly dnsNames: readonly string[];
      readonly ipAddresses: readonly string[];
      readonly certValidityMs: number;
      readonly caValidityMs: number;
    };

export interface WebhooksOptions {
  readonly client: KubeRestClient;
  readonly localCluster: string;
  /** The webhooks' own namespace, where fedmesh server also reads cluster access Secrets. */
  readonly namespace: string;
  readonly webhookConfiguration: string;
  readonly host: string;
  readonly port: number;
  readonly certificates: CertificateSource;
  readonly log: Logger;
  readonly registry: Registry;
}

export interface Webhooks {
  readonly server: WebhookServer;
  readonly state: ClusterState;
  /** Ready: serving, and RemoteClusterConfigurations listed once (their warnings need them). */
  isReady(): boolean;
  stop(): Promise<void>;
}

export async function startWebhooks(o: WebhooksOptions): Promise<Webhooks> {
  const state = watchClusterState({
    client: o.client,
    localCluster: o.localCluster,
    accessSecretNamespace: o.namespace,
    log: o.log,
  });
  let server: WebhookServer | undefined;
  const onChange = (pair: { certPem: string; keyPem: string }) => server?.setCertificate(pair.certPem, pair.keyPem);
  let certs: ServingCertificates;
  if (o.certificates.kind === 'files') {
    certs = fileServingCertificates({ ...o.certificates, log: o.log, registry: o.registry, onChange });
  } else {
    const generated = new GeneratedServingCertificates({
      ...o.certificates,
      log: o.log,
      registry: o.registry,
      onChange,
      publishCaBundle: caBundlePublisher(o.client, o.webhookConfiguration, o.log),
    });
    certs = generated;
    await generated.start();
  }
  const pair = certs.current();
  server = await startWebhookServer({
    host: o.host,
    port: o.port,
    ...pair,
    context: state,
    log: o.log,
    registry: o.registry,
  });
  const running = server;
  return {
    server: running,
    state,
    isReady: () => state.hasSynced(),
    stop: async () => {
      certs.stop();
      await Promise.all([running.close(), state.stop()]);
    },
  };
}
