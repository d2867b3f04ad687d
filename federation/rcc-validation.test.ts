import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { MeshCache } from './mesh-cache.js';
import { checkRcc } from './rcc-validation.js';
import { RemoteCluster } from './remote-cluster.js';
import { fakeKubeClient, followerDeps } from './test-support.js';

const good = {
  apiVersion: 'fedmesh.io/v1alpha1',
  kind: 'RemoteClusterConfiguration',
  metadata: { name: 'west', uid: 'u1', generation: 2 },
  spec: { clusterAccessSecret: { name: 'remote-cluster-west', namespace: 'fedmesh-system' } },
  status: {
    state: 'InSync',
    message: 'ok',
    conditions: [
      { type: 'Ready', status: 'True', reason: 'Connected', message: 'm', lastTransitionTime: '2026-01-01T00:00:00Z' },
    ],
    counts: { workloads: 1, nodes: 1, namespaces: 1, services: 0, endpointSlices: 0 },
  },
};

test('an RCC is checked against the published CRD schema; a bad status is only noted', () => {
  const ok = checkRcc(good);
  assert.ok('rcc' in ok && ok.statusProblem === undefined && ok.rcc.status?.state === 'InSync');

  // `kubectl patch --subresource=status --type=merge -p '{"status":{"conditions":null}}'` leaves no conditions.
  const noConditions = checkRcc({ ...good, status: { ...good.status, conditions: undefined } });
  assert.ok('rcc' in noConditions);
  assert.match(noConditions.statusProblem ?? '', /conditions/);
  assert.equal(noConditions.rcc.status, undefined, 'a partial status is never handed on');
  const nullConditions = checkRcc({ ...good, status: { ...good.status, conditions: null } });
  assert.ok('rcc' in nullConditions && nullConditions.statusProblem);

  const noRef = checkRcc({ ...good, spec: { clusterAccessSecret: { name: 'x' } } });
  assert.ok('problem' in noRef);
  assert.equal(noRef.name, 'west');
  assert.match(noRef.problem, /spec\.clusterAccessSecret must have required property 'namespace'/);
  const badMode = checkRcc({ ...good, spec: { ...good.spec, staleEndpoints: { mode: 'Sometimes' } } });
  assert.ok('problem' in badMode && /staleEndpoints\.mode/.test(badMode.problem));
  const noName = checkRcc({ metadata: {} });
  assert.ok('problem' in noName && noName.name === undefined);
  assert.ok('problem' in checkRcc(null));
  assert.ok('problem' in checkRcc('a string'));
});

/** A local API server that never answers: enough for RemoteCluster to compute its state. */
const silentClient = fakeKubeClient({ get: () => new Promise(() => {}), watch: () => new Promise(() => {}) });

test('fuzz: any RCC-shaped object is checked without throwing, and a cluster built from it states a reason', async () => {
  const anyValue = fc.oneof(fc.constant(null), fc.string(), fc.integer(), fc.boolean(), fc.object());
  const rccLike = fc.record(
    {
      metadata: fc.oneof(
        fc.record(
          { name: fc.oneof(fc.constantFrom('west', 'east', 'a.b', ''), anyValue), uid: anyValue },
          {
            requiredKeys: [],
          },
        ),
        anyValue,
      ),
      spec: fc.oneof(
        anyValue,
        fc.record(
          {
            clusterAccessSecret: fc.oneof(
              anyValue,
              fc.record({ name: anyValue, namespace: anyValue }, { requiredKeys: [] }),
            ),
            overlayRoutingMode: anyValue,
            staleEndpoints: fc.oneof(anyValue, fc.record({ mode: anyValue, ttl: anyValue }, { requiredKeys: [] })),
          },
          { requiredKeys: [] },
        ),
      ),
      status: fc.oneof(
        anyValue,
        fc.record(
          {
            state: anyValue,
            message: anyValue,
            conditions: fc.oneof(anyValue, fc.array(anyValue)),
            counts: anyValue,
          },
          { requiredKeys: [] },
        ),
      ),
    },
    { requiredKeys: [] },
  );
  const clusters: RemoteCluster[] = [];
  fc.assert(
    fc.property(rccLike, (raw) => {
      const checked = checkRcc(raw);
      if ('problem' in checked) {
        assert.ok(checked.problem.length > 0);
        if (checked.name === undefined) return;
      }
      const name = 'rcc' in checked ? checked.rcc.metadata.name : checked.name;
      const cache = new MeshCache();
      const c = new RemoteCluster(name ?? '', followerDeps(silentClient, cache));
      clusters.push(c);
      c.update('rcc' in checked ? checked : { rcc: { metadata: { name: name ?? '' } }, problem: checked.problem });
      const status = cache.clusterStatus(name ?? '');
      assert.ok(status, 'the cluster has a status');
      assert.ok(status.message.length > 0, 'with a message');
      if ('problem' in checked) {
        assert.equal(status.state, 'ConfigIncomplete');
        assert.match(status.message, /does not match its schema/);
      }
    }),
    { numRuns: 300 },
  );
  await Promise.all(clusters.map((c) => c.stop()));
});
