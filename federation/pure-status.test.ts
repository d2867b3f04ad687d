import assert from 'node:assert/strict';
import { test } from 'node:test';
import { KubeApiError } from '../core/kube/rest-client.js';
import { deriveClusterState, type ResourceState } from './cluster-state.js';
import { classifyFailure } from './connection-error.js';
import type { ClusterStatus } from './mesh-types.js';
import { buildRccStatus, sameRccStatus } from './rcc-status.js';
import { checkRcc } from './rcc-validation.js';
import { staleDecision } from './stale-policy.js';

const pods = { verb: 'list', resource: 'pods', group: '' } as const;
const p = (resource: string, over: Partial<ResourceState> & { watching?: boolean } = {}): ResourceState => {
  const { watching = true, ...rest } = over;
  return {
    resource,
    phase: watching ? 'Watching' : 'Listing',
    listed: true,
    failure: undefined,
    failingSince: null,
    withdrawn: false,
    ...rest,
  };
};

test('failures are classified with what to fix', () => {
  const forbidden = classifyFailure(
    pods,
    new KubeApiError('GET', '/api/v1/pods', 403, {
      message: 'pods is forbidden: User "x" cannot list resource "pods"',
    }),
  );
  assert.equal(forbidden.reason, 'Forbidden');
  assert.match(forbidden.message, /^missing permission: list pods \(apiGroup ""\) at cluster scope/);
  assert.equal(classifyFailure(pods, new KubeApiError('GET', '/', 401, {})).reason, 'Unauthorized');
  const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' });
  assert.equal(classifyFailure(pods, refused).reason, 'Unreachable');
  const tls = Object.assign(new Error('self-signed certificate'), { code: 'DEPTH_ZERO_SELF_SIGNED_CERT' });
  assert.equal(classifyFailure(pods, tls).reason, 'TLSError');
  assert.equal(
    classifyFailure(
      { verb: 'watch', resource: 'endpointslices', group: 'discovery.k8s.io' },
      new KubeApiError('GET', '/', 403, {}),
    ).message,
    'missing permission: watch endpointslices.discovery.k8s.io (apiGroup "discovery.k8s.io") at cluster scope',
  );
});

test('cluster state: config first, then failures (every missing permission), then sync progress', () => {
  assert.equal(deriveClusterState({ reason: 'SecretNotFound', message: 'm' }, [p('pods')]).state, 'ConfigIncomplete');
  assert.equal(deriveClusterState(undefined, [p('pods', { listed: false, watching: false })]).state, 'Connecting');
  assert.equal(
    deriveClusterState(undefined, [p('pods'), p('nodes', { listed: false, watching: false })]).state,
    'ResyncInProgress',
  );
  assert.equal(deriveClusterState(undefined, [p('pods'), p('nodes')]).state, 'InSync');
  const f = (resource: string) => ({
    reason: 'Forbidden' as const,
    message: `missing permission: list ${resource}`,
    verb: 'list' as const,
  });
  const d = deriveClusterState(undefined, [
    p('pods', { failure: f('pods') }),
    p('nodes', { failure: f('nodes') }),
    p('services'),
  ]);
  assert.equal(d.state, 'ConnectionFailed');
  assert.equal(d.message, 'missing permission: list pods; missing permission: list nodes');
  const u = deriveClusterState(undefined, [
    p('pods', { failure: { reason: 'Forbidden', message: 'x', verb: 'list' } }),
    p('nodes', { failure: { reason: 'Unauthorized', message: 'bad token', verb: 'watch' } }),
  ]);
  assert.equal(u.reason, 'Unauthorized', 'credentials come before permissions');
});

test('stale policy: Retain keeps, Withdraw waits for the ttl', () => {
  assert.deepEqual(staleDecision({ mode: 'Retain', ttlMs: 1000 }, 0, 10_000), { action: 'keep' });
  assert.deepEqual(staleDecision({ mode: 'Withdraw', ttlMs: 1000 }, null, 10_000), { action: 'keep' });
  assert.deepEqual(staleDecision({ mode: 'Withdraw', ttlMs: 1000 }, 9500, 10_000), { action: 'wait', ms: 500 });
  assert.deepEqual(staleDecision({ mode: 'Withdraw', ttlMs: 1000 }, 9000, 10_000), { action: 'withdraw' });
});

