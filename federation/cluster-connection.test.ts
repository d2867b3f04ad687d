import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import type { BackoffPolicy } from '../core/kube/backoff.js';
import { KubeApiError, type KubeRestClient, WatchStreamError } from '../core/kube/rest-client.js';
import { parseWatchLine } from '../core/kube/watch-event.js';
import type { RefusedObject } from './cluster-connection.js';
import { ClusterConnection } from './cluster-connection.js';
import type { DerivedState } from './cluster-state.js';
import { MeshCache } from './mesh-cache.js';
import { fakeKubeClient, goodObjects, openWatch, quietLog, withField } from './test-support.js';
import { watchedResources } from './watched-resources.js';

/**
 * A remote API server as the informers see it (the transport is rest-client's, tested on its own): lists answer
 * at once, each watch replays `lines` through the real line parser, as rest-client does, then stays open.
 */
function remote(lines: (resource: string) => string[], watchError?: (path: string) => unknown): KubeRestClient {
  return fakeKubeClient({
    async watch(path, onEvent, signal, onOpen) {
      const err = watchError?.(path);
      if (err) throw err;
      onOpen?.();
      for (const l of lines(path)) {
        const parsed = parseWatchLine(l);
        if ('problem' in parsed) throw new WatchStreamError(path, 'BadWatchLine', parsed.problem);
        try {
          onEvent(parsed.event);
        } catch (e) {
          throw new WatchStreamError(path, 'HandlerFailed', String(e), { cause: e });
        }
      }
      await openWatch(path, onEvent, signal);
    },
  });
}

/** A connection to `west` that reports nothing and does not probe. */
function quietConnection(client: KubeRestClient, cache: MeshCache, backoff?: BackoffPolicy): ClusterConnection {
  return new ClusterConnection({
    cluster: 'west',
    client,
    cache,
    log: quietLog,
    onState: () => {},
    probeIntervalMs: 0,
    ...(backoff ? { backoff } : {}),
  });
}

async function settle(conn: ClusterConnection, until: (s: DerivedState) => boolean): Promise<DerivedState> {
  for (let i = 0; i < 200 && !until(conn.state); i++) await new Promise((r) => setTimeout(r, 5));
  return conn.state;
}

/** A connection whose pod watch replays `lines`, until it is InSync or has failed; then stopped. */
async function replayPodWatch(
  lines: string[],
  cache: MeshCache,
): Promise<{ state: DerivedState; conn: ClusterConnection }> {
  const conn = new ClusterConnection({
    cluster: 'west',
    client: remote((path) => (path.startsWith(watchedResources[0]?.path ?? '') ? lines : [])),
    cache,
    log: quietLog,
    onState: () => {},
    probeIntervalMs: 0,
    backoff: { initialMs: 10_000, maxMs: 10_000, jitter: 0 },
  });
  conn.start();
  const state = await settle(conn, (d) => d.state === 'InSync' || d.state === 'ConnectionFailed');
  await conn.stop();
  return { state, conn };
}

test('a refused watch of one resource: the cluster is ConnectionFailed and its message names the watch', async () => {
  const cache = new MeshCache();
  const restarts: string[] = [];
  const conn = new ClusterConnection({
    cluster: 'west',
    client: remote(
      () => [],
      (path) =>
        path.startsWith('/api/v1/pods')
          ? new KubeApiError('GET', path, 403, { reason: 'Forbidden', message: 'pods is forbidden' })
          : undefined,
    ),
    cache,
    log: quietLog,
    onState: () => {},
    onRestart: (resource, reason) => restarts.push(`${resource} ${reason}`),
    probeIntervalMs: 0,
    backoff: { initialMs: 1000, maxMs: 1000, jitter: 0 },
  });
  conn.start();
  const s = await settle(conn, (d) => d.state === 'ConnectionFailed');
  await conn.stop();
  assert.equal(s.state, 'ConnectionFailed');
  assert.equal(s.reason, 'Forbidden');
  assert.match(s.message, /missing permission: watch pods/);
  assert.deepEqual(restarts, ['pods Forbidden']);
  const pods = conn.resources().find((r) => r.resource === 'pods');
  assert.equal(pods?.listed, true, 'the list worked: what it brought is kept');
});

