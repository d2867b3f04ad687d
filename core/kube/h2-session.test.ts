import assert from 'node:assert/strict';
import { createSecureServer, type Http2SecureServer } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { KubeConfig } from '@kubernetes/client-node';
import { createCertificateAuthority, issueCertificate } from '../tls/certificates.js';
import { H2Session } from './h2-session.js';
import { KubeApiError, KubeRestClient, type WatchEvent } from './rest-client.js';

const ca = createCertificateAuthority('h2-test-ca');
const cert = issueCertificate(ca, { commonName: 'h2', ipAddresses: ['127.0.0.1'], usage: 'server' });

async function serve(
  handler: Parameters<typeof createSecureServer>[1],
): Promise<{ server: Http2SecureServer; port: number }> {
  const server = createSecureServer({ cert: cert.certPem, key: cert.keyPem }, handler);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, port: (server.address() as AddressInfo).port };
}

function client(port: number): Promise<KubeRestClient> {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'm', server: `https://127.0.0.1:${port}`, caData: Buffer.from(ca.certPem).toString('base64') }],
    users: [{ name: 'u', token: 't' }],
    contexts: [{ name: 'c', cluster: 'm', user: 'u' }],
    currentContext: 'c',
  });
  return KubeRestClient.fromKubeConfig(kc, 4, { http2: true });
}

test('over HTTP/2: requests, Status errors, and watch events split across frames share one connection', async () => {
  const sessions = new Set<unknown>();
  const { server, port } = await serve((req, res) => {
    sessions.add(req.stream.session);
    if (req.url === '/ok') {
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"a":1}');
      return;
    }
    if (req.url === '/gone') {
      res.writeHead(404, { 'content-type': 'application/json' }).end('{"kind":"Status","reason":"NotFound"}');
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    const ev = JSON.stringify({ type: 'ADDED', object: { metadata: { name: 'é' } } });
    res.write(`${ev}\n${ev.slice(0, 10)}`);
    setTimeout(() => res.end(`${ev.slice(10)}\n`), 20);
  });
  const c = await client(port);
  try {
    assert.deepEqual(await c.get('/ok'), { a: 1 });
    await assert.rejects(c.get('/gone'), (e) => e instanceof KubeApiError && e.status.reason === 'NotFound');
    const events: WatchEvent[] = [];
    await c.watch('/w?watch=1', (e) => events.push(e));
    assert.deepEqual(
      events.map((e) => (e.object.metadata as { name: string }).name),
      ['é', 'é'],
    );
    assert.equal(sessions.size, 1);
  } finally {
    c.close();
    server.close();
  }
});

test('over HTTP/2: a refused connection fails with its own code, and a reset cuts a hung stream', async () => {
  const { server, port } = await serve(() => {
    // Never answers: a hung server.
  });
  const c = await client(port);
  try {
    const hung = c.get('/hung');
    await new Promise((r) => setTimeout(r, 50));
    c.resetConnections();
    await assert.rejects(hung);
  } finally {
    c.close();
    server.close();
  }
  const refused = await client(port);
  await assert.rejects(refused.get('/x'), (e) => (e as { code?: string }).code === 'ECONNREFUSED');
  refused.close();
});

test('a session destroyed before its connect event is no crash', async () => {
  const { server, port } = await serve((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
  });
  const pool = new H2Session(`https://127.0.0.1:${port}`, { ca: ca.certPem });
  try {
    const stream = pool.request({ ':path': '/' }, { endStream: true });
    stream.on('error', () => {});
    // Destroyed in the tick between the handshake and the 'connect' event, before the pool's own listener runs.
    stream.session?.prependOnceListener('connect', () => stream.session?.destroy());
    await new Promise<void>((r) => stream.once('close', () => r()));
    await new Promise((r) => setImmediate(r));
  } finally {
    pool.close();
    server.close();
  }
});
