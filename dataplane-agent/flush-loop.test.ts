import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FlushLoop } from './flush-loop.js';

/** Waits (in event-loop turns, no timers) until `cond` holds; fails after `ms`. */
async function until(cond: () => boolean, what: string, ms = 2000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) assert.fail(`not within ${ms} ms: ${what}`);
    await new Promise((r) => setImmediate(r));
  }
}

/** A sleep that never ends by itself: a backoff lasts until the loop stops, so any delay it causes shows. */
function heldSleeps() {
  const waits: number[] = [];
  const sleep = (ms: number, signal: AbortSignal) => {
    waits.push(ms);
    return new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
  };
  return { waits, sleep };
}

for (const failing of ['overlay', 'nft'] as const) {
  const healthy = failing === 'overlay' ? 'nft' : 'overlay';
  test(`while the ${failing} driver keeps failing (backing off), every change still reaches the ${healthy} driver at once`, async () => {
    const runs = { nft: 0, overlay: 0 };
    const { waits, sleep } = heldSleeps();
    const loop = new FlushLoop(
      {
        nft: async () => {
          runs.nft++;
          return failing !== 'nft';
        },
        overlay: async () => {
          runs.overlay++;
          return failing !== 'overlay';
        },
      },
      { sleep },
    );
    loop.schedule();
    await until(() => runs[healthy] === 1 && waits.length === 1, 'the first flush');
    for (let change = 2; change <= 5; change++) {
      loop.schedule();
      await until(() => runs[healthy] === change, `change ${change} applied by the ${healthy} driver`);
    }
    assert.equal(runs[failing], 1, `the ${failing} driver waits out its backoff before it is tried again`);
    assert.deepEqual(waits, [200]);
    await loop.stop();
  });
}

test('a failing step is retried with a doubling backoff, capped, and reset by a success', async () => {
  const waits: number[] = [];
  let results = [false, false, false, false, false, false, false, false, true, false];
  let runs = 0;
  const loop = new FlushLoop(
    {
      overlay: async () => {
        runs++;
        const [ok = true, ...rest] = results;
        results = rest;
        return ok;
      },
    },
    {
      sleep: async (ms) => {
        waits.push(ms);
      },
    },
  );
  loop.schedule();
  await until(() => runs === 9, 'every retry up to the success');
  loop.schedule();
  await until(() => runs === 11, 'the next failure and its retry');
  assert.deepEqual(waits, [200, 400, 800, 1600, 3200, 6400, 10_000, 10_000, 200]);
  await loop.stop();
});

test('stop ends a backoff at once, and a step that throws counts as a failure and is reported', async () => {
  const errors: unknown[] = [];
  const { sleep } = heldSleeps();
  let runs = 0;
  const loop = new FlushLoop(
    {
      nft: async () => {
        runs++;
        throw new Error('boom');
      },
    },
    { sleep, onStepError: (step, err) => errors.push([step, (err as Error).message]) },
  );
  loop.schedule();
  await until(() => errors.length === 1, 'the error reported');
  assert.deepEqual(errors, [['nft', 'boom']]);
  await loop.stop();
  loop.schedule();
  await new Promise((r) => setImmediate(r));
  assert.equal(runs, 1, 'nothing runs after stop');
});