test('fuzz: whatever a remote writes on its watches, the connection never throws and says why it failed', async () => {
  const event = fc.record({
    type: fc.constantFrom('ADDED', 'MODIFIED', 'DELETED', 'BOOKMARK', 'ERROR'),
    object: fc.oneof(
      fc.object(),
      fc.record(
        {
          metadata: fc.record(
            { name: fc.string(), namespace: fc.string(), uid: fc.string(), labels: fc.object() },
            { requiredKeys: [] },
          ),
          spec: fc.object(),
          status: fc.object(),
        },
        { requiredKeys: [] },
      ),
    ),
  });
  const line = fc.oneof(
    event.map((e) => JSON.stringify(e)),
    fc.string(),
    fc.jsonValue().map((v) => JSON.stringify(v)),
  );
  await fc.assert(
    fc.asyncProperty(fc.array(line, { maxLength: 6 }), async (lines) => {
      const { state: s } = await replayPodWatch(lines, new MeshCache());
      assert.ok(s.state === 'InSync' || s.state === 'ConnectionFailed', s.state);
      if (s.state === 'ConnectionFailed') {
        assert.ok(['BadResponse', 'ServerError', 'Error'].includes(s.reason), s.reason);
        assert.match(s.message, /pods/);
      }
    }),
    { numRuns: 150 },
  );
});

const pod = (name: string) => ({
  metadata: { name, namespace: 'shop', uid: `uid-${name}`, resourceVersion: '1' },
  spec: { nodeName: 'n' },
  status: { podIP: '10.0.0.1', podIPs: [{ ip: '10.0.0.1' }] },
});

test('a withdrawn resource comes back whole: its next try is a full list, not a watch from where it was', async () => {
  const cache = new MeshCache();
  let refuse = true;
  const podLists: number[] = [];
  const client = fakeKubeClient({
    async get(path: string) {
      if (path.startsWith('/api/v1/pods')) podLists.push(Date.now());
      return { metadata: { resourceVersion: '1' }, items: path.startsWith('/api/v1/pods') ? [pod('a'), pod('b')] : [] };
    },
    async watch(path, onEvent, signal, onOpen) {
      if (refuse && path.startsWith('/api/v1/pods')) throw new KubeApiError('GET', path, 403, { reason: 'Forbidden' });
      await openWatch(path, onEvent, signal, onOpen);
    },
  });
  const conn = quietConnection(client, cache, { initialMs: 30, maxMs: 30, jitter: 0 });
  conn.start();
  await settle(conn, (d) => d.state === 'ConnectionFailed');
  assert.equal(cache.counts('west').WorkloadEndpoint, 2);
  conn.withdraw('pods');
  assert.equal(cache.counts('west').WorkloadEndpoint, 0, 'withdrawn');
  assert.equal(conn.resources().find((r) => r.resource === 'pods')?.withdrawn, true);
  assert.equal(cache.counts('west').Namespace + cache.counts('west').HostEndpoint, 0);
  const listsBefore = podLists.length;
  refuse = false;
  const s = await settle(conn, (d) => d.state === 'InSync');
  await conn.stop();
  assert.equal(s.state, 'InSync');
  assert.ok(podLists.length > listsBefore, 'listed again');
  assert.equal(cache.counts('west').WorkloadEndpoint, 2, 'every pod is back');
});

test('stopped while a list is in flight: nothing it brings reaches the cache', async () => {
  const cache = new MeshCache();
  let answer: (v: unknown) => void = () => {};
  const client = fakeKubeClient({
    get: (path: string) =>
      path.startsWith('/api/v1/pods')
        ? new Promise((r) => (answer = r))
        : Promise.resolve({ metadata: { resourceVersion: '1' }, items: [] }),
  });
  const conn = quietConnection(client, cache);
  conn.start();
  await new Promise((r) => setTimeout(r, 20));
  const stopped = conn.stop();
  answer({ metadata: { resourceVersion: '2' }, items: [pod('late')] });
  await stopped;
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(cache.counts('west').WorkloadEndpoint, 0);
});

