import { createPrivateKey, X509Certificate } from 'node:crypto';
import { type Cluster, type Context, KubeConfig, type User } from '@kubernetes/client-node';
import yaml from 'js-yaml';
import type { ConfigProblem } from './cluster-state.js';
import { type AccessKubeconfig, checkAccessKubeconfig } from './kubeconfig-allow-list.js';
import { kubeconfigSecretKey, type SecretRef } from './rcc-spec.js';

/** The part of a Secret the controller keeps: whether it exists, and its kubeconfig (never logged). */
export interface AccessSecret {
  readonly kubeconfig: string | undefined;
}

export type KubeconfigResult =
  | { readonly kubeConfig: KubeConfig; readonly text: string }
  | { readonly problem: ConfigProblem };

/** Keeps only the kubeconfig key of a Secret, decoded. */
export function slimAccessSecret(secret: { data?: unknown }): AccessSecret {
  const data = secret.data;
  const b64 = typeof data === 'object' && data !== null ? (data as Record<string, unknown>)[kubeconfigSecretKey] : '';
  return { kubeconfig: typeof b64 === 'string' ? Buffer.from(b64, 'base64').toString('utf8') : undefined };
}

/** A Secret holds at most 1 MiB; a kubeconfig larger than that did not come from one. */
const maxKubeconfigBytes = 1024 * 1024;

/**
 * Checks a cluster access Secret and its kubeconfig against the allow-list (kubeconfig-allow-list.ts) and builds
 * the client configuration from the checked fields only: nothing in the Secret can make this process read a
 * file, run a program or skip TLS verification. Messages name fields, never values: the kubeconfig holds
 * credentials.
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
    problem: { reason: 'BadKubeconfig', message: `the kubeconfig in ${where}: ${what}` },
  });
  if (Buffer.byteLength(text) > maxKubeconfigBytes) return bad('is larger than 1 MiB');
  let raw: unknown;
  try {
    raw = yaml.load(text);
  } catch (err) {
    const line = (err as { mark?: { line?: number } }).mark?.line;
    return bad(`is not valid YAML${line === undefined ? '' : ` (line ${line + 1})`}`);
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return bad('is not a YAML mapping');
  const checked = checkAccessKubeconfig(raw);
  if ('error' in checked) return bad(checked.error);
  const built = buildKubeConfig(checked.config);
  return typeof built === 'string' ? bad(built) : { kubeConfig: built, text };
}

/** The client configuration of the current context, from checked fields; or what is wrong with them. */
function buildKubeConfig(doc: AccessKubeconfig): KubeConfig | string {
  const current = doc['current-context'];
  const ctxIndex = doc.contexts.findIndex((c) => c.name === current);
  const ctx = doc.contexts[ctxIndex];
  if (!ctx) return 'current-context names no entry of contexts';
  const clusterIndex = doc.clusters.findIndex((c) => c.name === ctx.context.cluster);
  const cluster = doc.clusters[clusterIndex];
  if (!cluster) return `contexts[${ctxIndex}].context.cluster names no entry of clusters`;
  const userIndex = doc.users.findIndex((u) => u.name === ctx.context.user);
  const user = doc.users[userIndex];
  if (!user) return `contexts[${ctxIndex}].context.user names no entry of users`;

  const c = `clusters[${clusterIndex}].cluster`;
  const serverProblem = checkServer(cluster.cluster.server);
  if (serverProblem) return `${c}.server ${serverProblem}`;
  const caData = cluster.cluster['certificate-authority-data'];
  if (caData !== undefined && !isPemCertificates(caData)) {
    return `${c}.certificate-authority-data is not base64-encoded PEM certificates`;
  }
  const u = `users[${userIndex}].user`;
  const { token, 'client-certificate-data': certData, 'client-key-data': keyData } = user.user;
  if (token === undefined && certData === undefined) {
    return `${u} has no credentials: give "token", or "client-certificate-data" with "client-key-data"`;
  }
  // Header values cannot carry whitespace or control characters; Node would throw when sending them.
  if (token !== undefined && !/^[\x21-\x7e]+$/.test(token)) {
    return `${u}.token holds characters a bearer token cannot (whitespace or control characters)`;
  }
  if (certData !== undefined && !isPemCertificates(certData)) {
    return `${u}.client-certificate-data is not a base64-encoded PEM certificate`;
  }
  if (keyData !== undefined && !isPemKey(keyData))
    return `${u}.client-key-data is not a base64-encoded PEM private key`;

  const kc = new KubeConfig();
  const clusterConfig: Cluster = {
    name: cluster.name,
    server: cluster.cluster.server.replace(/\/$/, ''),
    skipTLSVerify: false,
    ...(caData ? { caData } : {}),
  };
  const userConfig: User = {
    name: user.name,
    ...(token ? { token } : {}),
    ...(certData ? { certData } : {}),
    ...(keyData ? { keyData } : {}),
  };
  const contextConfig: Context = { name: ctx.name, cluster: cluster.name, user: user.name };
  kc.loadFromOptions({
    clusters: [clusterConfig],
    users: [userConfig],
    contexts: [contextConfig],
    currentContext: ctx.name,
  });
  return kc;
}

/** Why a server URL is refused (without quoting it: it may carry credentials), or undefined. */
function checkServer(server: string): string | undefined {
  let url: URL;
  try {
    url = new URL(server);
  } catch {
    return 'is not a URL';
  }
  if (url.protocol !== 'https:') return 'must be an https:// URL';
  if (url.username || url.password) return 'must not carry credentials';
  if (url.pathname !== '/' || url.search || url.hash) return 'must be https://HOST[:PORT] without a path';
  return undefined;
}

function decodeBase64(data: string): string | undefined {
  if (!/^[A-Za-z0-9+/=\s]+$/.test(data)) return undefined;
  return Buffer.from(data, 'base64').toString('utf8');
}

function isPemCertificates(data: string): boolean {
  const pem = decodeBase64(data);
  const blocks = pem === undefined ? [] : certificateBlocks(pem);
  if (blocks.length === 0) return false;
  try {
    for (const b of blocks) new X509Certificate(b);
    return true;
  } catch {
    return false;
  }
}

/**
 * The PEM certificate blocks of a text, found with indexOf: a lazy regular expression would rescan the rest of
 * the text from every BEGIN line, and a Secret full of BEGIN lines without END would block the process for minutes.
 */
function certificateBlocks(pem: string): string[] {
  const begin = '-----BEGIN CERTIFICATE-----';
  const end = '-----END CERTIFICATE-----';
  const blocks: string[] = [];
  for (let at = pem.indexOf(begin); at >= 0; at = pem.indexOf(begin, at)) {
    const stop = pem.indexOf(end, at + begin.length);
    if (stop < 0) return [];
    blocks.push(pem.slice(at, stop + end.length));
    at = stop + end.length;
  }
  return blocks;
}

function isPemKey(data: string): boolean {
  const pem = decodeBase64(data);
  if (!pem?.includes('PRIVATE KEY-----')) return false;
  try {
    createPrivateKey(pem);
    return true;
  } catch {
    return false;
  }
}
