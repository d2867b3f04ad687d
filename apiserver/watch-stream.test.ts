import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import type { ServerResponse } from 'node:http';
import { test } from 'node:test';
import { WatchStream } from './watch-stream.js';

/** A response whose client reads only when told to. */
class FakeResponse extends EventEmitter {
  writableLength = 0;
  written = 0;
  destroyed = false;
  write(text: string): boolean {
    this.writableLength += text.length;
    this.written += text.length;
    return this.writableLength < 16 * 1024;
  }
  read(): void {
    this.writableLength = 0;
    this.emit('drain');
  }
  destroy(): void {
    this.destroyed = true;
  }
}

function* numbered(n: number, pulled: { count: number }): Generator<string> {
  for (let i = 0; i < n; i++) {
    pulled.count++;
    yield `${JSON.stringify({ type: 'ADDED', object: { i, pad: 'x'.repeat(1000) } })}\n`;
  }
}

const options = { highWaterBytes: 64 * 1024, stallTimeoutMs: 200, maxQueuedEvents: 100 };

test('watch stream: the replay is rendered only as fast as the client reads', () => {
  const res = new FakeResponse();
  const stream = new WatchStream(res as unknown as ServerResponse, options, () => {});
  const pulled = { count: 0 };
  stream.enqueue(numbered(20_000, pulled), 1);
  assert.ok(res.written <= 64 * 1024 + 1100, `${res.written} bytes buffered for a client that reads nothing`);
  assert.ok(pulled.count < 70, `${pulled.count} events rendered ahead`);
  res.read();
  assert.ok(pulled.count < 140);
  for (let i = 0; i < 400; i++) res.read();
  assert.equal(pulled.count, 20_000);
  stream.close();
});

test('watch stream: a client stuck with events waiting is cut after the stall timeout; one that reads is not', async () => {
  const stuck = new FakeResponse();
  const cuts: string[] = [];
  const s1 = new WatchStream(stuck as unknown as ServerResponse, options, (why) => cuts.push(why));
  s1.enqueue(numbered(1000, { count: 0 }), 1);
  const reading = new FakeResponse();
  const s2 = new WatchStream(reading as unknown as ServerResponse, options, (why) => cuts.push(`reader: ${why}`));
  s2.enqueue(numbered(1000, { count: 0 }), 1);
  const reader = setInterval(() => reading.read(), 20);
  await new Promise((r) => setTimeout(r, 500));
  clearInterval(reader);
  assert.deepEqual(cuts, ['the client read nothing for 0.2 s']);
  assert.ok(stuck.destroyed);
  assert.ok(!reading.destroyed);
  s2.close();
});

test('watch stream: too many live events waiting cut the watch at once', () => {
  const res = new FakeResponse();
  const cuts: string[] = [];
  const stream = new WatchStream(res as unknown as ServerResponse, options, (why) => cuts.push(why));
  stream.enqueue(numbered(100, { count: 0 }), 1); // fills the buffer
  for (let i = 0; i < 20; i++) stream.enqueue(numbered(10, { count: 0 }), 10);
  assert.deepEqual(cuts, ['more than 100 events waiting for the client']);
  assert.ok(res.destroyed);
});
