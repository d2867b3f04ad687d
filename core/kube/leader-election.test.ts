import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createLogger } from '../log/logger.js';
import { LeaderElector, type LeaseObservation, type LeaseSpec, microTime, nextLease } from './leader-election.js';
import { KubeApiError, type KubeRestClient } from './rest-client.js';

const t0 = Date.parse('2026-11-29T10:00:00Z');
/** Both clocks at `ms` (the tests' observations use the same numbers). */
const at = (ms: number) => ({ wallMs: ms, monoMs: ms });
/** What `me` writes (15 s leases) at `ms`; fails the test when it would wait instead. */
function written(observed: LeaseObservation | undefined, ms: number): LeaseSpec {
  const d = nextLease(observed, 'me', 15, at(ms));
  if (d.kind !== 'write') assert.fail(`expected a write, got ${JSON.stringify(d)}`);
  return d.spec;
}
const seen = (spec: LeaseObservation['spec'], seenAtMs = t0): LeaseObservation => ({ spec, seenAtMs });

test('MicroTime has six fractional digits, as the API parses it', () => {
  assert.equal(microTime(t0 + 123), '2026-11-29T10:00:00.123000Z');
});

test('no lease yet: take it, with no transition counted', () => {
  assert.deepEqual(written(undefined, t0), {
    holderIdentity: 'me',
    leaseDurationSeconds: 15,
    acquireTime: microTime(t0),
    renewTime: microTime(t0),
    leaseTransitions: 0,
  });
});

test('held by another and renewed within its duration (on our clock): wait, and say for how long', () => {
  const other = seen({ holderIdentity: 'other', leaseDurationSeconds: 15, renewTime: 'whenever', leaseTransitions: 2 });
  assert.deepEqual(nextLease(other, 'me', 15, at(t0 + 10_000)), { kind: 'held', holder: 'other', expiresInMs: 5_000 });
  // The holder's own duration counts, not ours; its renewTime is never compared with our clock.
  const long = seen({ holderIdentity: 'other', leaseDurationSeconds: 60, renewTime: '1970-01-01T00:00:00.000000Z' });
  assert.equal(nextLease(long, 'me', 15, at(t0 + 30_000)).kind, 'held');
});

test('a step of the wall clock changes nothing: expiry is measured on the monotonic clock', () => {
  const other = seen({ holderIdentity: 'other', leaseDurationSeconds: 15 }, 1_000);
  const d = nextLease(other, 'me', 15, { wallMs: t0 + 3_600_000, monoMs: 6_000 });
  assert.deepEqual(d, { kind: 'held', holder: 'other', expiresInMs: 10_000 });
});

test('held by another that stopped renewing: take it over, counting a transition', () => {
  const other = seen({ holderIdentity: 'other', leaseDurationSeconds: 15, acquireTime: 'then', leaseTransitions: 2 });
  const spec = written(other, t0 + 15_000);
  assert.equal(spec.holderIdentity, 'me');
  assert.equal(spec.acquireTime, microTime(t0 + 15_000));
  assert.equal(spec.leaseTransitions, 3);
});

test('held by us: renew, keeping acquireTime and the transition count', () => {
  const mine = seen({ holderIdentity: 'me', leaseDurationSeconds: 15, acquireTime: 'then', leaseTransitions: 4 });
  const spec = written(mine, t0 + 1_000);
  assert.equal(spec.acquireTime, 'then');
  assert.equal(spec.renewTime, microTime(t0 + 1_000));
  assert.equal(spec.leaseTransitions, 4);
});

test('released (no holder): take it at once', () => {
  const released = seen({ holderIdentity: '', leaseDurationSeconds: 1, leaseTransitions: 1 });
  assert.equal(written(released, t0).leaseTransitions, 2);
});

