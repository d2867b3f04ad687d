import { KubeConfig } from '@kubernetes/client-node';
import yaml from 'js-yaml';
import type { ConfigProblem } from './cluster-state.js';
import { kubeconfigSecretKey, type SecretRef } from './rcc-spec.js';

/** The part of a Secret the controller keeps: whether it exists, and its kubeconfig (never logged). */
export interface AccessSecret {
  readonly kubeconfig: string | undefined;
}

export type KubeconfigResult =
  | { readonly kubeConfig: KubeConfig; readonly text: string }
  | { readonly problem: ConfigProblem };

/** Keeps only the kubeconfig key of a Secret, decoded. */
export function slimAccessSecret(secret: { data?: Record<string, string> }): AccessSecret {
  const b64 = secret.data?.[kubeconfigSecretKey];
  return { kubeconfig: b64 === undefined ? undefined : Buffer.from(b64, 'base64').toString('utf8') };
}

interface RawKubeconfig {
  users?: { name?: string; user?: Record<string, unknown> }[];
  clusters?: { name?: string; cluster?: Record<string, unknown> }[];
}

// File references would make the server read its own files on behalf of whoever writes the Secret, and exec
// plugins would run programs: a cluster access secret must carry its credentials inline.
const forbiddenUserFields = ['exec', 'auth-provider', 'tokenFile', 'client-certificate', 'client-key'];
const forbiddenClusterFields = ['certificate-authority'];

/**
 * Checks a cluster access Secret and its kubeconfig. Messages never quote the kubeconfig: it holds credentials.
 */
export function kubeconfigFromSecret(ref: SecretRef, secret: AccessSecret | undefined): KubeconfigResult {
  const where = `secret ${ref.namespace}/${ref.name}`;
  if (!secret) {
    return { problem: { reason: 'SecretNotFound', message: `${where} does not exist` } };
  }
  const text = secret.kubeconfig;
  if (text === undefined || text.trim() === '') {
    return { problem: { reason: 'SecretKeyMissing', message: `${where} has no key "${kubeconfigSecretKey}"` } };
  }
  const bad = (what: string): KubeconfigResult => ({
    problem: { reason: 'BadKubeconfig', message: `the kubeconfig in ${where} ${what}` },
  });
  let raw: unknown;
  try {
    raw = yaml.load(text);
  } catch (err) {
    const line = (err as { mark?: { line?: number } }).mark?.line;
    return bad(`is not valid YAML${line === undefined ? '' : ` (line ${line + 1})`}`);
  }
  if (typeof raw !== 'object' || raw === null) return bad('is not a YAML mapping');
  const doc = raw as RawKubeconfig;
  for (const u of doc.users ?? []) {
    for (const f of forbiddenUserFields) {
      if (u.user && f in u.user) return bad(`uses "${f}" for user "${u.name ?? ''}": credentials must be inline`);
    }
  }
  for (const c of doc.clusters ?? []) {
    for (const f of forbiddenClusterFields) {
      if (c.cluster && f in c.cluster) return bad(`uses "${f}" for cluster "${c.name ?? ''}": use ${f}-data`);
    }
  }
  const kc = new KubeConfig();
  try {
    kc.loadFromString(text);
  } catch (err) {
    const msg = err instanceof Error ? err.message.split('\n')[0] : '';
    return bad(`cannot be loaded${msg ? `: ${msg.slice(0, 200)}` : ''}`);
  }
  if (!kc.getCurrentContext()) return bad('has no current-context');
  const cluster = kc.getCurrentCluster();
  if (!cluster?.server) return bad('has no cluster (with a server) for its current context');
  if (!cluster.server.startsWith('https://')) return bad(`names server ${cluster.server}: only https:// is supported`);
  if (!kc.getCurrentUser()) return bad('has no user for its current context');
  return { kubeConfig: kc, text };
}
