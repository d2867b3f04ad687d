import { createHash } from 'node:crypto';
import type { KubeRestClient } from '../../core/kube/rest-client.js';
import type { RequestInfo } from '../request-info.js';
import { group, version } from '../resources.js';
import { TtlCache } from './ttl-cache.js';
import type { UserInfo } from './user-info.js';

export interface DelegationOptions {
  /** Each TokenReview and SubjectAccessReview, waiting included (Go: 10 s). */
  readonly timeoutMs?: number;
  /** How long an answer is kept, allowed and denied alike (Go: 10 s); errors are never kept. */
  readonly cacheTtlMs?: number;
  /** Reviews sent at once; more wait for a free one (the HTTP pool of the client should be as wide). */
  readonly concurrency?: number;
  /** Reviews waiting beyond which a new one fails at once, so that a flood of random tokens queues nothing. */
  readonly maxWaiting?: number;
}

/** A review that could not be made: never cached, never shown to the caller (the log has it). */
export class DelegationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DelegationError';
  }
}

/**
 * Delegated authentication and authorization against the local kube-apiserver (TokenReview,
 * SubjectAccessReview), each answer cached for 10 s as k8s.io/apiserver does; identical reviews in flight are
 * made once. Needs the server's own identity bound to system:auth-delegator.
 */
export class Delegation {
  private readonly tokens: TtlCache<UserInfo | null>;
  private readonly decisions: TtlCache<Decision>;
  private readonly inFlight = new Map<string, Promise<unknown>>();
  private readonly timeoutMs: number;
  private readonly concurrency: number;
  private readonly maxWaiting: number;
  private active = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(
    private readonly kube: Pick<KubeRestClient, 'request'>,
    o: DelegationOptions = {},
  ) {
    this.tokens = new TtlCache(o.cacheTtlMs ?? 10_000);
    this.decisions = new TtlCache(o.cacheTtlMs ?? 10_000);
    this.timeoutMs = o.timeoutMs ?? 10_000;
    this.concurrency = o.concurrency ?? 16;
    this.maxWaiting = o.maxWaiting ?? 256;
  }

  /** Makes a review once for concurrent callers with the same key, within the deadline and the concurrency. */
  private once<T>(key: string, make: () => Promise<T>): Promise<T> {
    const pending = this.inFlight.get(key) as Promise<T> | undefined;
    if (pending) return pending;
    const p = this.limited(make).finally(() => this.inFlight.delete(key));
    this.inFlight.set(key, p);
    return p;
  }

  private async limited<T>(make: () => Promise<T>): Promise<T> {
    const deadline = Date.now() + this.timeoutMs;
    if (this.active >= this.concurrency) {
      if (this.waiting.length >= this.maxWaiting) throw new DelegationError('too many reviews waiting');
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => {
          const i = this.waiting.indexOf(go);
          if (i >= 0) this.waiting.splice(i, 1);
          reject(new DelegationError(`no free connection in ${this.timeoutMs} ms`));
        }, this.timeoutMs);
        const go = () => {
          clearTimeout(timer);
          resolve();
        };
        this.waiting.push(go);
      });
    } else this.active++;
    let timer: NodeJS.Timeout | undefined;
    try {
      const left = Math.max(1, deadline - Date.now());
      return await Promise.race([
        make(),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new DelegationError(`no answer in ${this.timeoutMs} ms`)), left);
        }),
      ]);
    } finally {
      clearTimeout(timer);
      const next = this.waiting.shift();
      if (next) next();
      else this.active--;
    }
  }

  private async post<T>(path: string, body: unknown): Promise<T> {
    return (await this.kube.request<T>('POST', path, { body, timeoutMs: this.timeoutMs })).body;
  }

  /** The user a bearer token belongs to, undefined when kube-apiserver says it is not valid; throws when unknown. */
  async reviewToken(token: string): Promise<UserInfo | undefined> {
    // Cache by a hash: the token itself never sits in memory longer than the request.
    const key = createHash('sha256').update(token).digest('hex');
    const cached = this.tokens.get(key);
    if (cached !== undefined) return cached ?? undefined;
    return this.once(`token:${key}`, () => this.makeTokenReview(key, token));
  }

  private async makeTokenReview(key: string, token: string): Promise<UserInfo | undefined> {
    const res = await this.post<{
      status?: {
        authenticated?: boolean;
        user?: { username?: unknown; uid?: unknown; groups?: unknown; extra?: unknown };
      };
    }>('/apis/authentication.k8s.io/v1/tokenreviews', {
      apiVersion: 'authentication.k8s.io/v1',
      kind: 'TokenReview',
      spec: { token },
    });
    const u = res.status?.user;
    const user: UserInfo | null =
      res.status?.authenticated === true && typeof u?.username === 'string' && u.username !== ''
        ? {
            username: u.username,
            ...(typeof u.uid === 'string' && u.uid !== '' ? { uid: u.uid } : {}),
            groups: strings(u.groups),
            extra: stringLists(u.extra),
          }
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
    // Cache by a digest: the spec holds the caller's path, groups and extras (up to the header limit each), and
    // 10,000 such keys would be hundreds of MB that any authenticated caller can fill with distinct paths.
    const key = createHash('sha256').update(JSON.stringify(spec)).digest('hex');
    const cached = this.decisions.get(key);
    if (cached) return cached;
    return this.once(`sar:${key}`, () => this.makeSubjectAccessReview(key, spec));
  }

  private async makeSubjectAccessReview(key: string, spec: object): Promise<Decision> {
    const res = await this.post<{
      status?: { allowed?: boolean; denied?: boolean; reason?: string; evaluationError?: string };
    }>('/apis/authorization.k8s.io/v1/subjectaccessreviews', {
      apiVersion: 'authorization.k8s.io/v1',
      kind: 'SubjectAccessReview',
      spec,
    });
    const status = res.status ?? {};
    const decision: Decision = {
      allowed: status.allowed === true && status.denied !== true,
      reason: typeof status.reason === 'string' ? status.reason : '',
    };
    this.decisions.set(key, decision);
    return decision;
  }
}

function strings(v: unknown): string[] {
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
}

function stringLists(v: unknown): Record<string, string[]> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return {};
  return Object.fromEntries(Object.entries(v).map(([k, list]) => [k, strings(list)]));
}

export interface Decision {
  readonly allowed: boolean;
  readonly reason: string;
}

/** Paths every caller may read (AUTHZ-04): probes must not depend on RBAC or on kube-apiserver. */
export const alwaysAllowPaths: ReadonlySet<string> = new Set(['/healthz', '/livez', '/readyz']);
