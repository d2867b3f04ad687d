import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { KubeRestClient } from '../core/kube/rest-client.js';
import { MeshCache } from './mesh-cache.js';
import { RemoteCluster } from './remote-cluster.js';
import { fakeKubeClient, followerDeps } from './test-support.js';

/** A local API server holding one access Secret with `kubeconfig`; watches stay open and silent. */
function localWithSecret(kubeconfig: string): KubeRestClient {
  return fakeKubeClient({
    get: async () => ({
      metadata: { resourceVersion: '1' },
      items: [
        {
          metadata: { name: 'remote-cluster-west', namespace: 'fedmesh-system', resourceVersion: '1' },
          data: { kubeconfig: Buffer.from(kubeconfig).toString('base64') },
        },
      ],
    }),
  });
}

test('an access Secret whose kubeconfig has an unexpected shape is reported, never thrown', async () => {
  for (const kubeconfig of ['users: {}\n', 'users: [null]\nclusters: 5\n', 'contexts: "x"\n']) {
    const cache = new MeshCache();
    const c = new RemoteCluster('west', followerDeps(localWithSecret(kubeconfig), cache));
    c.update({
      rcc: {
        metadata: { name: 'west', uid: 'u' },
        spec: { clusterAccessSecret: { name: 'remote-cluster-west', namespace: 'fedmesh-system' } },
      },
    });
    for (let i = 0; i < 100 && cache.clusterStatus('west')?.state !== 'ConfigIncomplete'; i++) {
      await new Promise((r) => setTimeout(r, 5));
    }
    const s = cache.clusterStatus('west');
    await c.stop();
    assert.equal(s?.state, 'ConfigIncomplete', kubeconfig);
    assert.equal(s?.reason, 'BadKubeconfig', kubeconfig);
    assert.match(s?.message ?? '', /the kubeconfig in secret fedmesh-system\/remote-cluster-west/);
  }
});
