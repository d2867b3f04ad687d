import { ListLimitError, ShortWatchError, WatchErrorEvent } from '../core/kube/resilient-informer.js';
import { KubeApiError, ResponseTooLargeError, WatchStreamError } from '../core/kube/rest-client.js';

/** Why talking to a cluster failed, as an RCC condition reason. */
export type FailureReason =
  | 'Unreachable'
  | 'TLSError'
  | 'Unauthorized'
  | 'Forbidden'
  | 'TooManyRequests'
  | 'ServerError'
  | 'BadResponse'
  | 'Error';

export interface ClassifiedFailure {
  readonly reason: FailureReason;
  readonly message: string;
}

/** The request that failed: which verb on which resource (group '' is the core group). */
export interface FailedRequest {
  readonly verb: 'list' | 'watch' | 'get';
  readonly resource: string;
  readonly group: string;
}

const unreachableCodes = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EPIPE',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
]);

const tlsCodes = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_SIGNATURE_FAILURE',
  'CERT_UNTRUSTED',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

function errorCode(err: unknown): string | undefined {
  for (let e: unknown = err, depth = 0; e && depth < 5; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

function resourceName(r: FailedRequest): string {
  return r.group ? `${r.resource}.${r.group}` : r.resource;
}

/** Turns an error of a request to a cluster into a reason and a message that says what to fix. */
export function classifyFailure(req: FailedRequest, err: unknown): ClassifiedFailure {
  if (err instanceof KubeApiError) {
    const server = err.status.message ? `: ${err.status.message}` : '';
    if (err.statusCode === 401) {
      return {
        reason: 'Unauthorized',
        message: `the API server rejected the credentials (401 Unauthorized) on ${req.verb} ${resourceName(req)}: check the token or client certificate in the kubeconfig`,
      };
    }
    if (err.statusCode === 403) {
      return {
        reason: 'Forbidden',
        message: `missing permission: ${req.verb} ${resourceName(req)} (apiGroup "${req.group}") at cluster scope${server}`,
      };
    }
    if (err.statusCode === 429) {
      const wait = err.retryAfterSeconds === undefined ? '' : ` (Retry-After ${err.retryAfterSeconds}s)`;
      return {
        reason: 'TooManyRequests',
        message: `the API server is overloaded: ${req.verb} ${resourceName(req)} got 429 Too Many Requests${wait}; retrying with backoff`,
      };
    }
    return {
      reason: 'ServerError',
      message: `${req.verb} ${resourceName(req)} failed with HTTP ${err.statusCode}${err.status.reason ? ` ${err.status.reason}` : ''}${server}`,
    };
  }
  if (err instanceof WatchStreamError) {
    return {
      reason: 'BadResponse',
      message: `${req.verb} ${resourceName(req)}: ${err.message.replace(/^watch [^:]*: /, '')}`,
    };
  }
  if (err instanceof ListLimitError) {
    return {
      reason: 'BadResponse',
      message: `${req.verb} ${resourceName(req)}: ${err.message.replace(/^list [^:]*: /, '')}`,
    };
  }
  if (err instanceof ResponseTooLargeError) {
    return {
      reason: 'BadResponse',
      message: `${req.verb} ${resourceName(req)}: the answer was larger than ${err.limit} characters and was cancelled (no API server sends pages that large: check what answers at this address)`,
    };
  }
  if (err instanceof WatchErrorEvent) {
    return {
      reason: 'ServerError',
      message: `${req.verb} ${resourceName(req)}: ${err.message.replace(/^watch [^:]*: /, '')}`,
    };
  }
  if (err instanceof ShortWatchError) {
    return {
      reason: 'ServerError',
      message: `${req.verb} ${resourceName(req)}: the API server closed the watch within a second of opening it`,
    };
  }
  const code = errorCode(err);
  const text = err instanceof Error ? err.message : String(err);
  if (code && (tlsCodes.has(code) || code.startsWith('ERR_SSL_') || code.startsWith('ERR_TLS_'))) {
    return { reason: 'TLSError', message: `TLS handshake failed (${code}): ${text}` };
  }
  if ((code && unreachableCodes.has(code)) || /no answer in|silent for|socket hang up|aborted/i.test(text)) {
    return { reason: 'Unreachable', message: `cannot reach the API server${code ? ` (${code})` : ''}: ${text}` };
  }
  return { reason: 'Error', message: `${req.verb} ${resourceName(req)} failed: ${text}` };
}

const statusReasons: Readonly<Record<number, string>> = {
  400: 'BadRequest',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'NotFound',
  410: 'Expired',
  429: 'TooManyRequests',
  500: 'InternalError',
  503: 'ServiceUnavailable',
  504: 'Timeout',
};

/**
 * A short, bounded label for why a list or watch restarted (the `reason` of
 * fedmesh_remote_watch_restarts_total): the HTTP status by name, or the kind of failure.
 */
export function restartReason(err: unknown): string {
  if (err instanceof KubeApiError) return statusReasons[err.statusCode] ?? `HTTP${Math.trunc(err.statusCode)}`;
  if (err instanceof WatchStreamError) return err.reason;
  if (err instanceof ResponseTooLargeError) return 'ResponseTooLarge';
  if (err instanceof ListLimitError) return 'ListLimit';
  if (err instanceof ShortWatchError) return 'ShortWatch';
  if (err instanceof WatchErrorEvent)
    return err.code === undefined ? 'ErrorEvent' : (statusReasons[err.code] ?? 'ErrorEvent');
  const c = classifyFailure({ verb: 'watch', resource: '', group: '' }, err);
  return c.reason;
}
