import type { IncomingHttpHeaders } from 'node:http';
import { constants as h2 } from 'node:http2';
import { Agent, request } from 'node:https';
import { KubeConfig } from '@kubernetes/client-node';
import { H2Session } from './h2-session.js';
import { BearerTokenFile, tokenFileOf } from './service-account-token.js';
import { parseWatchLine } from './watch-event.js';

/** What a Kubernetes Status body says about a failed request. */
export interface KubeStatus {
  readonly kind?: string;
  readonly status?: string;
  readonly message?: string;
  readonly reason?: string;
  readonly code?: number;
}

/** One event of a watch stream. */
export interface WatchEvent {
  readonly type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';
  readonly object: Record<string, unknown> & { metadata?: { resourceVersion?: string } };
}

/** A non-2xx answer from a kube-apiserver, with its Status reason (NotFound, AlreadyExists, Forbidden, …). */
export class KubeApiError extends Error {
  constructor(
    readonly method: string,
    readonly path: string,
    readonly statusCode: number,
    readonly status: KubeStatus,
    /** The server's `Retry-After` (seconds), sent with 429 and some 5xx answers. */
    readonly retryAfterSeconds?: number,
  ) {
    super(`${method} ${path}: ${statusCode} ${status.reason ?? ''} ${status.message ?? ''}`.trim());
    this.name = 'KubeApiError';
  }
}

/**
 * A watch stream that carried something other than watch events (a line that is not JSON, or JSON that is not
 * `{type, object}`), or whose consumer failed on an event: the watch is over, the informer backs off and relists.
 */
export class WatchStreamError extends Error {
  constructor(
    readonly path: string,
    readonly reason: 'BadWatchLine' | 'HandlerFailed',
    detail: string,
    options?: { cause: unknown },
  ) {
    super(`watch ${path.split('?')[0]}: ${detail}`, options);
    this.name = 'WatchStreamError';
  }
}

/**
 * An answer larger than the client takes (RequestOptions.maxResponseChars): the request is cancelled as soon as
 * the limit is passed, rather than a hostile or broken server filling this process's memory.
 */
export class ResponseTooLargeError extends Error {
  constructor(
    readonly method: string,
    readonly path: string,
    readonly limit: number,
  ) {
    super(`${method} ${path.split('?')[0]}: the answer is larger than ${limit} characters; cancelled`);
    this.name = 'ResponseTooLargeError';
  }
}

/**
 * The largest answer a request takes by default, in decoded characters: a page of 500 objects of the API
 * server's largest size (about 1.5 MiB each, etcd's request limit) would not fit, but real pages are a tiny
 * fraction of it, and V8 cannot hold a string of more than 512 Mi characters at all.
 */
export const DEFAULT_MAX_RESPONSE_CHARS = 128 * 1024 * 1024;

/**
 * The longest line a watch takes, in decoded characters: one event holds one object, and the API server stores
 * none larger than about 1.5 MiB.
 */
export const MAX_WATCH_LINE_CHARS = 16 * 1024 * 1024;

/** Where a bearer token comes from when it can change (a projected ServiceAccount token). */
export interface TokenSource {
  token(): string;
  /** A request started at `startedAt` got 401: read the token again if it is older than that. */
  invalidate(startedAt: number): void;
}

export interface RequestOptions {
  readonly body?: unknown;
  readonly contentType?: string;
  readonly accept?: string;
  readonly timeoutMs?: number;
  /** Past this many decoded characters the answer is refused (ResponseTooLargeError); default DEFAULT_MAX_RESPONSE_CHARS. */
  readonly maxResponseChars?: number;
  /** Cancels the request (it rejects with the signal's reason). */
  readonly signal?: AbortSignal;
}

export interface KubeResponse<T> {
  readonly statusCode: number;
  readonly body: T;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
}

/**
 * A small HTTPS client for one kube-apiserver: keep-alive sockets, JSON in and out, Status errors as
 * KubeApiError. client-node's typed clients are the default elsewhere; this one exists for bulk work
 * (seeding thousands of objects) and for tests that need raw requests and headers.
 */
export interface TransportOptions {
  /** One HTTP/2 connection for every request and watch (see h2-session.ts) instead of HTTP/1.1 sockets. */
  readonly http2?: boolean;
}

export class KubeRestClient {
  private readonly agent: Agent;
  private readonly h2: H2Session | undefined;

