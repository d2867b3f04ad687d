import { createHash } from 'node:crypto';
import type { KubeRestClient } from '../../core/kube/rest-client.js';
import type { RequestInfo } from '../request-info.js';
import { group, version } from '../resources.js';
import { TtlCache } from './ttl-cache.js';
import type { UserInfo } from './user-info.js';

/**
 * Delegated authentication and authorization against the local kube-apiserver (TokenReview,
 * SubjectAccessReview), each answer cached for 10 s as k8s.io/apiserver does. Needs the server's own identity
 * bound to system:auth-delegator.
 */
export class Delegation {
  private readonly tokens = new TtlCache<UserInfo | null>(10_000);
  private readonly decisions = new TtlCache<Decision>(10_000);

  constructor(private readonly kube: KubeRestClient) {}

  async reviewToken(token: string): Promise<UserInfo | undefined> {
    // Cache by a hash: the token itself never sits in memory longer than the request.
    const key = createHash('sha256').update(token).digest('hex');
    const cached = this.tokens.get(key);
    if (cached !== undefined) return cached ?? undefined;
    const res = await this.kube.create<{
      status: {
        authenticated?: boolean;
        user?: { username?: string; uid?: string; groups?: string[]; extra?: Record<string, string[]> };
      };
    }>('/apis/authentication.k8s.io/v1/tokenreviews', {
      apiVersion: 'authentication.k8s.io/v1',
      kind: 'TokenReview',
      spec: { token },
    });
    const u = res.status.user;
    const user: UserInfo | null =
      res.status.authenticated && u?.username
        ? { username: u.username, ...(u.uid ? { uid: u.uid } : {}), groups: u.groups ?? [], extra: u.extra ?? {} }
        : null;
    this.tokens.set(key, user);
    return user ?? undefined;
  }

  async authorize(user: UserInfo, info: RequestInfo): Promise<Decision> {
    const spec = {
      user: user.username,
      ...(user.uid ? { uid: user.uid } : {}),
      groups: user.groups,
      extra: user.extra,
      ...(info.kind === 'resource'
        ? {
            resourceAttributes: {
              verb: info.verb,
              group,
              version,
              resource: info.resource,
              ...(info.namespace ? { namespace: info.namespace } : {}),
              ...(info.name ? { name: info.name } : {}),
            },
          }
        : { nonResourceAttributes: { path: info.path, verb: info.verb } }),
    };
    const key = JSON.stringify(spec);
    const cached = this.decisions.get(key);
    if (cached) return cached;
    const res = await this.kube.create<{
      status: { allowed?: boolean; denied?: boolean; reason?: string; evaluationError?: string };
    }>('/apis/authorization.k8s.io/v1/subjectaccessreviews', {
      apiVersion: 'authorization.k8s.io/v1',
      kind: 'SubjectAccessReview',
      spec,
    });
    const decision: Decision = {
      allowed: res.status.allowed === true && res.status.denied !== true,
      reason: res.status.reason ?? '',
    };
    this.decisions.set(key, decision);
    return decision;
  }
}

export interface Decision {
  readonly allowed: boolean;
  readonly reason: string;
}

/** Paths every caller may read (AUTHZ-04): probes must not depend on RBAC or on kube-apiserver. */
export const alwaysAllowPaths: ReadonlySet<string> = new Set(['/healthz', '/livez', '/readyz']);
