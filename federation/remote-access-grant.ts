import { applyManifest, type Manifest } from '../core/kube/apply.js';
import type { KubeRestClient } from '../core/kube/rest-client.js';
import { readServiceAccountToken, type ServiceAccountToken } from '../core/kube/service-account-token.js';
import { defaultAccessNamespace, remoteAccessManifests, remoteAccessTokenSecret } from './remote-access.js';

export type GrantedAccess = ServiceAccountToken;

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
  return readServiceAccountToken(client, namespace, remoteAccessTokenSecret, opts.timeoutMs);
}
