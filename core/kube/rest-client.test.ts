import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import {
  createSecureServer,
  type Http2SecureServer,
  type Http2ServerRequest,
  type Http2ServerResponse,
} from 'node:http2';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { describe, test } from 'node:test';
import { KubeConfig } from '@kubernetes/client-node';
import { createCertificateAuthority, issueCertificate } from '../tls/certificates.js';
import {
  KubeApiError,
  KubeRestClient,
  lineSplitter,
  ResponseTooLargeError,
  retryAfterSeconds,
  type WatchEvent,
  WatchStreamError,
} from './rest-client.js';

const ca = createCertificateAuthority('rest-client-test-ca');
const cert = issueCertificate(ca, { commonName: 'rc', ipAddresses: ['127.0.0.1'], usage: 'server' });

type Handler = (req: Http2ServerRequest, res: Http2ServerResponse) => void;

async function serveH2(handler: Handler): Promise<{ server: Http2SecureServer; port: number }> {
  const server = createSecureServer({ cert: cert.certPem, key: cert.keyPem, allowHTTP1: true }, handler);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, port: (server.address() as AddressInfo).port };
}

function clientFor(port: number, http2: boolean, token = 't'): Promise<KubeRestClient> {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'm', server: `https://127.0.0.1:${port}`, caData: Buffer.from(ca.certPem).toString('base64') }],
    users: [{ name: 'u', token }],
    contexts: [{ name: 'c', cluster: 'm', user: 'u' }],
    currentContext: 'c',
  });
  return KubeRestClient.fromKubeConfig(kc, 4, { http2 });
}

const status = (code: number, reason: string) =>
  JSON.stringify({ kind: 'Status', apiVersion: 'v1', status: 'Failure', reason, code, message: `${reason} here` });

for (const http2 of [true, false]) {
  describe(`watch over ${http2 ? 'HTTP/2' : 'HTTP/1.1'}`, () => {
    test('every non-2xx answer rejects with its Status and Retry-After; onOpen only for an accepted watch', async () => {
      const answers: [number, string, Record<string, string>][] = [
        [401, 'Unauthorized', {}],
        [403, 'Forbidden', {}],
        [410, 'Expired', {}],
        [429, 'TooManyRequests', { 'retry-after': '5' }],
        [500, 'InternalError', {}],
        [503, 'ServiceUnavailable', { 'retry-after': '2' }],
      ];
      let next = 0;
      const { server, port } = await serveH2((_req, res) => {
        const [code, reason, headers] = answers[next++] ?? [500, 'InternalError', {}];
        res.writeHead(code, { 'content-type': 'application/json', ...headers }).end(status(code, reason));
      });
      const c = await clientFor(port, http2);
      try {
        for (const [code, reason, headers] of answers) {
          let opened = false;
          await assert.rejects(
            c.watch(
              '/api/v1/pods?watch=1',
              () => {},
              undefined,
              () => {
                opened = true;
              },
            ),
            (e) => {
              assert.ok(e instanceof KubeApiError, `a ${code} is an error, not a normal end`);
              assert.equal(e.statusCode, code);
              assert.equal(e.status.reason, reason);
              assert.equal(e.retryAfterSeconds, headers['retry-after'] ? Number(headers['retry-after']) : undefined);
              return true;
            },
          );
          assert.equal(opened, false);
        }
      } finally {
        c.close();
        server.close();
      }
    });

    test('a line that is not a watch event, or a consumer that throws, fails the watch (never the process)', async () => {
      const bodies = [
        `${JSON.stringify({ type: 'ADDED', object: { metadata: { name: 'a' } } })}\n<html>oops</html>\n`,
        `${JSON.stringify({ type: 'ADDED', object: 'not an object' })}\n`,
        `${JSON.stringify({ type: 'SURPRISE', object: {} })}\n`,
        `${JSON.stringify({ type: 'ADDED', object: { metadata: { name: 'boom' } } })}\n`,
      ];
      let next = 0;
      const { server, port } = await serveH2((_req, res) => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.write(bodies[next++] ?? '');
        // Held open: the client must end it itself.
      });
      const c = await clientFor(port, http2);
      try {
        for (const expected of ['BadWatchLine', 'BadWatchLine', 'BadWatchLine', 'HandlerFailed']) {
          const seen: string[] = [];
          let opened = false;
          await assert.rejects(
            c.watch(
              '/w?watch=1',
              (ev: WatchEvent) => {
                const name = String((ev.object.metadata as { name?: string } | undefined)?.name ?? '');
                if (name === 'boom') throw new TypeError('cannot read properties of null');
                seen.push(name);
              },
              undefined,
              () => {
                opened = true;
              },
            ),
            (e) => e instanceof WatchStreamError && e.reason === expected,
          );
          assert.ok(opened);
          if (next === 1) assert.deepEqual(seen, ['a'], 'events before the bad line are delivered');
        }
      } finally {
        c.close();
        server.close();
      }
    });

    test('an answer without end is cancelled past the size limit, and a watch line without end past the line limit', async () => {
      // A server that never stops sending: a list body, or one watch line with no newline (1 MiB a write).
      const piece = 'x'.repeat(1024 * 1024);
      const { server, port } = await serveH2((req, res) => {
        res.writeHead(200, { 'content-type': 'application/json' });
        let sent = 0;
        const more = () => {
          // Bounded, so that a client that does not stop cannot keep the test busy: 40 MiB at most.
          while (sent < 40 && res.write(req.url?.includes('watch') ? piece : `"${piece}",`)) sent++;
          if (sent < 40) res.once('drain', more);
        };
        more();
      });
      const c = await clientFor(port, http2);
      const delay = monitorEventLoopDelay({ resolution: 10 });
      delay.enable();
      try {
        const started = Date.now();
        await assert.rejects(
          c.request('GET', '/api/v1/pods?limit=500', { maxResponseChars: 8 * 1024 * 1024 }),
          (e) =>
            e instanceof ResponseTooLargeError && e.limit === 8 * 1024 * 1024 && /larger than 8388608/.test(e.message),
        );
        await assert.rejects(
          c.watch('/api/v1/pods?watch=1', () => {}),
          (e) =>
            e instanceof WatchStreamError &&
            e.reason === 'BadWatchLine' &&
            /a line longer than 16777216/.test(e.message),
        );
        assert.ok(Date.now() - started < 10_000, 'both ended long before the server stopped sending');
        // Searching the whole buffer again per chunk stalled the event loop for seconds at this size.
        assert.ok(delay.max / 1e6 < 1000, `event loop delay ${Math.round(delay.max / 1e6)} ms`);
      } finally {
        delay.disable();
        c.close();
        server.close();
      }
    });

    test('a normal end resolves; an abort resolves', async () => {
      const { server, port } = await serveH2((req, res) => {
        res.writeHead(200, { 'content-type': 'application/json' });
        if (req.url?.includes('hold')) return;
        res.end(`${JSON.stringify({ type: 'BOOKMARK', object: { metadata: { resourceVersion: '9' } } })}\n`);
      });
      const c = await clientFor(port, http2);
      try {
        const events: WatchEvent[] = [];
        await c.watch('/w?watch=1', (e) => events.push(e));
        assert.equal(events.length, 1);
        const ac = new AbortController();
        const held = c.watch('/w?watch=1&hold=1', () => {}, ac.signal);
        setTimeout(() => ac.abort(), 50);
        await held;
      } finally {
        c.close();
        server.close();
      }
    });
  });
}

