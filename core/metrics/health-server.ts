import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';

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
 * Plain HTTP: /metrics (Prometheus text), /healthz (the process runs), /readyz (its caches are ready). Nobody is
 * authenticated here, so `ready().detail` must be a fixed description (what is not ready yet), never an error text
 * from elsewhere (hosts, paths, accounts): those go to the log.
 */
export async function startHealthServer(opts: {
  host: string;
  port: number;
  registry: Registry;
  ready: () => { ok: boolean; detail: string };
}): Promise<HealthServer> {
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET') {
      res.writeHead(405).end();
      return;
    }
    if (path === '/metrics') {
      opts.registry
        .metrics()
        .then((text) => res.writeHead(200, { 'Content-Type': opts.registry.contentType }).end(text))
        .catch((err: unknown) => res.writeHead(500).end(String(err)));
      return;
    }
    if (path === '/healthz' || path === '/livez') {
      res.writeHead(200, { 'Content-Type': 'text/plain' }).end('ok');
      return;
    }
    if (path === '/readyz') {
      const r = opts.ready();
      res.writeHead(r.ok ? 200 : 503, { 'Content-Type': 'text/plain' }).end(r.detail);
      return;
    }
    res.writeHead(404).end();
  });
  server.listen(opts.port, opts.host);
  await once(server, 'listening');
  return {
    port: (server.address() as AddressInfo).port,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
