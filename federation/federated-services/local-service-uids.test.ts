import assert from 'node:assert/strict';
import { test } from 'node:test';
import { KubeApiError, type KubeRestClient } from '../../core/kube/rest-client.js';
import type { MeshService } from '../mesh-types.js';
import { stableUid } from '../stable-uid.js';
import { LocalServiceUids } from './local-service-uids.js';

const annotated = { 'federation.fedmesh.io/serviceSelector': "app == 'api'" };
const item = (name: string, uid: string, annotations: Record<string, string> = annotated) => ({
  metadata: { name, namespace: 'shop', uid, annotations },
});
const meshService = (name: string, uid: string): MeshService => ({
  kind: 'Service',
  cluster: 'east',
  namespace: 'shop',
  name,
  uid: stableUid('east', 'Service', uid),
  labels: {},
  created: 0,
  revision: 1,
  type: 'ClusterIP',
  selector: null,
  ports: [],
  annotations: annotated,
});

/** A kube-apiserver with the given Services of namespace shop, in pages of `page`; `later` appear after a list. */
function fakeClient(items: ReturnType<typeof item>[], later: ReturnType<typeof item>[] = []) {
  const paths: string[] = [];
  let store = items;
  const client = {
    get: async (path: string) => {
      paths.push(path);
      await new Promise((r) => setImmediate(r));
      const one = /\/services\/([^?]+)$/.exec(path);
      if (one) {
        const found = store.find((i) => i.metadata.name === one[1]);
        if (!found) throw new KubeApiError('GET', path, 404, { reason: 'NotFound' });
        return found;
      }
      const out = { items: store, metadata: {} };
      store = [...store, ...later];
      return out;
    },
  };
  return { client: client as unknown as KubeRestClient, paths };
}

test('many Services missing at once: one list of the namespace, no GET each', async () => {
  const { client, paths } = fakeClient([item('a', 'ua'), item('b', 'ub'), item('c', 'uc', {})]);
  const uids = new LocalServiceUids(client, 'east');
  const got = await Promise.all(['a', 'b'].map((n) => uids.of(meshService(n, `u${n}`), [])));
  assert.deepEqual(got, ['ua', 'ub']);
  assert.deepEqual(paths, ['/api/v1/namespaces/shop/services?limit=500']);
  // Known from then on; a Service without the federation annotation is not kept.
  assert.equal(await uids.of(meshService('a', 'ua'), []), 'ua');
  assert.equal(paths.length, 1);
  assert.equal(await uids.of(meshService('c', 'uc'), []), undefined);
  assert.equal(paths.length, 2);
});

test('a uid from a written slice costs no request; a wrong one is not believed', async () => {
  const { client, paths } = fakeClient([item('a', 'ua')]);
  const uids = new LocalServiceUids(client, 'east');
  assert.equal(await uids.of(meshService('a', 'ua'), ['other', 'ua']), 'ua');
  assert.equal(paths.length, 0);
  // A recreated Service (the mesh has its new uid; the slices still name the old one) is looked up.
  assert.equal(await uids.of(meshService('b', 'new'), ['old']), undefined);
  assert.equal(paths.length, 1);
});

test('a Service created while a list was under way is asked for alone', async () => {
  const { client, paths } = fakeClient([item('a', 'ua')], [item('late', 'ul')]);
  const uids = new LocalServiceUids(client, 'east');
  const first = uids.of(meshService('a', 'ua'), []);
  const late = uids.of(meshService('late', 'ul'), []); // joins the list begun before it existed
  assert.deepEqual(await Promise.all([first, late]), ['ua', 'ul']);
  assert.deepEqual(paths, ['/api/v1/namespaces/shop/services?limit=500', '/api/v1/namespaces/shop/services/late']);
  // Forgotten (the Service was deleted): looked up again.
  uids.forget(stableUid('east', 'Service', 'ua'));
  assert.equal(await uids.of(meshService('a', 'ua'), []), 'ua');
  assert.equal(paths.length, 3);
});
