import { Agent, request } from 'node:https';
import { KubeConfig } from '@kubernetes/client-node';

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
export class KubeRestClient {
  private readonly agent: Agent;

  private constructor(
    readonly server: URL,
    private readonly tls: { ca?: string | Buffer; cert?: string | Buffer; key?: string | Buffer },
    private readonly headers: Record<string, string>,
    maxSockets: number,
  ) {
    this.agent = new Agent({ keepAlive: true, maxSockets, ...tls });
  }

  /** Builds a client from a kubeconfig file (its current context). */
  static async fromKubeconfigFile(path: string, maxSockets = 32): Promise<KubeRestClient> {
    const kc = new KubeConfig();
    kc.loadFromFile(path);
    return KubeRestClient.fromKubeConfig(kc, maxSockets);
  }

  static async fromKubeConfig(kc: KubeConfig, maxSockets = 32): Promise<KubeRestClient> {
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
    return new KubeRestClient(new URL(cluster.server), tls, headers, maxSockets);
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
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            const statusCode = res.statusCode ?? 0;
            let body: unknown = text;
            if ((res.headers['content-type'] ?? '').includes('json') && text !== '') {
              try {
                body = JSON.parse(text);
              } catch {
                body = text;
              }
            }
            if (statusCode >= 200 && statusCode < 300) {
              resolve({ statusCode, body: body as T, headers: res.headers });
            } else {
              const status: KubeStatus =
                typeof body === 'object' && body !== null
                  ? (body as KubeStatus)
                  : { message: String(body).slice(0, 500) };
              reject(new KubeApiError(method, path, statusCode, status));
            }
          });
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
          let buf = '';
          res.on('data', (c: Buffer) => {
            buf += c.toString('utf8');
            let nl = buf.indexOf('\n');
            while (nl >= 0) {
              const line = buf.slice(0, nl).trim();
              buf = buf.slice(nl + 1);
              if (line !== '') onEvent(JSON.parse(line) as WatchEvent);
              nl = buf.indexOf('\n');
            }
          });
          res.on('end', () => resolve());
          res.on('error', (err) => (signal?.aborted ? resolve() : reject(err)));
        },
      );
      req.on('error', (err) => (signal?.aborted ? resolve() : reject(err)));
      req.end();
    });
  }

  close(): void {
    this.agent.destroy();
  }
}

/** True for a KubeApiError with the given HTTP status code. */
export function isStatus(err: unknown, code: number): err is KubeApiError {
  return err instanceof KubeApiError && err.statusCode === code;
}
