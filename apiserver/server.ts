import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import type { Registry } from 'prom-client';
import { requestUrl, withoutTrailingSlashes } from '../core/http/request-path.js';
import type { Logger } from '../core/log/logger.js';
import { type HealthChecks, renderHealth } from '../core/metrics/health-checks.js';
import { sendHealth } from '../core/metrics/health-server.js';
import { type AuthenticationConfig, authenticate, clearIdentityHeaders } from './auth/authenticator.js';
import { alwaysAllowPaths, type Decision } from './auth/delegation.js';
import type { UserInfo } from './auth/user-info.js';
import {
  aggregatedDiscoveryContentType,
  apiGroup,
  apiGroupDiscoveryList,
  apiGroupList,
  apiResourceList,
  etagOf,
} from './discovery.js';
import type { ApiServerMetrics } from './metrics.js';
import { chooseDiscoveryFormat, chooseObjectFormat, parseAccept } from './negotiation.js';
import type { OpenApiDocs } from './openapi.js';
import { type RequestInfo, requestInfo } from './request-info.js';
import { assertNotWrite, type HandlerContext, handleGet, handleList, handleWatch } from './resource-handlers.js';
import { group, groupVersion, resources } from './resources.js';
import {
  badRequest,
  forbidden,
  internalError,
  methodNotAllowed,
  notAcceptable,
  pathNotFound,
  StatusError,
  tooManyRequests,
  unauthorized,
} from './status.js';
import { UserQuota } from './user-quota.js';
import {
  defaultUnsentBytesLimits,
  defaultWatchLimits,
  type UnsentBytesLimits,
  type WatchLimits,
} from './watch-limits.js';

export interface ApiServerOptions {
  readonly host: string;
  readonly port: number;
  readonly certPem: string;
  readonly keyPem: string;
  readonly handlerContext: HandlerContext;
  /** The current trust configuration (it changes when the cluster's ConfigMap does). */
  readonly authentication: () => AuthenticationConfig;
  readonly reviewToken: (token: string) => Promise<UserInfo | undefined>;
  readonly authorize: (user: UserInfo, info: RequestInfo) => Promise<Decision>;
  /** What /healthz, /livez and /readyz run (probes need no credentials). */
  readonly health: HealthChecks;
  readonly openapi: OpenApiDocs;
  readonly version: { gitVersion: string; major: string; minor: string };
  readonly log: Logger;
  readonly registry: Registry;
  readonly metrics: ApiServerMetrics;
  /** Non-watch requests in flight before 429 (Go: 400 reads); probes and system:masters are always served. */
  readonly maxInFlight?: number;
  /** Open watches in total and per user before 429 (defaultWatchLimits). */
  readonly watchLimits?: WatchLimits;
  /** Bytes of answers not yet taken by their clients, in total and per user, past which an answer is cut. */
  readonly unsentBytesLimits?: UnsentBytesLimits;
  /** A non-watch request whose connection moves no data for this long is cut (Go's request timeout: 60 s). */
  readonly requestTimeoutMs?: number;
}

export interface RunningApiServer {
  readonly port: number;
  /** Replaces the CA list offered in the TLS handshake (Go clients send a certificate only for a CA we name). */
  setTrustedClientCAs(pems: readonly string[]): void;
  close(): Promise<void>;
}

function sendStatus(res: ServerResponse, err: StatusError): void {
  const body = JSON.stringify(err.body);
  res.writeHead(err.code, {
    'Content-Type': 'application/json',
    'X-Content-Type-Options': 'nosniff',
    'Content-Length': Buffer.byteLength(body),
    ...(err.body.details?.retryAfterSeconds ? { 'Retry-After': String(err.body.details.retryAfterSeconds) } : {}),
  });
  res.end(body);
}

function sendText(
  res: ServerResponse,
  code: number,
  contentType: string,
  body: string,
  extra: Record<string, string> = {},
): void {
  res.writeHead(code, { 'Content-Type': contentType, 'Content-Length': Buffer.byteLength(body), ...extra });
  res.end(body);
}