test('a malformed object is refused alone: the rest of its list and the other resources carry on, the status names it', async () => {
  const cache = new MeshCache();
  const good = (name: string, ip: string) =>
    withField(withField(goodObjects.Pod, ['metadata', 'name'], name), ['status', 'podIPs'], [{ ip }]);
  const hostile = withField(good('evil', '10.0.0.9'), ['status', 'podIPs', 0, 'ip'], 167772169);
  const refusals: string[] = [];
  let emit: (line: string) => void = () => {};
  // Two good pods and a bad one, a Service; a pod watch the test writes to through the real line parser.
  const live = new ClusterConnection({
    cluster: 'west',
    client: fakeKubeClient({
      async get(path: string) {
        const items = path.startsWith('/api/v1/pods')
          ? [good('a', '10.0.0.1'), hostile, good('b', '10.0.0.2')]
          : path.startsWith('/api/v1/services')
            ? [goodObjects.Service]
            : [];
        return { metadata: { resourceVersion: '1' }, items };
      },
      async watch(path, onEvent, signal, onOpen) {
        if (path.startsWith('/api/v1/pods')) {
          emit = (line) => {
            const parsed = parseWatchLine(line);
            if ('event' in parsed) onEvent(parsed.event);
          };
        }
        await openWatch(path, onEvent, signal, onOpen);
      },
    }),
    cache,
    log: quietLog,
    onState: () => {},
    onRefused: (resource, r) => refusals.push(`${resource} ${r.name} ${r.field}`),
    probeIntervalMs: 0,
  });
  live.start();
  try {
    const s = await settle(live, (d) => d.state === 'InSync');
    assert.equal(s.state, 'InSync', 'one bad pod does not fail its list, nor the cluster');
    assert.deepEqual(
      cache
        .list('WorkloadEndpoint')
        .map((e) => e.name)
        .sort(),
      ['a', 'b'],
    );
    assert.equal(cache.counts('west').Service, 1, 'other resources are not affected');
    const expected: RefusedObject = {
      kind: 'Pod',
      namespace: 'shop',
      name: 'evil',
      field: 'status.podIPs[0].ip',
      problem: 'must be string',
    };
    assert.deepEqual(live.refusedObjects(), [expected]);
    assert.deepEqual(refusals, ['pods evil status.podIPs[0].ip']);
    // A watch brings a malformed version of a good pod: its last good version goes too (it is no longer current).
    emit(
      JSON.stringify({
        type: 'MODIFIED',
        object: withField(good('a', '10.0.0.1'), ['metadata', 'labels', 'app'], { x: 1 }),
      }),
    );
    assert.deepEqual(
      cache.list('WorkloadEndpoint').map((e) => e.name),
      ['b'],
    );
    assert.deepEqual(
      live.refusedObjects().map((r) => `${r.name} ${r.field}`),
      ['evil status.podIPs[0].ip', 'a metadata.labels[*]'],
    );
    // A good version comes back; the malformed one is deleted: neither is refused any more.
    emit(JSON.stringify({ type: 'MODIFIED', object: good('a', '10.0.0.1') }));
    emit(JSON.stringify({ type: 'DELETED', object: hostile }));
    assert.equal(cache.counts('west').WorkloadEndpoint, 2);
    assert.deepEqual(live.refusedObjects(), []);
    assert.equal(live.state.state, 'InSync');
  } finally {
    await live.stop();
  }
});