  private constructor(
    readonly server: URL,
    private readonly tls: { ca?: string | Buffer; cert?: string | Buffer; key?: string | Buffer },
    private readonly staticHeaders: Record<string, string>,
    maxSockets: number,
    transport: TransportOptions = {},
    private readonly tokenSource?: TokenSource,
  ) {
    this.agent = new Agent({ keepAlive: true, maxSockets, ...tls });
    this.h2 = transport.http2 ? new H2Session(server.origin, tls) : undefined;
  }

  /** The headers of a request now: the token of a token file is read as it is then. */
  private get headers(): Record<string, string> {
    if (!this.tokenSource) return this.staticHeaders;
    return { ...this.staticHeaders, Authorization: `Bearer ${this.tokenSource.token()}` };
  }

  /** A 401 may mean the token file was rotated since the request started (client-go re-reads it then too). */
  private noteStatus(statusCode: number, startedAt: number): void {
    if (statusCode === 401) this.tokenSource?.invalidate(startedAt);
  }

  /** Builds a client from a kubeconfig file (its current context). */
  static async fromKubeconfigFile(path: string, maxSockets = 32): Promise<KubeRestClient> {
    const kc = new KubeConfig();
    kc.loadFromFile(path);
    return KubeRestClient.fromKubeConfig(kc, maxSockets);
  }

