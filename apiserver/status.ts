/** Kubernetes Status errors, worded as k8s.io/apimachinery words them: clients key behaviour off `reason`. */

export type StatusReason =
  | 'NotFound'
  | 'Forbidden'
  | 'Unauthorized'
  | 'MethodNotAllowed'
  | 'BadRequest'
  | 'Invalid'
  | 'Expired'
  | 'NotAcceptable'
  | 'Timeout'
  | 'InternalError'
  | 'ServiceUnavailable'
  | 'TooManyRequests';

export interface StatusCause {
  readonly reason?: string;
  readonly message: string;
  readonly field?: string;
}

export interface StatusBody {
  readonly kind: 'Status';
  readonly apiVersion: 'v1';
  /** ListMeta: only a 410 for an expired continue token carries a token (to continue inconsistently). */
  readonly metadata: { readonly continue?: string };
  readonly status: 'Failure';
  readonly message: string;
  readonly reason: StatusReason;
  readonly details?: {
    readonly name?: string;
    readonly group?: string;
    readonly kind?: string;
    readonly causes?: readonly StatusCause[];
    readonly retryAfterSeconds?: number;
  };
  readonly code: number;
}

/** A Status error a handler throws; the server writes it as the response. */
export class StatusError extends Error {
  constructor(readonly body: StatusBody) {
    super(body.message);
    this.name = 'StatusError';
  }
  get code(): number {
    return this.body.code;
  }
}

function status(code: number, reason: StatusReason, message: string, details?: StatusBody['details']): StatusError {
  return new StatusError({
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message,
    reason,
    ...(details ? { details } : {}),
    code,
  });
}

/** `<resource>.<group> "<name>" not found` */
export function notFound(group: string, resource: string, name: string): StatusError {
  return status(404, 'NotFound', `${resource}.${group} "${name}" not found`, { name, group, kind: resource });
}

export function pathNotFound(): StatusError {
  return status(404, 'NotFound', 'the server could not find the requested resource');
}

export function unauthorized(): StatusError {
  return status(401, 'Unauthorized', 'Unauthorized');
}

export interface ForbiddenTarget {
  readonly user: string;
  readonly verb: string;
  readonly group?: string;
  readonly resource?: string;
  readonly name?: string;
  readonly namespace?: string;
  readonly path?: string;
  readonly reason?: string;
}

function escapeHtml(s: string): string {
  return s.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');
}

/** The 403 of delegated authorization, in the Go server's words (AUTHZ-05). */
export function forbidden(t: ForbiddenTarget): StatusError {
  const why = t.reason ? `: ${t.reason}` : '';
  if (t.resource === undefined) {
    const message = `forbidden: User "${t.user}" cannot ${t.verb} path "${t.path ?? ''}"${why}`;
    return status(403, 'Forbidden', escapeHtml(message), {});
  }
  const qualified = t.group ? `${t.resource}.${t.group}` : t.resource;
  const subject = t.name ? `${qualified} "${t.name}"` : qualified;
  const scope = t.namespace ? `in the namespace "${t.namespace}"` : 'at the cluster scope';
  const message = `${subject} is forbidden: User "${t.user}" cannot ${t.verb} resource "${t.resource}" in API group "${t.group ?? ''}" ${scope}${why}`;
  return status(403, 'Forbidden', escapeHtml(message), {
    ...(t.name ? { name: t.name } : {}),
    group: t.group ?? '',
    kind: t.resource,
  });
}

/** Writes on read-only resources (the Go server's answer for a verb it does not serve). */
export function methodNotAllowed(verb: string, resource: string, group: string): StatusError {
  return status(405, 'MethodNotAllowed', `${verb} is not supported on resources of kind "${resource}.${group}"`);
}

export function badRequest(message: string): StatusError {
  return status(400, 'BadRequest', message);
}

export function invalid(kind: string, causes: readonly StatusCause[]): StatusError {
  const message = `${kind} "" is invalid: ${causes.map((c) => (c.field ? `${c.field}: ${c.message}` : c.message)).join(', ')}`;
  return status(422, 'Invalid', message, { kind, causes });
}

export function expired(message: string): StatusError {
  return status(410, 'Expired', message);
}

/** 410 for a continue token whose snapshot is gone, with a token that continues at the latest state. */
export function expiredWithContinue(message: string, continueToken: string): StatusError {
  return new StatusError({ ...expired(message).body, metadata: { continue: continueToken } });
}

export function notAcceptable(accepted: readonly string[]): StatusError {
  return status(406, 'NotAcceptable', `only the following media types are accepted: ${accepted.join(', ')}`);
}

export function timeout(message: string, retryAfterSeconds: number): StatusError {
  return status(504, 'Timeout', message, { retryAfterSeconds });
}

/** 429 with Retry-After (from details.retryAfterSeconds), as Go's max-in-flight filter answers. */
export function tooManyRequests(message: string, retryAfterSeconds: number): StatusError {
  return status(429, 'TooManyRequests', message, { retryAfterSeconds });
}

export function internalError(message: string): StatusError {
  return status(500, 'InternalError', `Internal error occurred: ${message}`);
}
