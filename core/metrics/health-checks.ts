/**
 * Named health checks and their answers on /healthz, /livez and /readyz, the way kube-apiserver renders them
 * (k8s.io/apiserver/pkg/server/healthz): `ok` when every check passes, `?verbose` lists `[+]name ok`, any failure
 * answers 500 with the list and `[-]name failed: reason withheld`, `?exclude=name` skips a check, and
 * `/readyz/<name>` runs one. The same renderer serves the aggregated API server and the plain metrics port of
 * every component, so probes and operators read one format everywhere.
 *
 * Anyone may ask (probes carry no credentials), so the answer never says why a check fails: the reason goes to
 * the log. Go shows it on a per-check path; we withhold it there too, since nothing here is behind authorization.
 */

/** One check: undefined while healthy, else why not (for the log only). */
export interface HealthCheck {
  readonly name: string;
  readonly check: () => string | undefined;
}

export const healthEndpoints = ['healthz', 'livez', 'readyz'] as const;
export type HealthEndpoint = (typeof healthEndpoints)[number];

/** The checks of a process: liveness ones answer on all three paths, readiness ones on /readyz only. */
export class HealthChecks {
  private readonly liveness: HealthCheck[] = [{ name: 'ping', check: () => undefined }];
  private readonly readiness: HealthCheck[] = [];

  /** A check that, failing, means the process should be restarted (it is also part of readiness). */
  addLiveness(name: string, check: () => string | undefined): this {
    this.add(this.liveness, { name, check });
    return this;
  }

  /** A check that, failing, means the process should get no traffic yet (or any more). */
  addReadiness(name: string, check: () => string | undefined): this {
    this.add(this.readiness, { name, check });
    return this;
  }

  /** The checks one path runs, in the order they were added (liveness first). */
  checksFor(endpoint: HealthEndpoint): readonly HealthCheck[] {
    return endpoint === 'readyz' ? [...this.liveness, ...this.readiness] : this.liveness;
  }

  private add(list: HealthCheck[], check: HealthCheck): void {
    if (!/^[a-z0-9][a-z0-9-]*$/.test(check.name))
      throw new Error(`health check name "${check.name}" is not a path segment`);
    if ([...this.liveness, ...this.readiness].some((c) => c.name === check.name)) {
      throw new Error(`health check "${check.name}" is registered twice`);
    }
    list.push(check);
  }
}

export interface HealthAnswer {
  readonly status: 200 | 500;
  readonly body: string;
  /** The checks that failed and why: for the log, never for the answer. */
  readonly failed: readonly { readonly name: string; readonly reason: string }[];
}

/** Headers of every health answer (Go's, including on failure through http.Error). */
export const healthHeaders = {
  'Content-Type': 'text/plain; charset=utf-8',
  'X-Content-Type-Options': 'nosniff',
} as const;

/** The endpoint and check a path names (`/readyz`, `/readyz/ping`), or undefined for any other path. */
export function healthPath(path: string): { endpoint: HealthEndpoint; check?: string } | undefined {
  const [, first, second, ...rest] = path.split('/');
  const endpoint = healthEndpoints.find((e) => e === first);
  if (!endpoint || rest.length > 0) return undefined;
  return second === undefined || second === '' ? { endpoint } : { endpoint, check: second };
}

/**
 * The answer for a health path (trailing slashes removed), or undefined when the path names no endpoint or no
 * registered check (the caller answers 404 in its own format).
 */
export function renderHealth(path: string, query: URLSearchParams, checks: HealthChecks): HealthAnswer | undefined {
  const target = healthPath(path);
  if (!target) return undefined;
  const all = checks.checksFor(target.endpoint);
  if (target.check !== undefined) {
    const one = all.find((c) => c.name === target.check);
    if (!one) return undefined;
    const reason = one.check();
    return reason === undefined
      ? { status: 200, body: 'ok', failed: [] }
      : { status: 500, body: 'internal server error: reason withheld\n', failed: [{ name: one.name, reason }] };
  }
  const excluded = new Set(query.getAll('exclude'));
  const lines: string[] = [];
  const failed: { name: string; reason: string }[] = [];
  for (const c of all) {
    if (excluded.delete(c.name)) {
      lines.push(`[+]${c.name} excluded: ok`);
      continue;
    }
    const reason = c.check();
    if (reason === undefined) lines.push(`[+]${c.name} ok`);
    else {
      lines.push(`[-]${c.name} failed: reason withheld`);
      failed.push({ name: c.name, reason });
    }
  }
  if (excluded.size > 0) {
    const names = [...excluded].sort().map((n) => JSON.stringify(n));
    lines.push(`warn: some health checks cannot be excluded: no matches for ${names.join(',')}`);
  }
  if (failed.length > 0) {
    // Always verbose on failure, as Go's.
    return { status: 500, body: `${lines.join('\n')}\n${target.endpoint} check failed\n`, failed };
  }
  if (!query.has('verbose')) return { status: 200, body: 'ok', failed };
  return { status: 200, body: `${lines.join('\n')}\n${target.endpoint} check passed\n`, failed };
}
