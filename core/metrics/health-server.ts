import { once } from 'node:events';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import { requestUrl, withoutTrailingSlashes } from '../http/request-path.js';
import type { Logger } from '../log/logger.js';
import { type HealthAnswer, type HealthChecks, healthHeaders, renderHealth } from './health-checks.js';

export interface HealthServer {
  readonly port: number;
  close(): Promise<void>;
}

/** Parses `HOST:PORT` (port 0 = any free port). */
export function parseBindAddress(text: string): { host: string; port: number } | undefined {
  const i = text.lastIndexOf(':');
  if (i <= 0) return undefined;
  const port = Number(text.slice(i + 1));
  if (!Number.isInteger(port) || port < 0 || port > 65535) return undefined;
  return { host: text.slice(0, i).replace(/^\[|\]$/g, ''), port };
}

/**
 * Plain HTTP: /metrics (Prometheus text) and the health paths of health-checks.ts (/healthz, /livez, /readyz,
 * `?verbose`, `?exclude=`, per-check paths), rendered as the aggregated API server renders them. Nobody is
 * authenticated here: why a check fails goes to the log, never into the answer.
 */
export async function startHealthServer(opts: {
  host: string;
  port: number;
  registry: Registry;
  checks: HealthChecks;
  log: Logger;
}): Promise<HealthServer> {
  const server: Server = createServer((req, res) => {
    const url = requestUrl(req.url ?? '/');
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405).end();
      return;
    }
    const path = url ? withoutTrailingSlashes(url.pathname) : '';
    if (path === '/metrics') {
      opts.registry
        .metrics()
        .then((text) => res.writeHead(200, { 'Content-Type': opts.registry.contentType }).end(text))
        .catch((err: unknown) => {
          opts.log.warn({ err: err instanceof Error ? err.message : String(err) }, 'metrics could not be rendered');
          res.writeHead(500).end();
        });
      return;
    }
    const answer = url && renderHealth(path, url.searchParams, opts.checks);
    if (!answer) {
      res.writeHead(404).end();
      return;
    }
    sendHealth(res, answer, opts.log);
  });
  server.listen(opts.port, opts.host);
  await once(server, 'listening');
  return {
    port: (server.address() as AddressInfo).port,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** Writes a health answer; the reasons of failed checks go to the log. */
export function sendHealth(res: ServerResponse, answer: HealthAnswer, log: Logger): void {
  for (const f of answer.failed) log.info({ check: f.name, why: f.reason }, 'health check failed');
  res.writeHead(answer.status, { ...healthHeaders, 'Content-Length': Buffer.byteLength(answer.body) });
  res.end(answer.body);
}
