import { applyManifest, type Manifest } from '../core/kube/apply.js';
import { isStatus, type KubeRestClient } from '../core/kube/rest-client.js';
import { defaultAccessNamespace, remoteAccessManifests, remoteAccessTokenSecret } from './remote-access.js';

export interface GrantedAccess {
  readonly token: string;
  readonly caPem: string;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Creates (or updates) the read-only access in a remote cluster and waits for the token controller to fill in
 * the token. The token is returned to the caller, never logged.
 */
export async function grantRemoteAccess(
  client: KubeRestClient,
  opts: { namespace?: string; timeoutMs?: number } = {},
): Promise<GrantedAccess> {
  const namespace = opts.namespace ?? defaultAccessNamespace;
  for (const m of remoteAccessManifests(namespace)) await applyManifest(client, m as Manifest);
  const deadline = Date.now() + (opts.timeoutMs ?? 60_000);
  const path = `/api/v1/namespaces/${namespace}/secrets/${remoteAccessTokenSecret}`;
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
        `secret ${namespace}/${remoteAccessTokenSecret} got no token: is the token controller of kube-controller-manager running?`,
      );
    }
    await sleep(250);
  }
}
