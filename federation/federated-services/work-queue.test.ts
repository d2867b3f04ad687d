import assert from 'node:assert/strict';
import { test } from 'node:test';
import { KubeApiError } from '../../core/kube/rest-client.js';
import { WorkQueue } from './work-queue.js';

const tick = () => new Promise((r) => setImmediate(r));

test('a key marked many times syncs once; never twice at the same time; marked while running, once more after', async () => {
  const runs: string[] = [];
  let active = 0;
  let maxActive = 0;
  let release: () => void = () => {};
  const q = new WorkQueue({
    mayRun: () => true,
    onError: () => assert.fail('no error expected'),
    sync: async (key) => {
      runs.push(key);
      active++;
      maxActive = Math.max(maxActive, active);
      await new Promise<void>((r) => {
        release = r;
      });
      active--;
    },
  });
  q.add('a');
  q.add('a');
  q.add('a');
  await tick();
  q.add('a'); // while it runs
  await tick();
  assert.deepEqual(runs, ['a']);
  release();
  await tick();
  await tick();
  assert.deepEqual(runs, ['a', 'a']);
  release();
  await q.idle();
  assert.equal(maxActive, 1);
});

test('nothing runs while mayRun says no; kick() starts what waited', async () => {
  let may = false;
  const runs: string[] = [];
  const q = new WorkQueue({ mayRun: () => may, onError: () => {}, sync: async (k) => void runs.push(k) });
  q.add('x');
  await tick();
  assert.deepEqual(runs, []);
  may = true;
  q.kick();
  await q.idle();
  assert.deepEqual(runs, ['x']);
});

test('a failed sync is retried with backoff, a conflict soon; errors are reported, not thrown', async () => {
  const errors: { attempt: number; retryInMs: number }[] = [];
  let calls = 0;
  const q = new WorkQueue({
    mayRun: () => true,
    backoff: { initialMs: 5, maxMs: 20, jitter: 0 },
    onError: (_k, attempt, retryInMs) => errors.push({ attempt, retryInMs }),
    sync: async () => {
      calls++;
      if (calls === 1) throw new KubeApiError('PUT', '/x', 409, { reason: 'Conflict' });
      if (calls <= 3) throw new Error('boom');
    },
  });
  const keepAlive = setInterval(() => {}, 1000); // retry timers do not hold the process open
  q.add('k');
  await q.idle();
  clearInterval(keepAlive);
  assert.equal(calls, 4);
  assert.deepEqual(errors, [
    { attempt: 0, retryInMs: 50 },
    { attempt: 1, retryInMs: 10 },
    { attempt: 2, retryInMs: 20 },
  ]);
});

test('a change syncs as soon as the callback that marked it returns, before other I/O; a burst syncs once', async () => {
  const runs: string[] = [];
  const q = new WorkQueue({ mayRun: () => true, onError: () => {}, sync: async (k) => void runs.push(k) });
  let immediate = false;
  setImmediate(() => {
    immediate = true;
  });
  // One callback (a watch chunk) marks a, b and a again.
  q.add('a');
  q.add('b');
  q.add('a');
  assert.deepEqual(runs, [], 'not inside the callback');
  await Promise.resolve();
  assert.deepEqual(runs, ['a', 'b']);
  assert.equal(immediate, false, 'before the next turn of the event loop');
  await q.idle();
});