  static async fromKubeConfig(
    kc: KubeConfig,
    maxSockets = 32,
    transport: TransportOptions = {},
  ): Promise<KubeRestClient> {
    const cluster = kc.getCurrentCluster();
    if (!cluster) throw new Error('kubeconfig has no current cluster');
    const opts: import('node:https').RequestOptions = {};
    await kc.applyToHTTPSOptions(opts);
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(opts.headers ?? {})) if (typeof v === 'string') headers[k] = v;
    const tls: { ca?: string | Buffer; cert?: string | Buffer; key?: string | Buffer } = {};
    if (opts.ca) tls.ca = opts.ca as string | Buffer;
    if (opts.cert) tls.cert = opts.cert as string | Buffer;
    if (opts.key) tls.key = opts.key as string | Buffer;
    // In a pod the token is a file the kubelet rotates (bound tokens expire): read it as it is, not once.
    const tokenFile = tokenFileOf(kc);
    const source = tokenFile ? new BearerTokenFile(tokenFile) : undefined;
    if (source) delete headers.Authorization;
    return new KubeRestClient(new URL(cluster.server), tls, headers, maxSockets, transport, source);
  }

  /** The same server with other credentials (a client certificate or a bearer token). */
  withCredentials(creds: { cert?: string; key?: string; token?: string }): KubeRestClient {
    const tls = { ...this.tls };
    delete tls.cert;
    delete tls.key;
    if (creds.cert) tls.cert = creds.cert;
    if (creds.key) tls.key = creds.key;
    const headers: Record<string, string> = {};
    if (creds.token) headers.Authorization = `Bearer ${creds.token}`;
    return new KubeRestClient(this.server, tls, headers, 4);
  }

  async request<T = unknown>(method: string, path: string, opts: RequestOptions = {}): Promise<KubeResponse<T>> {
    const payload = opts.body === undefined ? undefined : Buffer.from(JSON.stringify(opts.body));
    const startedAt = Date.now();
    const noted = (statusCode: number) => this.noteStatus(statusCode, startedAt);
    if (this.h2) return this.requestH2<T>(this.h2, method, path, opts, payload, noted);
    return new Promise((resolve, reject) => {
      const req = request(
        {
          agent: this.agent,
          host: this.server.hostname,
          port: this.server.port,
          method,
          path,
          headers: {
            ...this.headers,
            Accept: opts.accept ?? 'application/json',
            ...(payload
              ? { 'Content-Type': opts.contentType ?? 'application/json', 'Content-Length': payload.length }
              : {}),
          },
          timeout: opts.timeoutMs ?? 30_000,
          ...(opts.signal ? { signal: opts.signal } : {}),
        },
        (res) => {
          noted(res.statusCode ?? 0);
          // Decoded chunk by chunk: each network buffer is released at once, instead of all of a multi-megabyte
          // list being held natively and then copied whole (which leaves the malloc heap fragmented and large).
          res.setEncoding('utf8');
          const answer = new AnswerText(method, path, opts);
          res.on('data', (c: string) => {
            const tooLarge = answer.add(c);
            if (tooLarge) {
              reject(tooLarge);
              req.destroy();
            }
          });
          res.on('end', () => settle(method, path, res.statusCode ?? 0, res.headers, answer.text, resolve, reject));
          res.on('error', reject);
        },
      );
      req.on('timeout', () => req.destroy(new Error(`${method} ${path}: no answer in ${opts.timeoutMs ?? 30_000} ms`)));
      req.on('error', reject);
      req.end(payload);
    });
  }

  async get<T = unknown>(path: string, opts: RequestOptions = {}): Promise<T> {
    return (await this.request<T>('GET', path, opts)).body;
  }

  async create<T = unknown>(path: string, body: unknown): Promise<T> {
    return (await this.request<T>('POST', path, { body })).body;
  }

  async mergePatch<T = unknown>(path: string, body: unknown): Promise<T> {
    return (await this.request<T>('PATCH', path, { body, contentType: 'application/merge-patch+json' })).body;
  }

  async delete<T = unknown>(path: string, body?: unknown): Promise<T> {
    return (await this.request<T>('DELETE', path, body === undefined ? {} : { body })).body;
  }

  /**
   * Streams a watch (`path` must carry `watch=1`): calls `onEvent` per event until the server ends the stream
   * or `signal` aborts, and `onOpen` once the server has accepted it (a 2xx answer). Every other answer rejects
   * with KubeApiError (with its Retry-After), never as a normal end; so does a line that is not a watch event
   * and a throwing `onEvent` (WatchStreamError). An ERROR event is delivered as is.
   */
  watch(path: string, onEvent: (ev: WatchEvent) => void, signal?: AbortSignal, onOpen?: () => void): Promise<void> {
    const startedAt = Date.now();
    return new Promise((resolve, reject) => {
      if (signal?.aborted) return resolve();
      let done = false;
      const finish = (err?: unknown) => {
        if (done) return;
        done = true;
        if (err === undefined || signal?.aborted) resolve();
        else reject(err);
      };
      const answer = new WatchAnswer(path, onEvent, (err) => {
        finish(err);
        cancel();
      });
      let cancel = () => {};
      const onStatus = (statusCode: number, headers: IncomingHttpHeaders) => {
        this.noteStatus(statusCode, startedAt);
        answer.status(statusCode, headers);
        if (answer.accepted) onOpen?.();
      };
      if (this.h2) {
        const stream = this.h2.request(
          { ...lowerCase(this.headers), ':method': 'GET', ':path': path, accept: 'application/json' },
          signal ? { endStream: true, signal } : { endStream: true },
        );
        cancel = () => stream.close(h2.NGHTTP2_CANCEL);
        stream.setEncoding('utf8');
        stream.on('response', (h) => onStatus(Number(h[':status'] ?? 0), h));
        stream.on('data', (c: string) => answer.data(c));
        stream.on('end', () => finish(answer.end()));
        // Closed without 'end': reset, or its connection cut. That is not the server ending the watch.
        stream.on('close', () => finish(answer.accepted ? connectionLost(path) : answer.end()));
        stream.on('error', (err) => finish(streamFailure(err)));
        return;
      }
      const req = request(
        {
          agent: this.agent,
          host: this.server.hostname,
          port: this.server.port,
          method: 'GET',
          path,
          headers: { ...this.headers, Accept: 'application/json' },
          signal,
        },
        (res) => {
          onStatus(res.statusCode ?? 0, res.headers);
          res.setEncoding('utf8');
          res.on('data', (c: string) => answer.data(c));
          res.on('end', () => finish(answer.end()));
          res.on('close', () => finish(res.complete ? answer.end() : connectionLost(path)));
          res.on('error', (err) => finish(err));
        },
      );
      cancel = () => req.destroy();
      req.on('error', (err) => finish(err));
      req.end();
    });
  }

  /** Drops open connections (a liveness probe failed): the next request connects anew. */
  resetConnections(): void {
    this.h2?.reset();
  }

  close(): void {
    this.agent.destroy();
    this.h2?.close();
  }

  private requestH2<T>(
    session: H2Session,
    method: string,
    path: string,
    opts: RequestOptions,
    payload: Buffer | undefined,
    noted: (statusCode: number) => void,
  ): Promise<KubeResponse<T>> {
    return new Promise((resolve, reject) => {
      const timeoutMs = opts.timeoutMs ?? 30_000;
      const stream = session.request(
        {
          ...lowerCase(this.headers),
          ':method': method,
          ':path': path,
          accept: opts.accept ?? 'application/json',
          ...(payload
            ? { 'content-type': opts.contentType ?? 'application/json', 'content-length': payload.length }
            : {}),
        },
        { endStream: payload === undefined, ...(opts.signal ? { signal: opts.signal } : {}) },
      );
      stream.setTimeout(timeoutMs, () => {
        stream.close(h2.NGHTTP2_CANCEL);
        reject(new Error(`${method} ${path}: no answer in ${timeoutMs} ms`));
      });
      let headers: IncomingHttpHeaders = {};
      let statusCode = 0;
      stream.on('response', (h) => {
        headers = h;
        statusCode = Number(h[':status'] ?? 0);
        noted(statusCode);
      });
      stream.setEncoding('utf8');
      const answer = new AnswerText(method, path, opts);
      stream.on('data', (c: string) => {
        const tooLarge = answer.add(c);
        if (tooLarge) {
          reject(tooLarge);
          stream.close(h2.NGHTTP2_CANCEL);
        }
      });
      stream.on('end', () => settle(method, path, statusCode, headers, answer.text, resolve, reject));
      stream.on('error', (err) => reject(streamFailure(err)));
      if (payload) stream.end(payload);
    });
  }
}

