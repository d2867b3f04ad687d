import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { WatchEvent } from '../core/kube/rest-client.js';
import { MeshCache } from './mesh-cache.js';
import { RccController } from './rcc-controller.js';
import { rccPath } from './rcc-spec.js';
import { fakeKubeClient, followerDeps, openWatch } from './test-support.js';

const rcc = (uid: string) => ({
  apiVersion: 'fedmesh.io/v1alpha1',
  kind: 'RemoteClusterConfiguration',
  metadata: { name: 'west', uid, resourceVersion: uid, generation: 1 },
  spec: { clusterAccessSecret: { name: 'remote-cluster-west', namespace: 'fedmesh-system' } },
});

/** A local API server: one RCC at first, its watch driven by the test; the Secret does not exist. */
function local() {
  let emit: (e: WatchEvent) => void = () => {};
  const client = fakeKubeClient({
    get: async (path: string) => ({
      metadata: { resourceVersion: '1' },
      items: path.startsWith(rccPath) ? [rcc('u1')] : [],
    }),
    watch: (path, onEvent, signal, onOpen) => {
      if (path.startsWith(rccPath)) emit = onEvent;
      return openWatch(path, onEvent, signal, onOpen);
    },
  });
  return { client, emit: (e: WatchEvent) => emit(e) };
}

test('delete and create again at once: the old instance’s cleanup never wipes the new one; stop keeps the cache', async () => {
  const l = local();
  const cache = new MeshCache();
  const controller = new RccController(followerDeps(l.client, cache));
  controller.start();
  await controller.synced;
  for (let i = 0; i < 100 && !cache.clusterStatus('west'); i++) await new Promise((r) => setTimeout(r, 5));
  assert.ok(cache.clusterStatus('west'));
  cache.replaceAll('west', 'Namespace', new Map([['shop', fakeNamespace()]]));

  // DELETED then ADDED in the same tick, and (as after a missed watch) a new uid seen as a plain update.
  l.emit({ type: 'DELETED', object: rcc('u1') });
  l.emit({ type: 'ADDED', object: rcc('u2') });
  l.emit({ type: 'MODIFIED', object: rcc('u3') });
  await new Promise((r) => setTimeout(r, 200));
  assert.ok(cache.clusterStatus('west'), 'the new instance’s status is not wiped by the old one’s cleanup');
  assert.equal(cache.clusterStatus('west')?.reason, 'SecretNotFound');

  cache.replaceAll('west', 'Namespace', new Map([['shop', fakeNamespace()]]));
  await controller.stop();
  assert.equal(cache.counts('west').Namespace, 1, 'stopping is not deleting: the objects stay');
  assert.ok(cache.clusterStatus('west'));
});

function fakeNamespace() {
  return {
    kind: 'Namespace' as const,
    cluster: 'west',
    namespace: '',
    name: 'shop',
    uid: 'ns-shop',
    labels: {},
    created: 0,
    revision: 0,
  };
}
