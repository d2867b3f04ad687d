import type { X509Certificate } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { subjectOf, unknownAuthority, verifyClientCert } from './client-cert.js';
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

/**
 * Request headers one value per header line, as `req.headersDistinct` gives them (names lower-case). A value is
 * never split on commas: a group such as `CN=x\,y,OU=z` or `team-a,system:masters` is one group, as in Go.
 */
export type RequestHeaders = Readonly<Record<string, readonly string[] | undefined>>;

/** The first non-empty value among the named headers (the first configured header wins; Go's Header.Get). */
function firstHeader(headers: RequestHeaders, names: readonly string[]): string | undefined {
  for (const h of names) {
    const first = headers[h.toLowerCase()]?.[0];
    if (first) return first;
  }
  return undefined;
}

function hasPrefixIgnoreCase(name: string, prefix: string): boolean {
  return name.toLowerCase().startsWith(prefix.toLowerCase());
}

/** The identity the front proxy asserts in its headers (AUTHN-03 step 4). */
export function userFromHeaders(headers: RequestHeaders, cfg: RequestHeaderConfig): UserInfo | undefined {
  const username = firstHeader(headers, cfg.usernameHeaders);
  if (!username) return undefined;
  const uid = firstHeader(headers, cfg.uidHeaders);
  // Every header line of every group header is one group; empty lines are dropped.
  const groups = cfg.groupHeaders.flatMap((h) => (headers[h.toLowerCase()] ?? []).filter((v) => v !== ''));
  // Keys are the sender's text: in a Map, `__proto__` or `constructor` are keys like any other, not Object's own.
  const extra = new Map<string, string[]>();
  for (const prefix of cfg.extraHeaderPrefixes) {
    for (const [name, values] of Object.entries(headers)) {
      if (!values || !hasPrefixIgnoreCase(name, prefix)) continue;
      let key = name.slice(prefix.length).toLowerCase();
      try {
        key = decodeURIComponent(key);
      } catch {
        // Go records a malformed key as sent
      }
      extra.set(key, [...(extra.get(key) ?? []), ...values]);
    }
  }
  return { username, ...(uid ? { uid } : {}), groups, extra: Object.fromEntries(extra) };
}

/**
 * The union of authenticators in Go's order (AUTHN-07): front proxy → x509 client certificate → bearer token →
 * anonymous. Credentials that are presented and fail give 'failed' (401), never anonymous.
 */
export async function authenticate(
  peerCert: X509Certificate | undefined,
  headers: RequestHeaders,
  cfg: AuthenticationConfig,
  reviewToken: TokenReviewer,
): Promise<AuthnResult> {
  if (peerCert) {
    const rh = cfg.requestHeader;
    const proxyCheck = rh ? verifyClientCert(peerCert, rh.clientCAs) : undefined;
    if (rh && proxyCheck?.ok) {
      const { commonName } = subjectOf(peerCert);
      if (rh.allowedNames.length > 0 && !rh.allowedNames.includes(commonName)) {
        return { outcome: 'failed', why: `front-proxy certificate CN "${commonName}" is not in the allowed names` };
      }
      const user = userFromHeaders(headers, rh);
      if (!user) return { outcome: 'failed', why: 'front-proxy request without a user header' };
      return { outcome: 'authenticated', user: withAuthenticatedGroup(user), method: 'front-proxy' };
    }
    const direct = verifyClientCert(peerCert, cfg.clientCAs);
    if (!direct.ok) {
      // Say why the CA that did sign it refused it (expired, wrong usage) rather than that the other one did not.
      const why = proxyCheck && !proxyCheck.ok && proxyCheck.why !== unknownAuthority ? proxyCheck.why : direct.why;
      return { outcome: 'failed', why: `client certificate: ${why}` };
    }
    const { commonName, organizations } = subjectOf(peerCert);
    // Go's CommonNameUserConversion: a certificate without a CN names nobody; the other methods still apply.
    if (commonName !== '') {
      return {
        outcome: 'authenticated',
        user: withAuthenticatedGroup({ username: commonName, groups: organizations, extra: {} }),
        method: 'x509',
      };
    }
  }
  const auth = headers.authorization?.[0];
  if (auth !== undefined) {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(auth);
    if (!m?.[1]) return { outcome: 'failed', why: 'malformed Authorization header' };
    let user: UserInfo | undefined;
    try {
      user = await reviewToken(m[1]);
    } catch (err) {
      // Go answers 401 when the token cannot be checked; what went wrong is for the log only.
      return { outcome: 'failed', why: `TokenReview failed: ${err instanceof Error ? err.message : String(err)}` };
    }
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
    // As Go's json.Unmarshal into []string: anything else is an error, never an empty (allow-all) list.
    if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) {
      throw new Error(`${key} must be a JSON list of strings`);
    }
    return v;
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

/** Removes the headers that carry identity once read, so they are never passed on (AUTHN-03 step 5, SEC-03). */
export function clearIdentityHeaders(headers: IncomingHttpHeaders, cfg: RequestHeaderConfig | undefined): void {
  delete headers.authorization;
  if (!cfg) return;
  for (const h of [...cfg.usernameHeaders, ...cfg.uidHeaders, ...cfg.groupHeaders]) delete headers[h.toLowerCase()];
  for (const name of Object.keys(headers)) {
    if (cfg.extraHeaderPrefixes.some((p) => hasPrefixIgnoreCase(name, p))) delete headers[name];
  }
}
