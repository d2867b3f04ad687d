// The HTTPS server of the admission webhooks: express on Node's https server (its requests and responses made with
// the app's prototypes: see express-prototypes.ts). It must outlive any input, because
// it sits in the path of every policy write: a body that is not an AdmissionReview gets 400 with a message, one
// that is but is malformed is denied with its uid echoed, a validator that throws denies (and is logged), and no
// input gets a 5xx. Keep-alive outlasts kube-apiserver's 90 s idle connections, so that a review is never sent on
// a socket the server is closing (such a POST is not retried and would count as a webhook failure).

import { once } from 'node:events';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import express, { type Express, type NextFunction, type Request, type Response } from 'express';
import type { Registry } from 'prom-client';
import type { Logger } from '../core/log/logger.js';
import { errorMessage } from '../core/log/logger.js';
import { ADMISSION_API_VERSION, admissionResponseJson, deny, parseAdmissionReview } from './admission-review.js';
import { BodyBudget, holdBodyBudget } from './body-budget.js';
import { expressPrototypeOptions } from './express-prototypes.js';
import { readBody } from './read-body.js';
import { type Reviewed, reviewRequest, type WebhookRoute, webhookRoutes } from './review.js';
import { type WebhookMetrics, type WebhookReviewSeries, webhookMetrics } from './review-metrics.js';
import type { ValidationContext } from './validation-context.js';

/** Largest request body: an UPDATE review carries the object twice, and kube-apiserver takes objects of 3 MiB. */
export const MAX_BODY_BYTES = 8 * 1024 * 1024;
/** Longer than the 90 s kube-apiserver keeps an idle connection, so the client always closes first. */
export const KEEP_ALIVE_MS = 95_000;
/** Request bodies held at once over all connections (8 of the largest, thousands of kube-apiserver's reviews). */
export const MAX_BODY_BYTES_IN_FLIGHT = 64 * 1024 * 1024;
/** Connections at once: kube-apiserver keeps a few per replica; each idle TLS connection costs tens of KiB. */
export const MAX_CONNECTIONS = 1000;
const MAX_HEADER_BYTES = 16 * 1024;

/**
 * How long a client may take over each step before the server gives up on it. kube-apiserver completes a
 * handshake and sends a review in milliseconds, and waits at most 30 s for the answer; anyone else who reaches the
 * port could hold a connection (of the 1000) or a request for as long as these allow.
 */
export interface ServingTimeouts {
  /** TLS handshake (Node's default, 120 s, let 1000 silent connections lock kube-apiserver out for two minutes). */
  readonly handshakeMs: number;
  /** Request headers, from the first byte. */
  readonly headersMs: number;
  /** The whole request, body included. */
  readonly requestMs: number;
  /** How often the server looks for requests over their time (Node's default: 30 s). */
  readonly checkEveryMs: number;
}

export const SERVING_TIMEOUTS: ServingTimeouts = {
  handshakeMs: 10_000,
  headersMs: 10_000,
  requestMs: 10_000,
  checkEveryMs: 1_000,
};

export interface WebhookServerOptions {
  readonly host: string;
  readonly port: number;
  readonly certPem: string;
  readonly keyPem: string;
  readonly context: ValidationContext;
  readonly log: Logger;
  readonly registry: Registry;
  /** Default SERVING_TIMEOUTS. */
  readonly timeouts?: ServingTimeouts;
}

export interface WebhookServer {
  readonly port: number;
  readonly server: Server;
  /** Serves new connections with this certificate (rotation without a restart). */
  setCertificate(certPem: string, keyPem: string): void;
  close(): Promise<void>;
}

function status(res: Response, code: number, message: string): void {
  if (res.headersSent) return;
  res.setHeader('X-Content-Type-Options', 'nosniff');
  sendJson(res, code, { kind: 'Status', apiVersion: 'v1', status: 'Failure', code, reason: reasonOf(code), message });
}

