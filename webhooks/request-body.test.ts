import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { PassThrough } from 'node:stream';
import { test } from 'node:test';
import { type RequestBody, readRequestBody } from './request-body.js';

// A request stream with headers: the reader only uses the stream and the headers of an IncomingMessage.
function fakeRequest(headers: Record<string, string> = {}) {
  const stream = new PassThrough();
  return { stream, req: Object.assign(stream, { headers }) as unknown as IncomingMessage };
}

function read(req: IncomingMessage, limit: number): { results: RequestBody[] } {
  const results: RequestBody[] = [];
  readRequestBody(req, limit, (r) => results.push(r));
  return { results };
}

const tick = () => new Promise((r) => setImmediate(r));

test('a body in one or several chunks arrives whole', async () => {
  for (const chunks of [['{"a":1}'], ['{"a"', ':', '1}']]) {
    const { stream, req } = fakeRequest();
    const { results } = read(req, 100);
    for (const c of chunks) stream.write(Buffer.from(c));
    stream.end();
    await tick();
    assert.equal(results.length, 1);
    assert.ok(results[0]!.ok);
    assert.equal(results[0]!.body.toString(), '{"a":1}');
  }
});

test('an empty body is an empty buffer', async () => {
  const { stream, req } = fakeRequest();
  const { results } = read(req, 100);
  stream.end();
  await tick();
  assert.ok(results[0]!.ok);
  assert.equal(results[0]!.body.length, 0);
});

test('a Content-Length over the limit is refused before a byte is read', () => {
  const { stream, req } = fakeRequest({ 'content-length': '101' });
  const { results } = read(req, 100);
  assert.deepEqual(results, [{ ok: false, code: 413, message: 'the body is larger than 100 bytes', close: true }]);
  assert.equal(stream.listenerCount('data'), 0);
});

test('a body without Content-Length is refused once it passes the limit, and reading stops', async () => {
  const { stream, req } = fakeRequest();
  const { results } = read(req, 10);
  stream.write(Buffer.from('123456'));
  stream.write(Buffer.from('789012'));
  stream.write(Buffer.from('345'));
  stream.end();
  await tick();
  assert.equal(results.length, 1);
  assert.equal(results[0]!.ok, false);
  assert.equal(!results[0]!.ok && results[0]!.code, 413);
});

test('a compressed body is refused with 415 (inflating would pass the size bound)', () => {
  const { req } = fakeRequest({ 'content-encoding': 'gzip' });
  const { results } = read(req, 100);
  assert.equal(results.length, 1);
  assert.ok(!results[0]!.ok);
  assert.equal(results[0]!.code, 415);
  assert.match(results[0]!.message, /Content-Encoding gzip is not supported/);
  const identity = fakeRequest({ 'content-encoding': 'Identity' });
  assert.deepEqual(read(identity.req, 100).results, []);
});

test('an aborted request gets no answer and throws nothing', async () => {
  const { stream, req } = fakeRequest();
  const { results } = read(req, 100);
  stream.write(Buffer.from('{"a"'));
  stream.destroy(new Error('aborted'));
  await tick();
  assert.deepEqual(results, []);
});