/** An answer's decoded text as it arrives, up to the request's limit. */
class AnswerText {
  text = '';
  private readonly limit: number;

  constructor(
    private readonly method: string,
    private readonly path: string,
    opts: RequestOptions,
  ) {
    this.limit = opts.maxResponseChars ?? DEFAULT_MAX_RESPONSE_CHARS;
  }

  /** Appends a chunk; returns the error to fail with when it would pass the limit (the chunk is then dropped). */
  add(chunk: string): ResponseTooLargeError | undefined {
    if (this.text.length + chunk.length > this.limit)
      return new ResponseTooLargeError(this.method, this.path, this.limit);
    this.text += chunk;
    return undefined;
  }
}

/** A watch whose stream or connection went away before the server ended it. */
function connectionLost(path: string): Error {
  return Object.assign(new Error(`watch ${path.split('?')[0]}: the connection was lost`), { code: 'ECONNRESET' });
}

/** At most this much of a refused watch's body is kept (it is a Status, a few hundred bytes). */
const maxErrorBody = 64 * 1024;

/**
 * One watch answer as it arrives: its status, then either events (2xx) or the body of the refusal. `end()` says
 * how the watch ended: undefined for a normal end of an accepted watch, the error otherwise.
 */
class WatchAnswer {
  private statusCode = 0;
  private headers: IncomingHttpHeaders = {};
  private errorBody = '';
  private readonly lines: (chunk: string) => void;
  private failure: unknown;

  constructor(
    private readonly path: string,
    onEvent: (ev: WatchEvent) => void,
    private readonly fail: (err: unknown) => void,
  ) {
    this.lines = lineSplitter(
      MAX_WATCH_LINE_CHARS,
      () =>
        this.stop(new WatchStreamError(path, 'BadWatchLine', `a line longer than ${MAX_WATCH_LINE_CHARS} characters`)),
      (line) => {
        if (this.failure !== undefined) return;
        const parsed = parseWatchLine(line);
        if ('problem' in parsed) {
          this.stop(new WatchStreamError(path, 'BadWatchLine', parsed.problem));
          return;
        }
        try {
          onEvent(parsed.event);
        } catch (err) {
          const detail = err instanceof Error ? err.message : String(err);
          this.stop(
            new WatchStreamError(path, 'HandlerFailed', `handling a ${parsed.event.type} event failed: ${detail}`, {
              cause: err,
            }),
          );
        }
      },
    );
  }

  get accepted(): boolean {
    return this.statusCode >= 200 && this.statusCode < 300;
  }

  status(statusCode: number, headers: IncomingHttpHeaders): void {
    this.statusCode = statusCode;
    this.headers = headers;
  }

  data(chunk: string): void {
    if (this.failure !== undefined) return;
    if (this.accepted) this.lines(chunk);
    else if (this.errorBody.length < maxErrorBody) this.errorBody += chunk;
  }

  end(): unknown {
    if (this.failure !== undefined) return this.failure;
    if (this.statusCode === 0) return new Error(`watch ${this.path.split('?')[0]}: the stream closed before an answer`);
    if (this.accepted) return undefined;
    return apiError('GET', this.path, this.statusCode, this.headers, this.errorBody);
  }

  private stop(err: unknown): void {
    this.failure = err;
    this.fail(err);
  }
}

