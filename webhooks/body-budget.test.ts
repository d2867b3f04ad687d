import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer } from 'node:http';
import { type AddressInfo, connect, type Socket } from 'node:net';
import { after, test } from 'node:test';
import express from 'express';
import { BodyBudget, holdBodyBudget } from './body-budget.js';

const budget = new BodyBudget(10_000);
const app = express();
app.post(
  '/validate/x',
  holdBodyBudget(budget, (res, message) => {
    res.status(429).set('Retry-After', '1').json({ message });
  }),
  express.raw({ type: () => true, limit: 8_000 }),
  (req, res) => {
    res.json({ bytes: (req.body as Buffer).length });
  },
);
const server = createServer(app);
server.listen(0, '127.0.0.1');
await once(server, 'listening');
const port = (server.address() as AddressInfo).port;
after(() => server.close());

/** Sends the headers and `sent` bytes of a body of `length`; returns the socket and what it receives. */
async function partial(length: number, sent: number): Promise<{ socket: Socket; answer: Promise<string> }> {
  const socket = connect(port, '127.0.0.1');
  await once(socket, 'connect');
  socket.write(`POST /validate/x HTTP/1.1\r\nHost: x\r\nContent-Length: ${length}\r\n\r\n${'a'.repeat(sent)}`);
  const answer = new Promise<string>((resolve) => {
    let text = '';
    socket.on('data', (c) => {
      text += c;
      if (text.includes('\r\n\r\n') && /}$/.test(text)) resolve(text);
    });
    socket.on('close', () => resolve(text));
  });
  return { socket, answer };
}

test('bytes are charged as they arrive: a request that would go over gets 429 with Retry-After, a silent one holds nothing', async () => {
  const silent = await partial(7_000, 0); // declares a body, sends none of it
  const slow = await partial(7_000, 6_000); // most of a body, the rest later
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(budget.inUse, 6_000, 'what arrived, not what was declared');
  const refused = await partial(7_000, 7_000);
  const text = await refused.answer;
  assert.match(text, /^HTTP\/1.1 429/);
  assert.match(text, /Retry-After: 1/i);
  assert.match(text, /Connection: close/i);
  assert.match(text, /holds 6000 bytes of request bodies already/);
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(budget.inUse, 6_000, 'the refused request holds nothing');
  // The slow body completes: its bytes are given back, and the next request fits.
  slow.socket.write('a'.repeat(1_000));
  assert.match(await slow.answer, /"bytes":7000/);
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(budget.inUse, 0);
  const fits = await partial(7_000, 7_000);
  assert.match(await fits.answer, /^HTTP\/1.1 200/);
  for (const s of [silent, slow, refused, fits]) s.socket.destroy();
});

test('a connection that goes mid-body gives its bytes back', async () => {
  const gone = await partial(7_500, 3_000);
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(budget.inUse, 3_000);
  gone.socket.destroy();
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(budget.inUse, 0);
});

test('a body parser given as `then` reads the body inside the middleware; a refused request never reaches the handler', async () => {
  const small = new BodyBudget(1_000);
  let parsed = 0;
  let handled = 0;
  const one = express();
  one.post(
    '/x',
    holdBodyBudget(
      small,
      (res, message) => {
        res.status(429).json({ message });
      },
      (req, res, next) => {
        parsed++;
        express.raw({ type: () => true })(req, res, next);
      },
    ),
    (req, res) => {
      handled++;
      res.json({ bytes: (req.body as Buffer).length, held: small.inUse });
    },
  );
  const s = createServer(one).listen(0, '127.0.0.1');
  await once(s, 'listening');
  const ask = async (length: number) => {
    const socket = connect((s.address() as AddressInfo).port, '127.0.0.1');
    await once(socket, 'connect');
    socket.end(
      `POST /x HTTP/1.1\r\nHost: x\r\nContent-Length: ${length}\r\nConnection: close\r\n\r\n${'b'.repeat(length)}`,
    );
    let text = '';
    for await (const c of socket) text += c;
    return text;
  };
  try {
    assert.match(await ask(600), /"bytes":600,"held":600/);
    assert.match(await ask(1_200), /^HTTP\/1.1 429/);
    assert.equal(parsed, 2, 'both bodies went to the parser as they came');
    assert.equal(handled, 1);
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(small.inUse, 0);
  } finally {
    s.close();
  }
});