/** One Lease held in memory with the API's optimistic concurrency: a write on an old resourceVersion is a 409. */
function fakeLeaseApi() {
  let lease: { metadata: { resourceVersion: string }; spec: LeaseSpec } | undefined;
  let version = 0;
  const fail = (method: string, path: string, code: number) =>
    new KubeApiError(method, path, code, { reason: code === 404 ? 'NotFound' : 'Conflict' });
  const store = (spec: LeaseSpec) => {
    lease = { metadata: { resourceVersion: String(++version) }, spec };
    return structuredClone(lease);
  };
  type Body = { metadata: { resourceVersion?: string }; spec: LeaseSpec };
  const answer = (body: unknown) => ({ status: 200, headers: {}, body });
  let delayNext = 0;
  const client = {
    request: async (method: string, path: string, opts: { body?: Body }) => {
      if (delayNext > 0) {
        const ms = delayNext;
        delayNext = 0;
        await new Promise((r) => setTimeout(r, ms));
      }
      if (method === 'POST') {
        if (lease) throw fail(method, path, 409);
        return answer(store(opts.body!.spec));
      }
      if (!lease) throw fail(method, path, 404);
      if (method === 'GET') return answer(structuredClone(lease));
      if (opts.body?.metadata.resourceVersion !== lease.metadata.resourceVersion) throw fail(method, path, 409);
      return answer(store(opts.body.spec));
    },
  };
  return {
    client: client as unknown as KubeRestClient,
    holder: () => lease?.spec.holderIdentity,
    /** The next request answers only after `ms` (a slow API server, or a stalled process). */
    slowNext: (ms: number) => {
      delayNext = ms;
    },
    /** Another replica writes itself in (as after taking over an expired lease). */
    takenBy: (holder: string) => store({ ...lease?.spec, holderIdentity: holder }),
  };
}

function electorOn(api: ReturnType<typeof fakeLeaseApi>, identity: string, events: string[]): LeaderElector {
  return new LeaderElector({
    client: api.client,
    namespace: 'ns',
    name: 'lease',
    identity,
    ...timing,
    log: quiet,
    onStartedLeading: () => events.push(`${identity} leads`),
    onStoppedLeading: () => events.push(`${identity} stops`),
  });
}

const quiet = createLogger('test', 'error');
const timing = { leaseDurationMs: 600, renewDeadlineMs: 400, retryPeriodMs: 50 };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('two electors: one leads; stopped, it releases the lease and the other leads within a few retries', async () => {
  const api = fakeLeaseApi();
  const events: string[] = [];
  const a = electorOn(api, 'a', events);
  const b = electorOn(api, 'b', events);
  a.start();
  await sleep(100);
  b.start();
  await sleep(300);
  assert.equal(api.holder(), 'a');
  assert.ok(a.isLeader());
  assert.ok(!b.isLeader(), 'b waits while a renews');
  const stoppedAt = Date.now();
  await a.stop();
  assert.equal(a.isLeader(), false);
  while (!b.isLeader() && Date.now() - stoppedAt < 2_000) await sleep(10);
  assert.ok(b.isLeader());
  assert.ok(Date.now() - stoppedAt < timing.leaseDurationMs, 'a released lease is taken without waiting it out');
  assert.equal(api.holder(), 'b');
  await b.stop();
  assert.deepEqual(events, ['a leads', 'a stops', 'b leads', 'b stops']);
});

test('settings that would let two replicas lead at once are refused', () => {
  const api = fakeLeaseApi();
  const base = {
    client: api.client,
    namespace: 'ns',
    name: 'l',
    log: quiet,
    onStartedLeading() {},
    onStoppedLeading() {},
  };
  assert.throws(
    () => new LeaderElector({ ...base, leaseDurationMs: 10, renewDeadlineMs: 10, retryPeriodMs: 1 }),
    /renew deadline/,
  );
  assert.throws(
    () => new LeaderElector({ ...base, leaseDurationMs: 10, renewDeadlineMs: 5, retryPeriodMs: 5 }),
    /retry period/,
  );
});

test('a renewal that lapsed past the deadline stops the leader acting, and resumes it once renewed', async () => {
  const api = fakeLeaseApi();
  const events: string[] = [];
  const a = electorOn(api, 'a', events);
  a.start();
  await sleep(100);
  assert.ok(a.isLeader());
  api.slowNext(timing.renewDeadlineMs + 100);
  await sleep(timing.renewDeadlineMs + 50);
  assert.equal(a.isLeader(), false, 'past the renew deadline without a renewal: not acting');
  await sleep(300);
  assert.ok(a.isLeader());
  assert.deepEqual(events, ['a leads', 'a leads'], 'told to lead again, so that skipped work is redone');
  await a.stop();
});

test('stopping releases the lease only while it is still ours', async () => {
  const api = fakeLeaseApi();
  const events: string[] = [];
  const a = electorOn(api, 'a', events);
  a.start();
  await sleep(100);
  assert.ok(a.isLeader());
  api.takenBy('b');
  await a.stop();
  assert.equal(api.holder(), 'b');
  assert.deepEqual(events, ['a leads', 'a stops']);
});
