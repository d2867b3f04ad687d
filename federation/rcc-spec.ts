import { parseDuration } from '../core/cli/duration.js';
import { dns1123LabelError } from '../core/kube/names.js';
import type { StalePolicy } from './stale-policy.js';

export const rccGroup = 'fedmesh.io';
export const rccVersion = 'v1alpha1';
export const rccPlural = 'remoteclusterconfigurations';
export const rccKind = 'RemoteClusterConfiguration';
export const rccPath = `/apis/${rccGroup}/${rccVersion}/${rccPlural}`;
export const kubeconfigSecretKey = 'kubeconfig';

/** Defaults, the same as the CRD's. */
export const defaultStaleTtl = '5m';

export interface SecretRef {
  readonly name: string;
  readonly namespace: string;
}

export interface RccSpec {
  readonly clusterAccessSecret: SecretRef;
  readonly overlayRoutingMode: 'Enabled' | 'Disabled';
  readonly staleEndpoints: StalePolicy;
}

/** An RCC as read from the API: only what the controller uses. */
export interface RccObject {
  readonly apiVersion?: string;
  readonly kind?: string;
  readonly metadata: { readonly name: string; readonly generation?: number; readonly uid?: string };
  readonly spec?: {
    readonly clusterAccessSecret?: { readonly name?: string; readonly namespace?: string };
    readonly overlayRoutingMode?: string;
    readonly staleEndpoints?: { readonly mode?: string; readonly ttl?: string };
  };
}

export type RccSpecResult = { readonly spec: RccSpec } | { readonly error: string };

/**
 * Reads an RCC's spec with the CRD's defaults. The API server already validated it against the schema; this
 * guards the controller against objects written before a schema change (and says what is wrong).
 */
export function parseRccSpec(rcc: RccObject, localCluster: string): RccSpecResult {
  const name = rcc.metadata.name;
  const nameError = dns1123LabelError(name);
  if (nameError)
    return { error: `the RCC name "${name}" is the cluster name and must be a DNS-1123 label: it ${nameError}` };
  if (name === localCluster) {
    return { error: `the RCC name "${name}" is the name of this (local) cluster: a cluster cannot be its own remote` };
  }
  const ref = rcc.spec?.clusterAccessSecret;
  if (!ref?.name || !ref.namespace) {
    return { error: 'spec.clusterAccessSecret needs both name and namespace' };
  }
  const mode = rcc.spec?.staleEndpoints?.mode ?? 'Retain';
  if (mode !== 'Retain' && mode !== 'Withdraw')
    return { error: `spec.staleEndpoints.mode "${mode}" is not Retain or Withdraw` };
  const ttlText = rcc.spec?.staleEndpoints?.ttl ?? defaultStaleTtl;
  const ttlMs = parseDuration(ttlText);
  if (ttlMs === undefined) return { error: `spec.staleEndpoints.ttl "${ttlText}" is not a duration such as 30s or 5m` };
  const overlay = rcc.spec?.overlayRoutingMode ?? 'Disabled';
  if (overlay !== 'Enabled' && overlay !== 'Disabled') {
    return { error: `spec.overlayRoutingMode "${overlay}" is not Enabled or Disabled` };
  }
  return {
    spec: {
      clusterAccessSecret: { name: ref.name, namespace: ref.namespace },
      overlayRoutingMode: overlay,
      staleEndpoints: { mode, ttlMs },
    },
  };
}
