import type { Manifest } from './apply.js';
import { isStatus, type KubeRestClient } from './rest-client.js';

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
