import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { KubeResponse, RequestOptions } from '../../core/kube/rest-client.js';
import { requestInfo } from '../request-info.js';
import { Delegation } from './delegation.js';

/** A kube-apiserver stand-in that records each review and answers with `answer` (or throws it). */
function fakeKube(answer: (path: string, body: { spec: Record<string, unknown> }) => unknown) {
  const calls: { path: string; body: { spec: Record<string, unknown> }; timeoutMs: number | undefined }[] = [];
  const kube = {
    async request<T>(_method: string, path: string, opts: RequestOptions = {}): Promise<KubeResponse<T>> {
      const body = opts.body as { spec: Record<string, unknown> };
      calls.push({ path, body, timeoutMs: opts.timeoutMs });
      const a = await answer(path, body);
      if (a instanceof Error) throw a;
      return { statusCode: 201, body: a as T, headers: {} };
    },
  };
  return { kube, calls };
}

const info = (method: string, path: string) => requestInfo(method, new URL(path, 'https://x'));
const alice = { username: 'alice', uid: 'u-1', groups: ['devs', 'system:authenticated'], extra: { scopes: ['a,b'] } };

test('Delegation: SubjectAccessReview attributes for resource and non-resource requests (AUTHZ-01/02)', async () => {
  const { kube, calls } = fakeKube(() => ({ status: { allowed: true } }));
  const d = new Delegation(kube);
  const g = '/apis/federation.fedmesh.io/v1alpha1';
  await d.authorize(alice, info('GET', `${g}/namespaces/shop/remoteworkloads/west.p1`));
  await d.authorize(alice, info('GET', `${g}/remoteworkloads?watch=1&fieldSelector=metadata.name%3Dwest.p2`));
  await d.authorize(alice, info('GET', `${g}/remotenodes`));
  await d.authorize(alice, info('GET', '/openapi/v3'));
  const who = { user: 'alice', uid: 'u-1', groups: ['devs', 'system:authenticated'], extra: { scopes: ['a,b'] } };
  const gv = { group: 'federation.fedmesh.io', version: 'v1alpha1' };
  assert.deepEqual(
    calls.map((c) => c.body.spec),
    [
      {
        ...who,
        resourceAttributes: { verb: 'get', ...gv, resource: 'remoteworkloads', namespace: 'shop', name: 'west.p1' },
      },
      { ...who, resourceAttributes: { verb: 'watch', ...gv, resource: 'remoteworkloads', name: 'west.p2' } },
      { ...who, resourceAttributes: { verb: 'list', ...gv, resource: 'remotenodes' } },
      { ...who, nonResourceAttributes: { path: '/openapi/v3', verb: 'get' } },
    ],
  );
  assert.ok(
    calls.every((c) => c.path === '/apis/authorization.k8s.io/v1/subjectaccessreviews' && c.timeoutMs === 10_000),
  );
});

test('Delegation: answers are cached (allowed, denied, invalid tokens) and identical reviews in flight are made once', async () => {
  const { kube, calls } = fakeKube((path, body) =>
    path.includes('tokenreviews')
      ? {
          status: body.spec.token === 'good' ? { authenticated: true, user: { username: 'sa', groups: ['g', 7] } } : {},
        }
      : { status: { allowed: body.spec.user === 'alice', reason: 'RBAC' } },
  );
  const d = new Delegation(kube);
  const list = info('GET', '/apis/federation.fedmesh.io/v1alpha1/remotenodes');
  const bob = { ...alice, username: 'bob' };
  const [a1, a2] = await Promise.all([d.authorize(alice, list), d.authorize(alice, list)]);
  assert.deepEqual([a1.allowed, a2.allowed], [true, true]);
  assert.equal((await d.authorize(bob, list)).allowed, false);
  assert.equal((await d.authorize(bob, list)).reason, 'RBAC');
  assert.equal((await d.authorize(alice, list)).allowed, true);
  assert.deepEqual(await d.reviewToken('good'), { username: 'sa', groups: ['g'], extra: {} });
  assert.equal(await d.reviewToken('bad'), undefined);
  assert.equal(await d.reviewToken('bad'), undefined);
  await d.reviewToken('good');
  assert.equal(calls.length, 4, 'two SARs and two TokenReviews, each made once');
  assert.ok(!JSON.stringify(calls.map((c) => c.path)).includes('good'));
});

test('Delegation: errors are not cached, and a review that hangs fails after the timeout', async () => {
  let fail = true;
  const { kube, calls } = fakeKube(() => (fail ? new Error('connect ECONNREFUSED') : { status: { allowed: true } }));
  const d = new Delegation(kube);
  const list = info('GET', '/apis/federation.fedmesh.io/v1alpha1/remotenodes');
  await assert.rejects(d.authorize(alice, list), /ECONNREFUSED/);
  fail = false;
  assert.equal((await d.authorize(alice, list)).allowed, true, 'the next request asks again');
  assert.equal(calls.length, 2);
  await assert.rejects(new Delegation(fakeKube(() => new Error('x')).kube).reviewToken('t'), /x/);

  const hanging = new Delegation(fakeKube(() => new Promise(() => {})).kube, {
    timeoutMs: 100,
    concurrency: 1,
    maxWaiting: 1,
  });
  const started = Date.now();
  const first = hanging.reviewToken('a');
  const second = hanging.reviewToken('b'); // waits for the only connection
  await assert.rejects(hanging.reviewToken('c'), /too many reviews waiting/);
  await assert.rejects(first, /no answer in 100 ms/);
  await assert.rejects(second, /no answer in 100 ms/);
  assert.ok(Date.now() - started < 1000);
});

test('Delegation: the decision cache keeps digests, not requests: 2000 distinct 16 KiB paths cost little memory', async () => {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  let reviews = 0;
  const kube = {
    async request<T>(): Promise<KubeResponse<T>> {
      reviews += 1;
      return { statusCode: 201, body: { status: { allowed: false, reason: 'RBAC' } } as T, headers: {} };
    },
  };
  const d = new Delegation(kube);
  const long = 'x'.repeat(16 * 1024);
  gc();
  const before = process.memoryUsage().heapUsed;
  for (let i = 0; i < 2000; i++) await d.authorize(alice, info('GET', `/p${i}/${long}`));
  gc();
  const grown = process.memoryUsage().heapUsed - before;
  assert.equal(reviews, 2000);
  // Keys of the requests themselves would be 2000 × 16 KiB = 32 MiB; digests are about 0.5 MiB with their entries.
  assert.ok(grown < 8 * 1024 * 1024, `the cache grew by ${Math.round(grown / 1024)} KiB`);
  // Still cached: the same request again is answered without a review.
  await d.authorize(alice, info('GET', `/p0/${long}`));
  assert.equal(reviews, 2000);
});