export async function startApiServer(o: ApiServerOptions): Promise<RunningApiServer> {
  const discoveryV2 = JSON.stringify(apiGroupDiscoveryList());
  const discoveryEtag = etagOf(discoveryV2);
  const maxInFlight = o.maxInFlight ?? 400;
  let inFlight = 0;
  const watchLimits = o.watchLimits ?? defaultWatchLimits;
  const watches = new UserQuota(watchLimits.maxWatches, watchLimits.maxWatchesPerUser);
  const unsentLimits = o.unsentBytesLimits ?? defaultUnsentBytesLimits;
  const unsent = new UserQuota(unsentLimits.maxBytes, unsentLimits.maxBytesPerUser);
  const ctx = o.handlerContext;

  /** Authenticates, then takes an in-flight slot (Go's order: a credential check never holds a slot). */
  const handle = async (
    req: IncomingMessage,
    res: ServerResponse,
    url: URL,
    info: RequestInfo,
    log: Logger,
  ): Promise<void> => {
    const cfg = o.authentication();
    const peer = (req.socket as TLSSocket).getPeerX509Certificate?.();
    const authn = await authenticate(peer, req.headersDistinct, cfg, o.reviewToken);
    clearIdentityHeaders(req.headers, cfg.requestHeader);
    if (authn.outcome === 'failed') {
      // The caller learns nothing of why (kube-apiserver errors name hosts, paths, accounts): the log does.
      log.info({ why: authn.why }, 'authentication failed');
      throw unauthorized();
    }
    const user = authn.user;
    log.setBindings({ user: user.username, groups: user.groups, verb: info.verb });
    const isHealth = info.kind === 'non-resource' && alwaysAllowPaths.has(`/${url.pathname.split('/')[1]}`);
    // Only probes may come without credentials: everything else arrives from the aggregator (front-proxy
    // certificate) or with a token, so an anonymous caller is told to authenticate (what --anonymous-auth=false does).
    if (authn.outcome === 'anonymous' && !isHealth) throw unauthorized();
    // A watch is long-running and has limits of its own; every other request takes a slot. Probes and
    // system:masters (the aggregator's availability check) are answered even when all slots are taken, as Go does.
    const isWatch = info.kind === 'resource' && info.verb === 'watch';
    if (isWatch) {
      await serve(req, res, url, info, user, isHealth, log);
      return;
    }
    if (inFlight >= maxInFlight && !isHealth && !user.groups.includes('system:masters')) {
      throw tooManyRequests('Too many requests, please try again later.', 1);
    }
    // The slot is held until the answer has left (or the connection is gone), not until it is queued: a client
    // that does not read a large list keeps it, so such clients are bounded by the limit and the idle timeout.
    inFlight += 1;
    let held = true;
    const release = () => {
      if (held) inFlight -= 1;
      held = false;
    };
    res.once('close', release);
    try {
      await serve(req, res, url, info, user, isHealth, log);
    } catch (err) {
      release();
      throw err;
    }
    // Probes and system:masters are answered whatever others hold, as for the in-flight limit.
    if (!isHealth && !user.groups.includes('system:masters')) holdUnsent(res, user, info, log);
  };

  /**
   * An answer is rendered whole and stays in memory until its client takes it: what is left unsent counts against
   * the caller's share and the total, and past either the answer is cut (the client retries), as a stuck watch is.
   */
  const holdUnsent = (res: ServerResponse, user: UserInfo, info: RequestInfo, log: Logger): void => {
    const bytes = res.writableLength;
    if (bytes === 0 || res.writableFinished || res.destroyed) return;
    const lease = unsent.acquire(user.username, bytes);
    if ('refused' in lease) {
      const limit = lease.refused === 'user' ? 'its user' : 'all callers';
      log.info({ bytes, held: lease.held, limit: lease.refused }, `answer cut: ${limit} hold too many unsent bytes`);
      o.metrics.responsesCut.inc({ resource: info.kind === 'resource' ? info.resource : '' });
      res.destroy();
      return;
    }
    res.once('close', lease.release);
  };

  const serve = async (
    req: IncomingMessage,
    res: ServerResponse,
    url: URL,
    info: RequestInfo,
    user: UserInfo,
    isHealth: boolean,
    log: Logger,
  ): Promise<void> => {
    if (!isHealth && !user.groups.includes('system:masters')) {
      let decision: Decision;
      try {
        decision = await o.authorize(user, info);
      } catch (err) {
        log.warn({ err: err instanceof Error ? err.message : String(err) }, 'SubjectAccessReview failed');
        throw internalError('the authorization check could not be made; see the server log');
      }
      if (!decision.allowed) {
        throw forbidden({
          user: user.username,
          verb: info.verb,
          ...(info.kind === 'resource'
            ? {
                group,
                resource: info.resource,
                ...(info.name ? { name: info.name } : {}),
                ...(info.namespace ? { namespace: info.namespace } : {}),
              }
            : { path: url.pathname }),
          reason: decision.reason,
        });
      }
    }
    if (info.kind === 'resource') {
      const def = resources[info.resource];
      assertNotWrite(info, def);
      const format = chooseObjectFormat(parseAccept(req.headers.accept));
      if (!format)
        throw notAcceptable(['application/json', 'application/yaml', 'application/json;as=Table;v=v1;g=meta.k8s.io']);
      if (info.verb === 'get') handleGet(ctx, info, url, format, res);
      else if (info.verb === 'list') await handleList(ctx, info, url, format, res);
      else {
        const lease = watches.acquire(user.username);
        if ('refused' in lease) {
          const why =
            lease.refused === 'user'
              ? `user "${user.username}" already has ${lease.held} open watches, the most one user may hold`
              : `the server already serves ${lease.held} watches, the most it holds`;
          log.info({ why }, 'watch refused');
          throw tooManyRequests(`Too many watches: ${why}. Close some, or try again later.`, 5);
        }
        o.metrics.watchers.inc({ resource: info.resource });
        const onEnd = () => {
          lease.release();
          o.metrics.watchers.dec({ resource: info.resource });
        };
        try {
          handleWatch(ctx, info, url, format, req, res, {
            onEnd,
            onCut: (why) => {
              log.info({ why }, 'watch cut: the client fell behind');
              o.metrics.watchesCut.inc({ resource: info.resource });
            },
          });
        } catch (err) {
          onEnd();
          throw err;
        }
      }
      return;
    }
    if (info.kind === 'unknown-resource') throw pathNotFound();
    if (req.method !== 'GET' && req.method !== 'HEAD') throw methodNotAllowed(info.verb, url.pathname, '');
    const p = withoutTrailingSlashes(url.pathname);
    if (isHealth) {
      const answer = renderHealth(p, url.searchParams, o.health);
      if (!answer) throw pathNotFound();
      sendHealth(res, answer, log);
    } else if (p === '/apis') {
      const fmt = chooseDiscoveryFormat(parseAccept(req.headers.accept));
      if (fmt === 'aggregated-v2') {
        if (req.headers['if-none-match'] === discoveryEtag) {
          res.writeHead(304, { ETag: discoveryEtag, Vary: 'Accept' });
          res.end();
        } else {
          sendText(res, 200, aggregatedDiscoveryContentType, discoveryV2, {
            ETag: discoveryEtag,
            Vary: 'Accept',
            'Cache-Control': 'public',
          });
        }
      } else if (fmt === 'legacy')
        sendText(res, 200, 'application/json', JSON.stringify(apiGroupList()), { Vary: 'Accept' });
      else throw notAcceptable(['application/json', aggregatedDiscoveryContentType]);
    } else if (p === `/apis/${group}`) sendText(res, 200, 'application/json', JSON.stringify(apiGroup()));
    else if (p === `/apis/${groupVersion}`) sendText(res, 200, 'application/json', JSON.stringify(apiResourceList()));
    else if (p === '/openapi/v2') sendText(res, 200, 'application/json', o.openapi.v2, { ETag: o.openapi.v2Etag });
    else if (p === '/openapi/v3') sendText(res, 200, 'application/json', o.openapi.v3Root);
    else if (p === `/openapi/v3/apis/${groupVersion}`) {
      // Never a redirect on a stale ?hash= (the aggregator turns backend redirects into 502): the current document.
      sendText(res, 200, 'application/json', o.openapi.v3GroupVersion, {
        ETag: o.openapi.v3Etag,
        'Cache-Control': 'no-cache, private',
      });
    } else if (p === '/version')
      sendText(
        res,
        200,
        'application/json',
        JSON.stringify({ ...o.version, platform: `${process.platform}/${process.arch}` }),
      );
    else if (p === '/metrics') sendText(res, 200, o.registry.contentType, await o.registry.metrics());
    else throw pathNotFound();
  };

  const server: Server = createServer(
    { cert: o.certPem, key: o.keyPem, requestCert: true, rejectUnauthorized: false, minVersion: 'TLSv1.2' },
    (req, res) => {
      const started = performance.now();
      const url = requestUrl(req.url ?? '/');
      if (!url) {
        o.log.info({ method: req.method }, 'request target is not a path');
        sendStatus(res, badRequest('the request target must be a path such as /apis'));
        return;
      }
      const sentId = req.headers['audit-id'];
      const auditId = typeof sentId === 'string' && /^[\w-]{1,64}$/.test(sentId) ? sentId : randomUUID();
      const log = o.log.child({ auditId, method: req.method, path: url.pathname });
      const info = requestInfo(req.method ?? 'GET', url);
      const resource = info.kind === 'resource' ? info.resource : '';
      const isWatch = info.kind === 'resource' && info.verb === 'watch';
      handle(req, res, url, info, log)
        .catch((err: unknown) => {
          if (err instanceof StatusError) {
            if (!res.headersSent) sendStatus(res, err);
            return;
          }
          // Details of unexpected failures go to the log; the answer names the audit ID to find them by.
          log.error({ err: err instanceof Error ? err.message : String(err) }, 'request failed');
          if (!res.headersSent) sendStatus(res, internalError(`see the server log for audit ID ${auditId}`));
          else res.destroy();
        })
        .finally(() => {
          o.metrics.requests.inc({ verb: info.verb, resource, code: String(res.statusCode) });
          if (!isWatch) o.metrics.duration.observe({ verb: info.verb, resource }, (performance.now() - started) / 1000);
          log.debug({ code: res.statusCode, ms: Math.round(performance.now() - started) }, 'request');
        });
    },
  );
  // A proxied connection is never upgraded here: refuse instead of leaving it open (SEC-05).
  server.on('upgrade', (_req, socket) => socket.destroy());
  server.keepAliveTimeout = 65_000;
  // Slow clients hold memory: headers must arrive within 10 s, and a connection that moves no data for the
  // request timeout is cut (a watch switches this off for itself and has its own stall detection).
  server.headersTimeout = 10_000;
  server.requestTimeout = 30_000;
  server.setTimeout(o.requestTimeoutMs ?? 60_000, (socket) => socket.destroy());
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port, o.host, () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    setTrustedClientCAs(pems) {
      server.setSecureContext({ cert: o.certPem, key: o.keyPem, ...(pems.length > 0 ? { ca: [...pems] } : {}) });
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