/**
 * A stream cancelled because its connection failed says so only in its cause (ECONNREFUSED, a TLS error):
 * that is the failure to report, as an HTTP/1.1 request would.
 */
function streamFailure(err: unknown): unknown {
  const e = err as { code?: unknown; cause?: unknown };
  return e.code === 'ERR_HTTP2_STREAM_CANCEL' && e.cause instanceof Error ? e.cause : err;
}

function lowerCase(headers: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) out[k.toLowerCase()] = v;
  return out;
}

/** `Retry-After` in seconds (kube-apiserver sends whole seconds; an HTTP date is honoured too). */
export function retryAfterSeconds(value: string | string[] | undefined, nowMs = Date.now()): number | undefined {
  const v = Array.isArray(value) ? value[0] : value;
  if (v === undefined || v.trim() === '') return undefined;
  if (/^\d+$/.test(v.trim())) return Number(v.trim());
  const at = Date.parse(v);
  return Number.isNaN(at) ? undefined : Math.max(0, Math.ceil((at - nowMs) / 1000));
}

/** The KubeApiError for a non-2xx answer: its Status if the body is one, else the start of the body. */
function apiError(method: string, path: string, statusCode: number, headers: IncomingHttpHeaders, text: string) {
  let status: KubeStatus = { message: text.slice(0, 500) };
  try {
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) status = statusOf(parsed);
  } catch {}
  return new KubeApiError(method, path, statusCode, status, retryAfterSeconds(headers['retry-after']));
}

/** Only the Status fields we use, and only when they have the right type (the body is the server's to write). */
function statusOf(body: object): KubeStatus {
  const b = body as Record<string, unknown>;
  const str = (v: unknown) => (typeof v === 'string' ? v.slice(0, 2000) : undefined);
  const out: { -readonly [K in keyof KubeStatus]: KubeStatus[K] } = {};
  const kind = str(b.kind);
  const status = str(b.status);
  const message = str(b.message);
  const reason = str(b.reason);
  if (kind !== undefined) out.kind = kind;
  if (status !== undefined) out.status = status;
  if (message !== undefined) out.message = message;
  if (reason !== undefined) out.reason = reason;
  if (typeof b.code === 'number') out.code = b.code;
  return out;
}

/** Resolves a complete answer: its JSON body, or a KubeApiError with its Status. */
function settle<T>(
  method: string,
  path: string,
  statusCode: number,
  headers: IncomingHttpHeaders,
  text: string,
  resolve: (r: KubeResponse<T>) => void,
  reject: (err: unknown) => void,
): void {
  if (statusCode < 200 || statusCode >= 300) {
    reject(apiError(method, path, statusCode, headers, text));
    return;
  }
  let body: unknown = text;
  if ((headers['content-type'] ?? '').includes('json') && text !== '') {
    try {
      body = JSON.parse(text);
    } catch {
      body = text;
    }
  }
  resolve({ statusCode, body: body as T, headers });
}

/**
 * Splits a decoded stream into its non-empty lines. Each chunk is searched once (a line arriving in many pieces
 * is not searched again per piece), and a line longer than `maxLine` characters calls `onTooLong` and is dropped,
 * as is everything after it: the stream is no watch stream any more.
 */
export function lineSplitter(
  maxLine: number,
  onTooLong: () => void,
  onLine: (line: string) => void,
): (chunk: string) => void {
  /** The start of the line under way, in pieces, and their length. */
  let pieces: string[] = [];
  let pending = 0;
  let broken = false;
  const tooLong = () => {
    broken = true;
    pieces = [];
    onTooLong();
  };
  return (chunk) => {
    if (broken) return;
    let start = 0;
    for (let nl = chunk.indexOf('\n'); nl >= 0; nl = chunk.indexOf('\n', start)) {
      const end = chunk.slice(start, nl);
      start = nl + 1;
      if (pending + end.length > maxLine) return tooLong();
      const line = (pieces.length === 0 ? end : pieces.join('') + end).trim();
      pieces = [];
      pending = 0;
      if (line !== '') onLine(line);
    }
    if (start === chunk.length) return;
    const rest = start === 0 ? chunk : chunk.slice(start);
    pending += rest.length;
    if (pending > maxLine) return tooLong();
    pieces.push(rest);
  };
}

/** True for a KubeApiError with the given HTTP status code. */
export function isStatus(err: unknown, code: number): err is KubeApiError {
  return err instanceof KubeApiError && err.statusCode === code;
}
