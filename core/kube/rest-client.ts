import type { IncomingHttpHeaders } from 'node:http';
import { constants as h2 } from 'node:http2';
import { Agent, request } from 'node:https';
import { KubeConfig } from '@kubernetes/client-node';
import { H2Session } from './h2-session.js';

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
  ) {
    super(`${method} ${path}: ${statusCode} ${status.reason ?? ''} ${status.message ?? ''}`.trim());
    this.name = 'KubeApiError';
  }
}

export interface RequestOptions {
  readonly body?: unknown;
  readonly contentType?: string;
  readonly accept?: string;
  readonly timeoutMs?: number;
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
    private readonly headers: Record<string, string>,
    maxSockets: number,
    transport: TransportOptions = {},
  ) {
    this.agent = new Agent({ keepAlive: true, maxSockets, ...tls });
    this.h2 = transport.http2 ? new H2Session(server.origin, tls) : undefined;
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
    return new KubeRestClient(new URL(cluster.server), tls, headers, maxSockets, transport);
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
    if (this.h2) return this.requestH2<T>(this.h2, method, path, opts, payload);
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
        },
        (res) => {
          // Decoded chunk by chunk: each network buffer is released at once, instead of all of a multi-megabyte
          // list being held natively and then copied whole (which leaves the malloc heap fragmented and large).
          res.setEncoding('utf8');
          let text = '';
          res.on('data', (c: string) => {
            text += c;
          });
          res.on('end', () => settle(method, path, res.statusCode ?? 0, res.headers, text, resolve, reject));
          res.on('error', reject);
        },
      );
      req.on('timeout', () => req.destroy(new Error(`${method} ${path}: no answer in ${opts.timeoutMs ?? 30_000} ms`)));
      req.on('error', reject);
      req.end(payload);
    });
  }

  async get<T = unknown>(path: string): Promise<T> {
    return (await this.request<T>('GET', path)).body;
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
   * Streams a watch (`path` must carry `watch=1`): calls `onEvent` per event until the server ends the
   * stream or `signal` aborts. A non-2xx answer rejects with KubeApiError; an ERROR event is delivered as is.
   */
  watch(path: string, onEvent: (ev: WatchEvent) => void, signal?: AbortSignal): Promise<void> {
    if (this.h2) return this.watchH2(this.h2, path, onEvent, signal);
    return new Promise((resolve, reject) => {
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
          const statusCode = res.statusCode ?? 0;
          if (statusCode < 200 || statusCode >= 300) {
            let text = '';
            res.on('data', (c: Buffer) => {
              text += c.toString();
            });
            res.on('end', () => {
              let status: KubeStatus = { message: text.slice(0, 500) };
              try {
                status = JSON.parse(text) as KubeStatus;
              } catch {}
              reject(new KubeApiError('GET', path, statusCode, status));
            });
            return;
          }
          res.setEncoding('utf8');
          res.on('data', lineSplitter(onEvent));
          res.on('end', () => resolve());
          res.on('error', (err) => (signal?.aborted ? resolve() : reject(err)));
        },
      );
      req.on('error', (err) => (signal?.aborted ? resolve() : reject(err)));
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
        { endStream: payload === undefined },
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
      });
      stream.setEncoding('utf8');
      let text = '';
      stream.on('data', (c: string) => {
        text += c;
      });
      stream.on('end', () => settle(method, path, statusCode, headers, text, resolve, reject));
      stream.on('error', (err) => reject(streamFailure(err)));
      if (payload) stream.end(payload);
    });
  }

  private watchH2(
    session: H2Session,
    path: string,
    onEvent: (ev: WatchEvent) => void,
    signal: AbortSignal | undefined,
  ): Promise<void> {
    return new Promise((resolve, reject) => {
      if (signal?.aborted) return resolve();
      const stream = session.request(
        { ...lowerCase(this.headers), ':method': 'GET', ':path': path, accept: 'application/json' },
        signal ? { endStream: true, signal } : { endStream: true },
      );
      stream.setEncoding('utf8');
      stream.on('response', (h) => {
        const statusCode = Number(h[':status'] ?? 0);
        if (statusCode >= 200 && statusCode < 300) {
          stream.on('data', lineSplitter(onEvent));
          return;
        }
        let text = '';
        stream.on('data', (c: string) => {
          text += c;
        });
        stream.on('end', () => {
          let status: KubeStatus = { message: text.slice(0, 500) };
          try {
            status = JSON.parse(text) as KubeStatus;
          } catch {}
          reject(new KubeApiError('GET', path, statusCode, status));
        });
      });
      stream.on('end', () => resolve());
      stream.on('close', () => resolve());
      stream.on('error', (err) => (signal?.aborted ? resolve() : reject(streamFailure(err))));
    });
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
  let body: unknown = text;
  if ((headers['content-type'] ?? '').includes('json') && text !== '') {
    try {
      body = JSON.parse(text);
    } catch {
      body = text;
    }
  }
  if (statusCode >= 200 && statusCode < 300) {
    resolve({ statusCode, body: body as T, headers });
  } else {
    const status: KubeStatus =
      typeof body === 'object' && body !== null ? (body as KubeStatus) : { message: String(body).slice(0, 500) };
    reject(new KubeApiError(method, path, statusCode, status));
  }
}

/** Turns a decoded watch stream into events, one JSON object per line. */
function lineSplitter(onEvent: (ev: WatchEvent) => void): (chunk: string) => void {
  let buf = '';
  return (chunk) => {
    buf = buf === '' ? chunk : buf + chunk;
    let start = 0;
    let nl = buf.indexOf('\n');
    while (nl >= 0) {
      const line = buf.slice(start, nl).trim();
      if (line !== '') onEvent(JSON.parse(line) as WatchEvent);
      start = nl + 1;
      nl = buf.indexOf('\n', start);
    }
    buf = start === buf.length ? '' : buf.slice(start);
  };
}

/** True for a KubeApiError with the given HTTP status code. */
export function isStatus(err: unknown, code: number): err is KubeApiError {
  return err instanceof KubeApiError && err.statusCode === code;
}
