// The HTTPS server of the admission webhooks: Node's https server and one handler, no framework (express cost three
// times the CPU of the bare server per review, and its per-request prototype swap made a quarter of all young
// objects survive into the old generation: 10 ms GC pauses). It must outlive any input, because it sits in the path
// of every policy write: a body that is not an AdmissionReview gets 400 with a message, one
// that is but is malformed is denied with its uid echoed, a validator that throws denies (and is logged), and no
// input gets a 5xx. Keep-alive outlasts kube-apiserver's 90 s idle connections, so that a review is never sent on
// a socket the server is closing (such a POST is not retried and would count as a webhook failure).

import { once } from 'node:events';
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { Counter, Histogram, type Registry } from 'prom-client';
import { withoutTrailingSlashes } from '../core/http/request-path.js';
import type { Logger } from '../core/log/logger.js';
import { errorMessage } from '../core/log/logger.js';
import { ADMISSION_API_VERSION, deny, parseAdmissionReview } from './admission-review.js';
import { readRequestBody } from './request-body.js';
import { type ReviewOutcome, reviewRequest, webhookRouteByName, webhookRoutes } from './review.js';
import type { ValidationContext } from './validation-context.js';

/** Largest request body: an UPDATE review carries the object twice, and kube-apiserver takes objects of 3 MiB. */
export const MAX_BODY_BYTES = 8 * 1024 * 1024;
/** Longer than the 90 s kube-apiserver keeps an idle connection, so the client always closes first. */
export const KEEP_ALIVE_MS = 95_000;
const HEADERS_TIMEOUT_MS = 20_000;
const REQUEST_TIMEOUT_MS = 30_000;
const MAX_HEADER_BYTES = 16 * 1024;

export interface WebhookServerOptions {
  readonly host: string;
  readonly port: number;
  readonly certPem: string;
  readonly keyPem: string;
  readonly context: ValidationContext;
  readonly log: Logger;
  readonly registry: Registry;
}

export interface WebhookServer {
  readonly port: number;
  readonly server: Server;
  /** Serves new connections with this certificate (rotation without a restart). */
  setCertificate(certPem: string, keyPem: string): void;
  close(): Promise<void>;
}

export function webhookMetrics(registry: Registry) {
  return {
    reviews: new Counter({
      name: 'fedmesh_webhook_reviews_total',
      help: 'AdmissionReviews answered, by webhook path and outcome (allowed, denied, skipped, malformed, error)',
      labelNames: ['webhook', 'outcome'],
      registers: [registry],
    }),
    rejectedBodies: new Counter({
      name: 'fedmesh_webhook_bad_requests_total',
      help: 'Requests answered 4xx because they were not an AdmissionReview (or too large)',
      labelNames: ['code'],
      registers: [registry],
    }),
    duration: new Histogram({
      name: 'fedmesh_webhook_review_duration_seconds',
      help: 'Time from a complete request body to the answer, by webhook path',
      labelNames: ['webhook'],
      buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.05, 0.25, 1],
      registers: [registry],
    }),
  };
}

const JSON_TYPE = 'application/json; charset=utf-8';

/** The answer in one write: headers and the JSON text whose length they announce. */
export function writeJson(res: ServerResponse, code: number, body: string, close = false): void {
  if (res.headersSent) return;
  const headers: OutgoingHttpHeaders = {
    'Content-Type': JSON_TYPE,
    'Content-Length': Buffer.byteLength(body),
    'X-Content-Type-Options': 'nosniff',
  };
  if (close) headers.Connection = 'close';
  if (code === 405) headers.Allow = 'POST';
  res.writeHead(code, headers);
  res.end(body);
}

/** A Kubernetes Status for a request that is not an AdmissionReview we answer. */
function status(res: ServerResponse, code: number, message: string, close = false): void {
  writeJson(
    res,
    code,
    JSON.stringify({ kind: 'Status', apiVersion: 'v1', status: 'Failure', code, reason: reasonOf(code), message }),
    close,
  );
}

