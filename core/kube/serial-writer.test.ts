import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SerialWriter } from './serial-writer.js';

test('writes never overlap, and the last requested state is the last written', async () => {
  let state = 'Connecting';
  const landed: string[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  // The first write is slow, later ones fast: without serialisation the older state would land last.
  let delay = 50;
  const w = new SerialWriter(async () => {
    const snapshot = state;
    inFlight += 1;
    maxInFlight = Math.max(maxInFlight, inFlight);
    await new Promise((r) => setTimeout(r, delay));
    delay = 1;
    landed.push(snapshot);
    inFlight -= 1;
  });
  state = 'ResyncInProgress';
  const first = w.request();
  state = 'InSync';
  const second = w.request();
  await Promise.all([first, second]);
  assert.equal(maxInFlight, 1);
  assert.equal(landed.at(-1), 'InSync');
  assert.deepEqual(landed, ['ResyncInProgress', 'InSync']);
});

test('requests during one write collapse into one more write', async () => {
  let writes = 0;
  const w = new SerialWriter(async () => {
    writes += 1;
    await new Promise((r) => setTimeout(r, 10));
  });
  await Promise.all([w.request(), w.request(), w.request(), w.request()]);
  assert.equal(writes, 2);
  await w.request();
  assert.equal(writes, 3);
});
