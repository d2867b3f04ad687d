// A byte relay between a TCP port and a UNIX socket: how an agent inside a node's network namespace reaches its
// cluster's kube-apiserver on the host's loopback without any traffic leaving these namespaces. A socket path is
// not bound to a network namespace: the host side listens on the path and dials 127.0.0.1, the namespace side
// listens on its own 127.0.0.1 and dials the path. TLS passes through untouched (the server's certificate names
// 127.0.0.1, which is what the agent dials).

import { rmSync } from 'node:fs';
import { connect, createServer, type Socket } from 'node:net';

export type RelayEnd =
  | { readonly kind: 'tcp'; readonly host: string; readonly port: number }
  | { readonly kind: 'unix'; readonly path: string };

/** `tcp:HOST:PORT` or `unix:PATH`. */
export function parseRelayEnd(text: string): RelayEnd | undefined {
  if (text.startsWith('unix:') && text.length > 5) return { kind: 'unix', path: text.slice(5) };
  const m = /^tcp:([^:]+):(\d{1,5})$/.exec(text);
  if (!m) return undefined;
  const port = Number(m[2]);
  return port > 0 && port < 65536 ? { kind: 'tcp', host: m[1] ?? '', port } : undefined;
}

function dial(end: RelayEnd): Socket {
  return end.kind === 'tcp' ? connect(end.port, end.host) : connect(end.path);
}

/** Relays every connection accepted on `listen` to a new connection to `to`, until `signal` aborts. */
export async function runRelay(listen: RelayEnd, to: RelayEnd, signal: AbortSignal): Promise<void> {
  const server = createServer((client) => {
    const upstream = dial(to);
    const close = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', close);
    upstream.on('error', close);
    client.pipe(upstream);
    upstream.pipe(client);
  });
  if (listen.kind === 'unix') rmSync(listen.path, { force: true });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    if (listen.kind === 'tcp') server.listen(listen.port, listen.host, resolve);
    else server.listen(listen.path, resolve);
  });
  await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
  server.close();
  if (listen.kind === 'unix') rmSync(listen.path, { force: true });
}