function reasonOf(code: number): string {
  return code === 404
    ? 'NotFound'
    : code === 405
      ? 'MethodNotAllowed'
      : code === 413
        ? 'RequestEntityTooLarge'
        : code === 415
          ? 'UnsupportedMediaType'
          : 'BadRequest';
}

// The uid of something that says it is an AdmissionReview v1, even if the rest is malformed: it gets an answer.
function claimedUid(body: unknown): string | undefined {
  if (typeof body !== 'object' || body === null) return undefined;
  const b = body as { apiVersion?: unknown; kind?: unknown; request?: unknown };
  if (b.apiVersion !== ADMISSION_API_VERSION || b.kind !== 'AdmissionReview') return undefined;
  const uid = typeof b.request === 'object' && b.request !== null ? (b.request as { uid?: unknown }).uid : undefined;
  return typeof uid === 'string' && uid.length > 0 && uid.length <= 128 ? uid : undefined;
}

const PREFIX = '/validate/';

/** Where a request target points: a webhook path (its decoded last segment), or elsewhere. */
export type WebhookTarget =
  | { readonly kind: 'webhook'; readonly name: string; readonly path: string }
  | { readonly kind: 'elsewhere'; readonly path: string }
  | { readonly kind: 'bad-escape'; readonly path: string };

/** `/validate/<name>` (a trailing slash and a query, such as kube-apiserver's `?timeout=5s`, are ignored). */
export function webhookTarget(target: string): WebhookTarget {
  const query = target.indexOf('?');
  const path = withoutTrailingSlashes(query < 0 ? target : target.slice(0, query));
  if (!path.startsWith(PREFIX) || path.indexOf('/', PREFIX.length) >= 0 || path.length === PREFIX.length) {
    return { kind: 'elsewhere', path };
  }
  const segment = path.slice(PREFIX.length);
  if (!segment.includes('%')) return { kind: 'webhook', name: segment, path };
  try {
    return { kind: 'webhook', name: decodeURIComponent(segment), path };
  } catch {
    return { kind: 'bad-escape', path };
  }
}

type Outcome = ReviewOutcome | 'malformed' | 'error';
const OUTCOMES: readonly Outcome[] = ['allowed', 'denied', 'skipped', 'malformed', 'error'];

// The labelled series of each webhook, made once: they exist (at 0) from the start, and a review uses them without
// validating label objects.
function seriesByWebhook(metrics: ReturnType<typeof webhookMetrics>) {
  return new Map(
    webhookRoutes.map((r) => {
      const reviews = {} as Record<Outcome, { inc(): void }>;
      for (const outcome of OUTCOMES) {
        metrics.reviews.inc({ webhook: r.name, outcome }, 0);
        reviews[outcome] = metrics.reviews.labels(r.name, outcome);
      }
      metrics.duration.zero({ webhook: r.name });
      return [r.name, { reviews, duration: metrics.duration.labels(r.name) }];
    }),
  );
}

