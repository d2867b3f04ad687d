import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, test } from 'node:test';
import { gzipSync } from 'node:zlib';
import express, { type NextFunction, type Request, type Response } from 'express';
import { readBody } from './read-body.js';

const LIMIT = 64 * 1024;
const app = express();
app.post('/echo', readBody(LIMIT), (req, res) => {
  const body = req.body as unknown;
  res.json({ buffer: Buffer.isBuffer(body), hex: Buffer.isBuffer(body) ? body.toString('hex') : null });
});
app.use((err: { status?: number; message: string }, _req: Request, res: Response, _next: NextFunction) => {
  res.status(err.status ?? 500).json({ error: err.message });
});
const server = createServer(app);
server.listen(0, '127.0.0.1');
await once(server, 'listening');
const port = (server.address() as AddressInfo).port;
after(() => server.close());

/** POSTs the body in the given pieces (each its own write), with the headers given. */
function send(
  pieces: readonly Buffer[],
  headers: Record<string, string | number>,
): Promise<{ status: number; body: { buffer?: boolean; hex?: string | null; error?: string } }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/echo', method: 'POST', headers }, (res) => {
      let text = '';
      res.on('data', (c) => {
        text += c;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) }));
    });
    req.on('error', reject);
    // Separate writes a tick apart, so that the server reads them as separate chunks.
    const write = (i: number) => {
      if (i === pieces.length) req.end();
      else req.write(pieces[i], () => setImmediate(() => write(i + 1)));
    };
    write(0);
  });
}

const bytes = (n: number, seed: number) => Buffer.from(Array.from({ length: n }, (_, i) => (i * 31 + seed) % 256));

test('a body with a Content-Length arrives whole as a Buffer, in one chunk or many', async () => {
  const one = bytes(1200, 1);
  const r1 = await send([one], { 'Content-Length': one.length });
  assert.deepEqual(r1, { status: 200, body: { buffer: true, hex: one.toString('hex') } });
  const parts = [bytes(10_000, 2), bytes(1, 3), bytes(30_000, 4)];
  const all = Buffer.concat(parts);
  const r2 = await send(parts, { 'Content-Length': all.length });
  assert.deepEqual(r2, { status: 200, body: { buffer: true, hex: all.toString('hex') } });
});

test('what the fast path does not take is read by express.raw as before', async () => {
  // Chunked (no Content-Length).
  const chunked = bytes(5000, 5);
  assert.deepEqual(await send([chunked.subarray(0, 100), chunked.subarray(100)], {}), {
    status: 200,
    body: { buffer: true, hex: chunked.toString('hex') },
  });
  // An encoded body is inflated.
  const plain = bytes(3000, 6);
  const gz = gzipSync(plain);
  assert.deepEqual(await send([gz], { 'Content-Length': gz.length, 'Content-Encoding': 'gzip' }), {
    status: 200,
    body: { buffer: true, hex: plain.toString('hex') },
  });
  // Over the limit: 413 before the body is read.
  const big = await send([bytes(LIMIT + 1, 7)], { 'Content-Length': LIMIT + 1 });
  assert.equal(big.status, 413);
  // An unknown encoding: 415.
  assert.equal((await send([bytes(10, 8)], { 'Content-Length': 10, 'Content-Encoding': 'x-nope' })).status, 415);
  // Empty: an empty Buffer.
  assert.deepEqual(await send([], { 'Content-Length': 0 }), { status: 200, body: { buffer: true, hex: '' } });
});
