import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { KubeRestClient } from '../../../core/kube/rest-client.js';
import type { Logger } from '../../../core/log/logger.js';
import { MeshCache } from '../../mesh-cache.js';
import { slimEndpointSlice, slimService } from '../../slim.js';
import { ServiceImportController } from './controller.js';

const nolog = {
  info() {},
  warn() {},
  error() {},
  debug() {},
  child() {
    return nolog;
  },
} as unknown as Logger;

interface Write {
  readonly verb: string;
  readonly path: string;
  readonly body: unknown;
}

const slicePath = '/apis/discovery.k8s.io/v1/namespaces/shop/endpointslices/web-export';

/**
 * The local cluster east: a ServiceExport shop/web (unless `exported` is false) of the Service shop/web, and an
 * EndpointSlice shop/web-export as given (someone else's, or fedmesh's own announcement).
 */
async function run(slice: Record<string, unknown>, exported = true) {
  const cache = new MeshCache();
  const web = {
    metadata: { name: 'web', namespace: 'shop', uid: 'svc-web' },
    spec: { ports: [{ name: 'http', port: 80, protocol: 'TCP' }] },
  };
  const slim = slimEndpointSlice('east', slice as unknown as Parameters<typeof slimEndpointSlice>[1]);
  const svc = slimService('east', web);
  assert.ok(slim && svc);
  cache.replaceAll('east', 'Service', new Map([['shop/web', svc]]));
  cache.replaceAll('east', 'EndpointSlice', new Map([['shop/web-export', slim]]));
  cache.replaceAll('east', 'Namespace', new Map());
  const exp = { metadata: { name: 'web', namespace: 'shop', uid: 'exp-1', creationTimestamp: '2026-01-01T00:00:00Z' } };
  const writes: Write[] = [];
  const client = {
    get: async (path: string) => {
      if (path.includes('/serviceexports')) return { items: exported ? [exp] : [], metadata: { resourceVersion: '1' } };
      if (path === `${slicePath.replace('/web-export', '')}?fieldSelector=metadata.name%3Dweb-export`) {
        return { items: [slice], metadata: { resourceVersion: '4' } };
      }
      if (path.includes('/services/web')) return { metadata: { uid: 'svc-web' }, spec: { clusterIPs: ['10.96.0.10'] } };
      return { items: [], metadata: { resourceVersion: '1' } };
    },
    watch: (_p: string, _e: unknown, signal?: AbortSignal) =>
      new Promise<void>((r) => signal?.addEventListener('abort', () => r())),
    create: async (path: string, body: unknown) => {
      writes.push({ verb: 'POST', path, body });
      return body;
    },
    request: async (verb: string, path: string, o: { body: unknown }) => {
      writes.push({ verb, path: decodeURIComponent(path), body: o.body });
      return { statusCode: 200, body: o.body, headers: {} };
    },
    delete: async (path: string, o: unknown) => {
      writes.push({ verb: 'DELETE', path, body: o });
      return {};
    },
    mergePatch: async () => ({}),
  } as unknown as KubeRestClient;
  const c = new ServiceImportController({
    cache,
    meshReady: Promise.resolve(),
    localCluster: 'east',
    client,
    log: nolog,
    mayWrite: () => true,
  });
  c.start();
  for (let i = 0; i < 5; i++) {
    await new Promise((r) => setTimeout(r, 30));
    await c.idle();
  }
  await c.stop();
  return writes;
}

const foreign = {
  metadata: {
    name: 'web-export',
    namespace: 'shop',
    uid: 'f1',
    resourceVersion: '4',
    labels: { 'kubernetes.io/service-name': 'web-export', 'endpointslice.kubernetes.io/managed-by': 'team-b' },
  },
  addressType: 'IPv4',
  endpoints: [{ addresses: ['10.0.0.9'] }],
  ports: [{ name: 'http', port: 80, protocol: 'TCP' }],
};

test("a ServiceExport never takes over someone else's EndpointSlice of the announcement's name: Conflict and Event", async () => {
  const writes = await run(foreign);
  assert.deepEqual(
    writes.filter((w) => w.path.includes('/endpointslices')),
    [],
    'the foreign slice is neither written nor deleted',
  );
  const status = writes.find((w) => w.path.endsWith('/serviceexports/web/status'));
  assert.ok(status, 'the export says why');
  type Conditions = { status: { conditions: { type: string; status: string; reason: string; message: string }[] } };
  const conflict = (status.body as Conditions).status.conditions.find((c) => c.type === 'Conflict');
  assert.equal(conflict?.status, 'True');
  assert.equal(conflict?.reason, 'AnnouncementNameTaken');
  assert.match(conflict?.message ?? '', /shop\/web-export .*rename or delete that EndpointSlice/);
  const event = writes.find((w) => w.path.endsWith('/events'));
  assert.ok(event, 'a Warning Event says it too');
  const body = event.body as { reason: string; involvedObject: { kind: string } };
  assert.equal(body.reason, 'AnnouncementNameTaken');
  assert.equal(body.involvedObject.kind, 'ServiceExport');
});

test('without a ServiceExport, a slice of that name that is not ours is not deleted either', async () => {
  const own = { ...foreign, metadata: { ...foreign.metadata, labels: { ...foreign.metadata.labels } } };
  const writes = await run(own, false);
  assert.deepEqual(
    writes.filter((w) => w.verb === 'DELETE'),
    [],
  );
});

test('fedmesh deletes its own announcement once the export goes, with a uid precondition', async () => {
  const own = {
    metadata: {
      name: 'web-export',
      namespace: 'shop',
      uid: 'a1',
      resourceVersion: '4',
      labels: {
        'endpointslice.kubernetes.io/managed-by': 'mcs.federation.fedmesh.io',
        'fedmesh.io/service-export': 'web',
        'fedmesh.io/exported-at': '1767225600',
        'fedmesh.io/export-type': 'ClusterSetIP',
      },
    },
    addressType: 'IPv4',
    endpoints: [],
  };
  const writes = await run(own, false);
  assert.deepEqual(
    writes.filter((w) => w.verb === 'DELETE'),
    [{ verb: 'DELETE', path: slicePath, body: { preconditions: { uid: 'a1' } } }],
  );
});