/** The request handler of the webhook server: route, read the body, review, answer. */
export function webhookHandler(ctx: ValidationContext, log: Logger, metrics: ReturnType<typeof webhookMetrics>) {
  const series = seriesByWebhook(metrics);
  const paths = `/validate/{${webhookRoutes.map((r) => r.name).join(',')}}`;
  const refuse = (res: ServerResponse, code: number, message: string, close = false) => {
    metrics.rejectedBodies.inc({ code: String(code) });
    status(res, code, message, close);
  };

  return (req: IncomingMessage, res: ServerResponse): void => {
    const target = webhookTarget(req.url ?? '');
    if (target.kind === 'elsewhere') {
      refuse(res, 404, `no webhook at ${target.path.slice(0, 100)}; the paths are ${paths}`);
      return;
    }
    if (req.method !== 'POST') {
      refuse(res, 405, 'admission reviews are POSTed');
      return;
    }
    if (target.kind === 'bad-escape') {
      refuse(res, 400, `the path ${target.path.slice(0, 100)} is not valid percent-encoding`);
      return;
    }
    const route = webhookRouteByName.get(target.name);
    const routeSeries = series.get(target.name);
    if (route === undefined || routeSeries === undefined) {
      refuse(res, 404, `no webhook at ${target.path.slice(0, 100)}; the paths are ${paths}`);
      return;
    }
    readRequestBody(req, MAX_BODY_BYTES, (read) => {
      if (!read.ok) {
        refuse(res, read.code, read.message, read.close);
        return;
      }
      const started = process.hrtime.bigint();
      let body: unknown;
      try {
        body = JSON.parse(read.body.toString('utf8'));
      } catch (err) {
        refuse(res, 400, `the body is not JSON: ${errorMessage(err).slice(0, 200)}`);
        return;
      }
      const parsed = parseAdmissionReview(body);
      if (!parsed.ok) {
        const uid = claimedUid(body);
        if (uid === undefined) {
          refuse(res, 400, parsed.message);
          return;
        }
        routeSeries.reviews.malformed.inc();
        writeJson(res, 200, JSON.stringify(deny(uid, `malformed AdmissionReview: ${parsed.message}`)));
        return;
      }
      const { request } = parsed;
      const name = route.name;
      // A child logger only when something is logged: most reviews log nothing.
      const reqLog = () => log.child({ uid: request.uid, webhook: name, operation: request.operation });
      reviewRequest(route, request, ctx)
        .then(({ response, outcome }) => {
          routeSeries.reviews[outcome].inc();
          routeSeries.duration.observe(Number(process.hrtime.bigint() - started) / 1e9);
          if (outcome === 'denied') {
            reqLog().info(
              { namespace: request.namespace, name: request.name, user: request.userInfo?.username },
              'denied',
            );
          }
          writeJson(res, 200, JSON.stringify(response));
        })
        .catch((err: unknown) => {
          routeSeries.reviews.error.inc();
          reqLog().error({ err: errorMessage(err) }, 'validator failed');
          writeJson(
            res,
            200,
            JSON.stringify(
              deny(
                request.uid,
                'fedmesh could not validate this object: an internal error (logged by fedmesh webhooks)',
              ),
            ),
          );
        });
    });
  };
}

export interface WebhookHttpsOptions {
  readonly certPem: string;
  readonly keyPem: string;
}

/** The HTTPS server the webhooks answer on, with its limits and keep-alive (the benchmark's floor uses it too). */
export function createWebhookHttpsServer(
  o: WebhookHttpsOptions,
  handler: (req: IncomingMessage, res: ServerResponse) => void,
): Server {
  const server = createServer(
    {
      cert: o.certPem,
      key: o.keyPem,
      minVersion: 'TLSv1.2',
      maxHeaderSize: MAX_HEADER_BYTES,
      keepAliveTimeout: KEEP_ALIVE_MS,
      headersTimeout: HEADERS_TIMEOUT_MS,
      requestTimeout: REQUEST_TIMEOUT_MS,
    },
    handler,
  );
  server.keepAliveTimeout = KEEP_ALIVE_MS;
  server.maxHeadersCount = 100;
  return server;
}

export async function startWebhookServer(o: WebhookServerOptions): Promise<WebhookServer> {
  const server = createWebhookHttpsServer(o, webhookHandler(o.context, o.log, webhookMetrics(o.registry)));
  server.on('tlsClientError', (err) => o.log.debug({ err: errorMessage(err) }, 'TLS handshake failed'));
  server.listen(o.port, o.host);
  await once(server, 'listening');
  return {
    port: (server.address() as AddressInfo).port,
    server,
    setCertificate: (certPem, keyPem) => server.setSecureContext({ cert: certPem, key: keyPem, minVersion: 'TLSv1.2' }),
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      }),
  };
}
