import { readFileSync } from 'node:fs';
import type { KubeConfig } from '@kubernetes/client-node';
import type { Manifest } from './apply.js';
import { isStatus, type KubeRestClient, type TokenSource } from './rest-client.js';

/**
 * A long-lived token for a ServiceAccount, which the token controller fills in: for a process that runs outside a
 * pod (a remote cluster's access, the testbed's servers). Deleting the Secret revokes the token.
 */
export function serviceAccountTokenSecret(
  namespace: string,
  serviceAccount: string,
  name: string,
  labels: Readonly<Record<string, string>> = {},
): Manifest {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    type: 'kubernetes.io/service-account-token',
    metadata: { name, namespace, labels, annotations: { 'kubernetes.io/service-account.name': serviceAccount } },
  };
}

export interface ServiceAccountToken {
  readonly token: string;
  /** The cluster's CA (PEM), as the token controller copies it into the Secret. */
  readonly caPem: string;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Waits for the token controller (kube-controller-manager) to fill in a `kubernetes.io/service-account-token`
 * Secret, and returns the token and CA. The token goes to the caller only, never to a log.
 */
export async function readServiceAccountToken(
  client: KubeRestClient,
  namespace: string,
  secretName: string,
  timeoutMs = 60_000,
): Promise<ServiceAccountToken> {
  const deadline = Date.now() + timeoutMs;
  const path = `/api/v1/namespaces/${encodeURIComponent(namespace)}/secrets/${encodeURIComponent(secretName)}`;
  for (;;) {
    try {
      const s = await client.get<{ data?: Record<string, string> }>(path);
      const token = s.data?.token;
      const ca = s.data?.['ca.crt'];
      if (token && ca) {
        return {
          token: Buffer.from(token, 'base64').toString('utf8'),
          caPem: Buffer.from(ca, 'base64').toString('utf8'),
        };
      }
    } catch (err) {
      if (!isStatus(err, 404)) throw err;
    }
    if (Date.now() > deadline) {
      throw new Error(
        `secret ${namespace}/${secretName} got no token: is the token controller of kube-controller-manager running?`,
      );
    }
    await sleep(250);
  }
}

/**
 * The token file of the current user (`loadFromCluster()` names the pod's projected ServiceAccount token this
 * way), or undefined. Only our own kubeconfig is read like this: remote access kubeconfigs may not name files.
 */
export function tokenFileOf(kc: KubeConfig): string | undefined {
  const config = kc.getCurrentUser()?.authProvider?.config as Record<string, unknown> | undefined;
  const file = config?.tokenFile;
  return typeof file === 'string' && file !== '' ? file : undefined;
}

/** How often a token file is read again (client-go's cached file token source: once a minute). */
export const tokenFilePeriodMs = 60_000;

/**
 * A bearer token kept in a file that the kubelet rotates (bound ServiceAccount tokens expire after an hour or
 * so): read again once a period has passed, and at once when a request that started after the last read got 401.
 * A failed read keeps the previous token, so a file briefly absent during a rotation costs nothing.
 */
export class BearerTokenFile implements TokenSource {
  private value = '';
  private readAt = Number.NEGATIVE_INFINITY;

  constructor(
    readonly path: string,
    private readonly periodMs = tokenFilePeriodMs,
    private readonly read: (path: string) => string = (p) => readFileSync(p, 'utf8'),
    private readonly now: () => number = Date.now,
  ) {}

  token(): string {
    if (this.now() - this.readAt >= this.periodMs) this.reload();
    return this.value;
  }

  invalidate(startedAt: number): void {
    if (this.readAt < startedAt) this.readAt = Number.NEGATIVE_INFINITY;
  }

  private reload(): void {
    try {
      this.value = this.read(this.path).trim();
    } catch {
      // Keep the token we have; the next request tries again.
      if (this.value !== '') {
        this.readAt = this.now() - this.periodMs + 1000;
        return;
      }
    }
    this.readAt = this.now();
  }
}