test('EndpointSlice addresses the local API server would refuse are left out alone: the good ones stay, the status names the field', async () => {
  const cache = new MeshCache();
  const slice = (name: string, addresses: string[][]) =>
    withField(
      withField(goodObjects.EndpointSlice, ['metadata', 'name'], name),
      ['endpoints'],
      addresses.map((a) => ({ addresses: a })),
    );
  const refusals: string[] = [];
  const conn = new ClusterConnection({
    cluster: 'west',
    client: fakeKubeClient({
      async get(path: string) {
        const items = path.startsWith('/apis/discovery.k8s.io/v1/endpointslices')
          ? [
              slice('mixed', [['127.0.0.1'], ['10.0.0.5'], ['169.254.169.254'], ['0.0.0.0'], ['224.0.0.1'], ['1.2.3']]),
              slice('fine', [['10.0.0.6']]),
            ]
          : [];
        return { metadata: { resourceVersion: '1' }, items };
      },
    }),
    cache,
    log: quietLog,
    onState: () => {},
    onRefused: (resource, r) => refusals.push(`${resource} ${r.name} ${r.field}`),
    probeIntervalMs: 0,
  });
  conn.start();
  try {
    assert.equal((await settle(conn, (d) => d.state === 'InSync')).state, 'InSync');
    const addresses = (name: string) =>
      cache
        .slicesOfService('west', 'shop', 'web')
        .filter((s) => s.name === name)
        .flatMap((s) => s.endpoints.flatMap((e) => e.addresses));
    assert.deepEqual(addresses('mixed'), ['10.0.0.5'], 'only the address Kubernetes accepts is kept');
    assert.deepEqual(addresses('fine'), ['10.0.0.6']);
    const [entry, ...more] = conn.refusedObjects();
    assert.equal(more.length, 0);
    assert.equal(entry?.name, 'mixed');
    assert.equal(entry?.field, 'endpoints[0].addresses[0]');
    assert.match(entry?.problem ?? '', /loopback.*5 addresses are left out, the rest of the slice is used/);
    assert.ok(!(entry?.problem ?? '').includes('127.0.0.1'), 'the value is never shown');
    assert.deepEqual(refusals, ['endpointslices mixed endpoints[0].addresses[0]']);
  } finally {
    await conn.stop();
  }
});

test('fuzz: malformed objects on a watch never fail the connection, and nothing malformed reaches the cache', async () => {
  const paths: (string | number)[][] = [
    ['metadata', 'name'],
    ['metadata', 'labels'],
    ['metadata', 'labels', 'app'],
    ['spec', 'containers'],
    ['spec', 'containers', 0, 'ports', 0],
    ['spec', 'containers', 0, 'ports', 0, 'containerPort'],
    ['spec', 'nodeName'],
    ['status', 'podIPs'],
    ['status', 'podIPs', 0, 'ip'],
    ['status', 'podIP'],
    ['status', 'conditions'],
  ];
  const hostilePod = fc
    .tuple(
      fc.constantFrom(...paths),
      fc.oneof(fc.jsonValue(), fc.string({ maxLength: 400 }), fc.constant({ __proto__: null, constructor: 1 })),
      fc.integer({ min: 0, max: 9 }),
    )
    .map(([path, value, n]) => withField(withField(goodObjects.Pod, ['metadata', 'name'], `p${n}`), path, value));
  const line = fc
    .tuple(fc.constantFrom('ADDED', 'MODIFIED'), hostilePod)
    .map(([type, object]) => JSON.stringify({ type, object }));
  await fc.assert(
    fc.asyncProperty(fc.array(line, { minLength: 1, maxLength: 8 }), async (lines) => {
      const cache = new MeshCache();
      const { state: s, conn } = await replayPodWatch(lines, cache);
      assert.equal(s.state, 'InSync', s.message);
      for (const e of cache.list('WorkloadEndpoint')) {
        assert.ok(e.ips.length > 0 && e.ips.every((ip) => typeof ip === 'string' && /^[0-9a-f.:]+$/i.test(ip)));
        assert.ok(Object.values(e.labels).every((v) => typeof v === 'string' && v.length <= 63));
        assert.ok(e.name.length <= 253 && typeof e.nodeName === 'string');
      }
      const refusedNames = new Set(conn.refusedObjects().map((r) => r.name));
      for (const e of cache.list('WorkloadEndpoint'))
        assert.ok(!refusedNames.has(e.name), `${e.name} both cached and refused`);
    }),
    { numRuns: 150 },
  );
});
