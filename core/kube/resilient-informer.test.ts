import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type InformerPhase, ResilientInformer } from './resilient-informer.js';
import { KubeApiError, type KubeRestClient, type WatchEvent } from './rest-client.js';

type Obj = { metadata: { name: string; resourceVersion: string }; v?: number };

/** A fake API server: scripted list answers and watch streams, one per call. */
function fakeClient(lists: (() => unknown)[], watches: ((emit: (e: WatchEvent) => void) => Promise<void>)[]) {
  const calls: string[] = [];
  const client = {
    async get(path: string) {
      calls.push(`GET ${path}`);
      const next = lists.shift();
      if (!next) return new Promise(() => {});
      return next();
    },
    async watch(path: string, onEvent: (e: WatchEvent) => void) {
      calls.push(`WATCH ${path}`);
      const next = watches.shift();
      if (!next) return new Promise(() => {});
      return next(onEvent);
    },
  };
  return { client: client as unknown as KubeRestClient, calls };
}

const item = (name: string, rv: string, v = 1): Obj => ({ metadata: { name, resourceVersion: rv }, v });

test('lists, watches, relists after 410 and retries a failed list with backoff', async () => {
  const seen: string[] = [];
  const phases: InformerPhase[] = [];
  let relisted: () => void = () => {};
  const done = new Promise<void>((r) => {
    relisted = r;
  });
  const { client, calls } = fakeClient(
    [
      () => ({ metadata: { resourceVersion: '10' }, items: [item('a', '5')] }),
      () => {
        throw Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
      },
      () => ({ metadata: { resourceVersion: '30' }, items: [item('a', '5'), item('b', '25')] }),
    ],
    [
      async (emit) => {
        emit({ type: 'ADDED', object: item('c', '11') });
        emit({ type: 'MODIFIED', object: item('c', '12', 2) });
        emit({ type: 'BOOKMARK', object: { metadata: { resourceVersion: '13' } } });
        emit({ type: 'DELETED', object: item('c', '14') });
      },
      async (emit) => {
        emit({ type: 'ERROR', object: { code: 410, message: 'too old' } });
      },
    ],
  );
  const informer = new ResilientInformer<number>({
    client,
    path: '/api/v1/pods',
    convert: (raw) => (raw as Obj).v,
    backoff: { initialMs: 1, maxMs: 5, jitter: 0 },
    handlers: {
      onList: (items) => {
        seen.push(`list ${[...items.keys()].join(',')}`);
        if (items.size === 2) relisted();
      },
      onUpsert: (k, v) => seen.push(`upsert ${k}=${v}`),
      onDelete: (k) => seen.push(`delete ${k}`),
      onPhase: (p) => phases.push(p),
    },
  });
  informer.start();
  await done;
  await informer.synced;
  await informer.stop();
  assert.deepEqual(seen, ['list a', 'upsert c=1', 'upsert c=2', 'delete c', 'list a,b']);
  assert.ok(phases.includes('failed'));
  assert.match(calls[1] ?? '', /resourceVersion=10/);
  assert.match(calls[2] ?? '', /resourceVersion=14/, 'the next watch resumes from the last event seen');
});

test('a 410 on a continue token restarts the list from the first page', async () => {
  const lists: string[] = [];
  const { client, calls } = fakeClient(
    [
      () => ({ metadata: { resourceVersion: '1', continue: 'tok' }, items: [item('a', '1')] }),
      () => {
        throw new KubeApiError('GET', '/x', 410, { reason: 'Expired' });
      },
      () => ({ metadata: { resourceVersion: '2' }, items: [item('b', '2')] }),
    ],
    [],
  );
  const informer = new ResilientInformer<number>({
    client,
    path: '/x',
    convert: (raw) => (raw as Obj).v,
    handlers: {
      onList: (items) => lists.push([...items.keys()].join(',')),
      onUpsert: () => {},
      onDelete: () => {},
      onPhase: () => {},
    },
  });
  informer.start();
  await informer.synced;
  await informer.stop();
  assert.deepEqual(lists, ['b'], 'no partial list is ever handed over');
  assert.match(calls[1] ?? '', /continue=tok/);
});