// The headers express's res.json would send, written with the body in one writeHead + end: express's res.send
// looks up and re-parses the content type, checks freshness and sets each header on its own, about a tenth of a
// review's CPU on this server (measured against the floor of bench/webhook).
function sendJson(res: Response, code: number, value: unknown): void {
  sendJsonText(res, code, JSON.stringify(value));
}

function sendJsonText(res: Response, code: number, body: string): void {
  if (res.headersSent) return;
  res.writeHead(code, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

const REASONS: Readonly<Record<number, string>> = {
  404: 'NotFound',
  405: 'MethodNotAllowed',
  413: 'RequestEntityTooLarge',
  429: 'TooManyRequests',
};

function reasonOf(code: number): string {
  return REASONS[code] ?? 'BadRequest';
}

// The uid of something that says it is an AdmissionReview v1, even if the rest is malformed: it gets an answer.
function claimedUid(body: unknown): string | undefined {
  if (typeof body !== 'object' || body === null) return undefined;
  const b = body as { apiVersion?: unknown; kind?: unknown; request?: unknown };
  if (b.apiVersion !== ADMISSION_API_VERSION || b.kind !== 'AdmissionReview') return undefined;
  const uid = typeof b.request === 'object' && b.request !== null ? (b.request as { uid?: unknown }).uid : undefined;
  return typeof uid === 'string' && uid.length > 0 && uid.length <= 128 ? uid : undefined;
}

interface RouteAndSeries {
  readonly route: WebhookRoute;
  readonly reviews: WebhookReviewSeries;
}

export function webhookApp(
  ctx: ValidationContext,
  log: Logger,
  metrics: WebhookMetrics,
  budget = new BodyBudget(MAX_BODY_BYTES_IN_FLIGHT),
) {
  const series = new Map(
    webhookRoutes.map((route) => [route.name, { route, reviews: metrics.series.get(route.name)! }] as const),
  );
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  const heldAndRead = holdBodyBudget(
    budget,
    (res, message) => {
      metrics.rejectedBodies.inc({ code: '429' });
      if (!res.headersSent) res.setHeader('Retry-After', '1');
      status(res, 429, message);
    },
    readBody(MAX_BODY_BYTES),
  );

  // One review, its body read, for the webhook `name` (its series).
  const answerReview = (name: string, routeSeries: RouteAndSeries, req: Request, res: Response) => {
    const started = performance.now();
    let review: unknown;
    try {
      const buf = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
      review = JSON.parse(buf.toString('utf8'));
    } catch (err) {
      metrics.rejectedBodies.inc({ code: '400' });
      status(res, 400, `the body is not JSON: ${errorMessage(err).slice(0, 200)}`);
      return;
    }
    const parsed = parseAdmissionReview(review);
    if (!parsed.ok) {
      const uid = claimedUid(review);
      if (uid === undefined) {
        metrics.rejectedBodies.inc({ code: '400' });
        status(res, 400, parsed.message);
        return;
      }
      routeSeries.reviews.count('malformed');
      sendJson(res, 200, deny(uid, `malformed AdmissionReview: ${parsed.message}`));
      return;
    }
    const { request } = parsed;
    // A child logger only when something is logged: most reviews log nothing.
    const reqLog = () => log.child({ uid: request.uid, webhook: name, operation: request.operation });
    const answer = ({ response, outcome }: Reviewed) => {
      routeSeries.reviews.count(outcome);
      routeSeries.reviews.time((performance.now() - started) / 1000);
      if (outcome === 'denied') {
        reqLog().info({ namespace: request.namespace, name: request.name, user: request.userInfo?.username }, 'denied');
      }
      sendJsonText(res, 200, admissionResponseJson(response));
    };
    const fail = (err: unknown) => {
      routeSeries.reviews.count('error');
      reqLog().error({ err: errorMessage(err) }, 'validator failed');
      sendJson(
        res,
        200,
        deny(request.uid, 'fedmesh could not validate this object: an internal error (logged by fedmesh webhooks)'),
      );
    };
    try {
      const reviewed = reviewRequest(routeSeries.route, request, ctx);
      if (reviewed instanceof Promise) reviewed.then(answer).catch(fail);
      else answer(reviewed);
    } catch (err) {
      fail(err);
    }
  };

  // A route of its own for each webhook's path as kube-apiserver sends it: a fixed path matches without the
  // parameter route's capture, decoding and params object (measured at about a tenth of express's routing per
  // request). Express matches paths without regard to case, where a webhook's name must match exactly: another
  // spelling goes on ('route') to the parameter route below, which answers it as before. Budget, body and review
  // in the route's one layer.
  for (const [name, routeSeries] of series) {
    const prefix = '/validate/'.length;
    app.post(`/validate/${name}`, (req: Request, res: Response, next: NextFunction) => {
      if (!req.path.startsWith(name, prefix)) {
        next('route');
        return;
      }
      heldAndRead(req, res, (err?: unknown) => {
        if (err !== undefined && err !== null) {
          next(err);
          return;
        }
        // As express runs a handler: what it throws goes to the error handler.
        try {
          answerReview(name, routeSeries, req, res);
        } catch (thrown) {
          next(thrown);
        }
      });
    });
  }

  // Any other path under /validate/: a percent-encoded name, another spelling, or no webhook at all (404).
  app.post('/validate/:webhook', heldAndRead, (req: Request, res: Response) => {
    const name = String(req.params.webhook);
    const routeSeries = series.get(name);
    if (routeSeries === undefined) {
      metrics.rejectedBodies.inc({ code: '404' });
      status(res, 404, `no webhook at ${req.path}; the paths are /validate/{${[...series.keys()].join(',')}}`);
      return;
    }
    answerReview(name, routeSeries, req, res);
  });

  app.all('/validate/:webhook', (_req: Request, res: Response) => {
    metrics.rejectedBodies.inc({ code: '405' });
    status(res, 405, 'admission reviews are POSTed');
  });
  app.use((req: Request, res: Response) => {
    metrics.rejectedBodies.inc({ code: '404' });
    status(res, 404, `no webhook at ${req.path.slice(0, 100)}`);
  });
  // Body reading errors (too large, aborted, bad encoding): 4xx, never 5xx.
  app.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => {
    const s = (err as { status?: unknown }).status;
    const code = typeof s === 'number' && s >= 400 && s < 500 ? s : 400;
    metrics.rejectedBodies.inc({ code: String(code) });
    status(
      res,
      code,
      code === 413 ? `the body is larger than ${MAX_BODY_BYTES} bytes` : errorMessage(err).slice(0, 200),
    );
  });
  return app;
}

/**
 * The HTTPS server the webhooks answer on, serving an express app, with its limits and keep-alive. The benchmark's
 * floor serves its constant answer on it too.
 */
export function webhookHttpsServer(
  app: Express,
  certPem: string,
  keyPem: string,
  timeouts: ServingTimeouts = SERVING_TIMEOUTS,
): Server {
  const server = createServer(
    {
      cert: certPem,
      key: keyPem,
      minVersion: 'TLSv1.2',
      maxHeaderSize: MAX_HEADER_BYTES,
      keepAliveTimeout: KEEP_ALIVE_MS,
      handshakeTimeout: timeouts.handshakeMs,
      headersTimeout: timeouts.headersMs,
      requestTimeout: timeouts.requestMs,
      connectionsCheckingInterval: timeouts.checkEveryMs,
      ...expressPrototypeOptions(app),
    },
    app,
  );
  server.keepAliveTimeout = KEEP_ALIVE_MS;
  server.maxHeadersCount = 100;
  server.maxConnections = MAX_CONNECTIONS;
  return server;
}

export async function startWebhookServer(o: WebhookServerOptions): Promise<WebhookServer> {
  const metrics = webhookMetrics(o.registry);
  const server = webhookHttpsServer(webhookApp(o.context, o.log, metrics), o.certPem, o.keyPem, o.timeouts);
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