const inSyncWest: ClusterStatus = {
  cluster: 'west',
  local: false,
  state: 'InSync',
  reason: 'InSync',
  message: 'ok',
  staleSince: null,
  withdrawn: false,
  lastSyncTime: '2026-01-01T00:00:00.000Z',
};

test('RCC status: conditions keep their transition time while unchanged, so an unchanged status is not rewritten', () => {
  const cluster = inSyncWest;
  const counts = { WorkloadEndpoint: 3, HostEndpoint: 1, Namespace: 2, Service: 1, EndpointSlice: 0 };
  const a = buildRccStatus(undefined, cluster, counts, 1, 'T1');
  const b = buildRccStatus(a, cluster, counts, 1, 'T2');
  assert.ok(sameRccStatus(a, b));
  // As the API server returns it: the same status with every key sorted (a round trip through a Go map).
  const sortKeys = (v: unknown): unknown =>
    Array.isArray(v)
      ? v.map(sortKeys)
      : v !== null && typeof v === 'object'
        ? Object.fromEntries(
            Object.entries(v)
              .sort(([x], [y]) => (x < y ? -1 : 1))
              .map(([k, x]) => [k, sortKeys(x)]),
          )
        : v;
  const echoed = sortKeys(a) as typeof a;
  assert.notEqual(JSON.stringify(echoed), JSON.stringify(a), 'the fixture has keys out of order');
  assert.ok(sameRccStatus(a, echoed), 'our own write echoed back is no change');
  assert.equal(a.counts.workloads, 3);
  const stale = buildRccStatus(
    b,
    { ...cluster, state: 'ConnectionFailed', reason: 'Unreachable', message: 'down', staleSince: 'S' },
    counts,
    1,
    'T3',
  );
  assert.ok(!sameRccStatus(b, stale));
  const ready = stale.conditions.find((c) => c.type === 'Ready');
  const synced = stale.conditions.find((c) => c.type === 'Synced');
  assert.deepEqual([ready?.status, ready?.reason, ready?.lastTransitionTime], ['False', 'Unreachable', 'T3']);
  assert.deepEqual([synced?.reason, stale.staleSince], ['Stale', 'S']);
});

test('refused objects: counted, the first ten named by kind, namespace and name, valid against the CRD; absent when none', () => {
  const cluster = inSyncWest;
  const counts = { WorkloadEndpoint: 1, HostEndpoint: 0, Namespace: 0, Service: 0, EndpointSlice: 0 };
  const refused = Array.from({ length: 12 }, (_, i) => ({
    kind: 'Pod' as const,
    namespace: 'shop',
    name: `p${String(11 - i).padStart(2, '0')}`,
    field: 'status.podIPs[0].ip',
    problem: 'must be string',
  }));
  const s = buildRccStatus(undefined, cluster, counts, 1, 'T1', refused);
  assert.equal(s.refusedObjects?.count, 12);
  assert.deepEqual(
    s.refusedObjects?.objects.map((o) => o.name),
    ['p00', 'p01', 'p02', 'p03', 'p04', 'p05', 'p06', 'p07', 'p08', 'p09'],
  );
  assert.equal(s.state, 'InSync', 'refusals do not change the state');
  const rcc = { apiVersion: 'fedmesh.io/v1alpha1', kind: 'RemoteClusterConfiguration', metadata: { name: 'west' } };
  const checked = checkRcc({
    ...rcc,
    spec: { clusterAccessSecret: { name: 'west', namespace: 'fedmesh-system' } },
    status: s,
  });
  assert.ok('rcc' in checked && checked.statusProblem === undefined, JSON.stringify(checked));
  assert.ok(!sameRccStatus(s, buildRccStatus(s, cluster, counts, 1, 'T2')), 'clearing them is a change');
  assert.equal(buildRccStatus(s, cluster, counts, 1, 'T2').refusedObjects, undefined);
});