test('Retry-After: seconds or an HTTP date', () => {
  assert.equal(retryAfterSeconds('5'), 5);
  assert.equal(retryAfterSeconds(['7']), 7);
  assert.equal(retryAfterSeconds(undefined), undefined);
  assert.equal(retryAfterSeconds('soon'), undefined);
  assert.equal(retryAfterSeconds(new Date(10_000).toUTCString(), 0), 10);
});

test('a token file is read again after a 401 (a rotated ServiceAccount token), not only once', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'fedmesh-token-'));
  const file = join(dir, 'token');
  writeFileSync(file, 'old-token\n');
  const seen: string[] = [];
  const { server, port } = await serveH2((req, res) => {
    const auth = String(req.headers.authorization ?? '');
    seen.push(auth);
    if (auth !== 'Bearer new-token') {
      res.writeHead(401, { 'content-type': 'application/json' }).end(status(401, 'Unauthorized'));
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
  });
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'm', server: `https://127.0.0.1:${port}`, caData: Buffer.from(ca.certPem).toString('base64') }],
    // What loadFromCluster() builds in a pod.
    users: [{ name: 'u', authProvider: { name: 'tokenFile', config: { tokenFile: file } } }],
    contexts: [{ name: 'c', cluster: 'm', user: 'u' }],
    currentContext: 'c',
  });
  const c = await KubeRestClient.fromKubeConfig(kc, 4, { http2: true });
  try {
    await assert.rejects(c.get('/x'), (e) => e instanceof KubeApiError && e.statusCode === 401);
    writeFileSync(file, 'new-token\n');
    await new Promise((r) => setTimeout(r, 5));
    await assert.rejects(c.get('/x'), (e) => e instanceof KubeApiError && e.statusCode === 401);
    assert.deepEqual(await c.get('/x'), {}, 'the request after a 401 carries the token as the file has it now');
    assert.deepEqual(seen, ['Bearer old-token', 'Bearer old-token', 'Bearer new-token']);
  } finally {
    c.close();
    server.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the line splitter: lines split anywhere across chunks, blank lines skipped, a line past the limit ends it', () => {
  const lines: string[] = [];
  let tooLong = 0;
  const feed = lineSplitter(
    10,
    () => tooLong++,
    (l) => lines.push(l),
  );
  for (const chunk of ['{"a"', ':1}\n\n  \n{"b":2}\n{', '"c"', ':3}\n']) feed(chunk);
  assert.deepEqual(lines, ['{"a":1}', '{"b":2}', '{"c":3}']);
  assert.equal(tooLong, 0);
  feed('0123456');
  feed('789abc');
  assert.equal(tooLong, 1, 'a line growing past 10 characters across chunks');
  feed('\n{"d":4}\n');
  assert.deepEqual(lines, ['{"a":1}', '{"b":2}', '{"c":3}'], 'nothing after it is taken');
  const whole = lineSplitter(
    10,
    () => tooLong++,
    (l) => lines.push(l),
  );
  whole('0123456789abcdef\n');
  assert.equal(tooLong, 2, 'a line past the limit inside one chunk');
});
