import assert from 'node:assert/strict';
import { test } from 'node:test';
import { localJoinManifests } from './remote-access.js';

const rccOf = (ms: ReturnType<typeof localJoinManifests>) => {
  const rcc = ms.find((m) => m.kind === 'RemoteClusterConfiguration');
  assert.ok(rcc, 'the join holds an RCC');
  return rcc.spec as Record<string, unknown>;
};

test('the join leaves overlayRoutingMode out unless asked: applying it again keeps an enabled overlay on', () => {
  const spec = rccOf(localJoinManifests({ clusterName: 'west', kubeconfig: 'kc' }));
  assert.equal('overlayRoutingMode' in spec, false);
  assert.deepEqual(spec.clusterAccessSecret, { name: 'remote-cluster-west', namespace: 'fedmesh-system' });
  const enabled = rccOf(localJoinManifests({ clusterName: 'west', kubeconfig: 'kc', overlayRoutingMode: 'Enabled' }));
  assert.equal(enabled.overlayRoutingMode, 'Enabled');
});
