import type { BackoffPolicy } from '../core/kube/backoff.js';
import { type InformerFailure, ResilientInformer } from '../core/kube/resilient-informer.js';
import type { KubeRestClient } from '../core/kube/rest-client.js';
import { type AccessSecret, slimAccessSecret } from './kubeconfig-secret.js';
import type { SecretRef } from './rcc-spec.js';

export interface AccessSecretWatchOptions {
  readonly client: KubeRestClient;
  readonly ref: SecretRef;
  /** The Secret as it is now (undefined: it does not exist), on every list and change. */
  readonly onSecret: (secret: AccessSecret | undefined) => void;
  /** The Secret cannot be read (local RBAC, the local API server down). */
  readonly onFailure: (failure: InformerFailure) => void;
  readonly backoff?: BackoffPolicy;
}

/** Watches one cluster access Secret by name, so that a new token applies at once. */
export class AccessSecretWatch {
  private readonly informer: ResilientInformer<AccessSecret>;
  private stopped = false;

  constructor(opts: AccessSecretWatchOptions) {
    const { ref } = opts;
    const key = `${ref.namespace}/${ref.name}`;
    const deliver = (secret: AccessSecret | undefined) => {
      if (!this.stopped) opts.onSecret(secret);
    };
    this.informer = new ResilientInformer<AccessSecret>({
      client: opts.client,
      path: `/api/v1/namespaces/${encodeURIComponent(ref.namespace)}/secrets`,
      query: { fieldSelector: `metadata.name=${ref.name}` },
      convert: (raw) => slimAccessSecret(raw as { data?: Record<string, string> }),
      backoff: opts.backoff ?? { initialMs: 500, maxMs: 10_000, jitter: 0.2 },
      handlers: {
        onList: (items) => deliver(items.get(key)),
        onUpsert: (_k, item) => deliver(item),
        onDelete: () => deliver(undefined),
        onPhase: (phase, failure) => {
          if (phase === 'failed' && failure && !this.stopped) opts.onFailure(failure);
        },
      },
    });
  }

  start(): void {
    this.informer.start();
  }

  /** After this resolves no callback runs any more. */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.informer.stop();
  }
}
