import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, IncomingMessage, request, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import express from 'express';
import { expressPrototypeOptions } from './express-prototypes.js';

test("requests and responses arrive with the app's prototypes, and express works on them as before", async () => {
  const app = express();
  app.post('/echo/:name', express.raw({ type: () => true }), (req, res) => {
    res.json({ name: req.params.name, body: String(req.body), query: req.query.q });
  });
  const server = createServer(expressPrototypeOptions(app), app);
  const arrived: boolean[] = [];
  // Runs before express: what Node's server made, before any prototype swap.
  server.prependListener('request', (req, res) => {
    arrived.push(Object.getPrototypeOf(req) === app.request && Object.getPrototypeOf(res) === app.response);
    assert.ok(req instanceof IncomingMessage && res instanceof ServerResponse);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  try {
    const answer = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = request(
        { host: '127.0.0.1', port: (server.address() as AddressInfo).port, path: '/echo/x?q=1', method: 'POST' },
        (res) => {
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (c: string) => {
            body += c;
          });
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        },
      );
      req.on('error', reject);
      req.end('hello');
    });
    assert.equal(answer.status, 200);
    assert.deepEqual(JSON.parse(answer.body), { name: 'x', body: 'hello', query: '1' });
    assert.deepEqual(arrived, [true]);
  } finally {
    server.close();
  }
});
