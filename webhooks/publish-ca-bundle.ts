// Keeps the webhook configuration's caBundle trusting our CAs: merged into each webhook's bundle (never replacing
// another replica's CA), written with a JSON patch that tests the resourceVersion, so that two replicas writing at
// once cannot undo each other (the loser retries on its next tick).

import { isStatus, type KubeRestClient } from '../core/kube/rest-client.js';
import type { Logger } from '../core/log/logger.js';
import { errorMessage } from '../core/log/logger.js';
import { mergeCaBundle } from './ca-bundle.js';

interface WebhookConfiguration {
  readonly metadata: { readonly resourceVersion: string };
  readonly webhooks?: readonly { readonly clientConfig?: { readonly caBundle?: string } }[];
}

export function caBundlePublisher(client: KubeRestClient, configurationName: string, log: Logger) {
  const path = `/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations/${encodeURIComponent(configurationName)}`;
  let missingLogged = false;
  return async (caPems: readonly string[]): Promise<boolean> => {
    try {
      const config = await client.get<WebhookConfiguration>(path);
      const now = new Date();
      const ops: unknown[] = [
        { op: 'test', path: '/metadata/resourceVersion', value: config.metadata.resourceVersion },
      ];
      (config.webhooks ?? []).forEach((w, i) => {
        const current = Buffer.from(w.clientConfig?.caBundle ?? '', 'base64').toString('utf8');
        const merged = mergeCaBundle(current, caPems, now);
        if (merged !== current) {
          ops.push({
            op: 'add',
            path: `/webhooks/${i}/clientConfig/caBundle`,
            value: Buffer.from(merged).toString('base64'),
          });
        }
      });
      if (ops.length > 1) {
        await client.request('PATCH', path, { body: ops, contentType: 'application/json-patch+json', timeoutMs: 5000 });
        log.info({ configuration: configurationName, webhooks: ops.length - 1 }, 'caBundle updated');
      }
      missingLogged = false;
      return true;
    } catch (err) {
      if (isStatus(err, 404)) {
        if (!missingLogged)
          log.warn(
            { configuration: configurationName },
            'ValidatingWebhookConfiguration not found: caBundle not kept in sync until it exists',
          );
        missingLogged = true;
      } else {
        log.warn({ configuration: configurationName, err: errorMessage(err) }, 'caBundle sync failed; retrying');
      }
      return false;
    }
  };
}
