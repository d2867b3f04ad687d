import type { X509Certificate } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { subjectOf, verifyClientCert } from './client-cert.js';
import { anonymousUser, type UserInfo, withAuthenticatedGroup } from './user-info.js';

/** The front-proxy trust of kube-system/extension-apiserver-authentication (AUTHN-01). */
export interface RequestHeaderConfig {
  readonly clientCAs: readonly X509Certificate[];
  readonly allowedNames: readonly string[];
  readonly usernameHeaders: readonly string[];
  readonly uidHeaders: readonly string[];
  readonly groupHeaders: readonly string[];
  readonly extraHeaderPrefixes: readonly string[];
}

export interface AuthenticationConfig {
  readonly requestHeader: RequestHeaderConfig | undefined;
  /** CAs of direct x509 clients (`client-ca-file`). */
  readonly clientCAs: readonly X509Certificate[];
}

export type AuthnResult =
  | { readonly outcome: 'authenticated'; readonly user: UserInfo; readonly method: 'front-proxy' | 'x509' | 'token' }
  | { readonly outcome: 'anonymous'; readonly user: UserInfo }
  | { readonly outcome: 'failed'; readonly why: string };

/** Reviews a bearer token (TokenReview against kube-apiserver), with its own cache. */
export type TokenReviewer = (token: string) => Promise<UserInfo | undefined>;

function headerValues(headers: IncomingHttpHeaders, name: string): string[] {
  const v = headers[name.toLowerCase()];
  if (v === undefined) return [];
  return (Array.isArray(v) ? v : v.split(',')).map((s) => s.trim()).filter((s) => s !== '');
}

/** The first non-empty value among the named headers (the first configured header wins). */
function firstHeader(headers: IncomingHttpHeaders, names: readonly string[]): string | undefined {
  for (const h of names) {
    const v = headers[h.toLowerCase()];
    const first = Array.isArray(v) ? v[0] : v;
    if (first) return first;
  }
  return undefined;
}

/** The identity the front proxy asserts in its headers (AUTHN-03 step 4). */
export function userFromHeaders(headers: IncomingHttpHeaders, cfg: RequestHeaderConfig): UserInfo | undefined {
  const username = firstHeader(headers, cfg.usernameHeaders);
  if (!username) return undefined;
  const uid = firstHeader(headers, cfg.uidHeaders);
  // Group values are one per header line; node joins repeated headers with ", ".
  const groups = cfg.groupHeaders.flatMap((h) => headerValues(headers, h));
  const extra: Record<string, string[]> = {};
  for (const [name, value] of Object.entries(headers)) {
    for (const prefix of cfg.extraHeaderPrefixes) {
      if (!name.startsWith(prefix.toLowerCase())) continue;
      let key = name.slice(prefix.length).toLowerCase();
      try {
        key = decodeURIComponent(key);
      } catch {
        // keep it as sent
      }
      const values = Array.isArray(value) ? value : String(value ?? '').split(',');
      extra[key] = [...(extra[key] ?? []), ...values.map((s) => s.trim()).filter((s) => s !== '')];
    }
  }
  return { username, ...(uid ? { uid } : {}), groups, extra };
}

/**
 * The union of authenticators in Go's order (AUTHN-07): front proxy → x509 client certificate → bearer token →
 * anonymous. Credentials that are presented and fail give 'failed' (401), never anonymous.
 */
export async function authenticate(
  peerCert: X509Certificate | undefined,
  headers: IncomingHttpHeaders,
  cfg: AuthenticationConfig,
  reviewToken: TokenReviewer,
): Promise<AuthnResult> {
  if (peerCert) {
    const rh = cfg.requestHeader;
    if (rh && verifyClientCert(peerCert, rh.clientCAs).ok) {
      const { commonName } = subjectOf(peerCert);
      if (rh.allowedNames.length > 0 && !rh.allowedNames.includes(commonName)) {
        return { outcome: 'failed', why: `front-proxy certificate CN "${commonName}" is not in the allowed names` };
      }
      const user = userFromHeaders(headers, rh);
      if (!user) return { outcome: 'failed', why: 'front-proxy request without a user header' };
      return { outcome: 'authenticated', user: withAuthenticatedGroup(user), method: 'front-proxy' };
    }
    const direct = verifyClientCert(peerCert, cfg.clientCAs);
    if (direct.ok) {
      const { commonName, organizations } = subjectOf(peerCert);
      return {
        outcome: 'authenticated',
        user: withAuthenticatedGroup({ username: commonName, groups: organizations, extra: {} }),
        method: 'x509',
      };
    }
    return { outcome: 'failed', why: `client certificate: ${direct.why}` };
  }
  const auth = headers.authorization;
  if (auth !== undefined) {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(auth);
    if (!m?.[1]) return { outcome: 'failed', why: 'malformed Authorization header' };
    const user = await reviewToken(m[1]);
    if (!user) return { outcome: 'failed', why: 'invalid bearer token' };
    return { outcome: 'authenticated', user: withAuthenticatedGroup(user), method: 'token' };
  }
  return { outcome: 'anonymous', user: anonymousUser };
}

/** Parses the ConfigMap data of kube-system/extension-apiserver-authentication (values are JSON arrays). */
export function requestHeaderConfigFrom(
  data: Readonly<Record<string, string>>,
  parseCerts: (pem: string) => X509Certificate[],
): { requestHeader: RequestHeaderConfig | undefined; clientCAs: X509Certificate[] } {
  const list = (key: string): string[] => {
    const raw = data[key];
    if (!raw) return [];
    const v = JSON.parse(raw) as unknown;
    return Array.isArray(v) ? v.map(String) : [];
  };
  const caPem = data['requestheader-client-ca-file'];
  const requestHeader = caPem
    ? {
        clientCAs: parseCerts(caPem),
        allowedNames: list('requestheader-allowed-names'),
        usernameHeaders: list('requestheader-username-headers'),
        // Only uid headers the cluster lists are trusted (AUTHN-05).
        uidHeaders: list('requestheader-uid-headers'),
        groupHeaders: list('requestheader-group-headers'),
        extraHeaderPrefixes: list('requestheader-extra-headers-prefix'),
      }
    : undefined;
  return { requestHeader, clientCAs: data['client-ca-file'] ? parseCerts(data['client-ca-file']) : [] };
}

/** Headers that carry identity: removed once read, never passed on (AUTHN-03 step 5, SEC-03). */
export function identityHeaderNames(cfg: RequestHeaderConfig | undefined): string[] {
  if (!cfg) return ['authorization'];
  return ['authorization', ...cfg.usernameHeaders, ...cfg.uidHeaders, ...cfg.groupHeaders].map((h) => h.toLowerCase());
}
