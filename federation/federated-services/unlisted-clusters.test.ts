import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { KubeRestClient } from '../../core/kube/rest-client.js';
import type { Logger } from '../../core/log/logger.js';
import { MeshCache } from '../mesh-cache.js';
import type { ClusterState, ClusterStatus } from '../mesh-types.js';
import { slimEndpointSlice, slimService } from '../slim.js';
import { FederatedServicesController } from './controller.js';
import { ServiceImportController } from './mcs/controller.js';
import { planSlices, serviceOwner } from './slice-plan.js';
import { UnlistedWaiters, unlistedClusters } from './unlisted-clusters.js';

const nolog: Logger = {
  info() {},
  warn() {},
  error() {},
  debug() {},
  child() {
    return nolog;
  },
} as unknown as Logger;

function status(cluster: string, state: ClusterState, local = false): ClusterStatus {
  return {
    cluster,
    local,
    state,
    reason: state,
    message: '',
    staleSince: null,
    withdrawn: false,
    lastSyncTime: state === 'InSync' ? '2026-01-01T00:00:00Z' : null,
  };
}

interface Write {
  readonly verb: string;
  readonly path: string;
}

/** A local API server that holds `lists` (by path prefix) and records every write. */
function fakeClient(lists: Record<string, unknown[]>, writes: Write[]): KubeRestClient {
  const client = {
    get: async (path: string) => {
      for (const [prefix, items] of Object.entries(lists)) {
        if (path.startsWith(prefix)) return { items, metadata: { resourceVersion: '9' } };
      }
      return { items: [], metadata: { resourceVersion: '9' } };
    },
    watch: (_path: string, _onEvent: unknown, signal?: AbortSignal) =>
      new Promise<void>((r) => signal?.addEventListener('abort', () => r())),
    create: async (path: string, body: { metadata: { name?: string } }) => {
      if (!path.endsWith('/events')) writes.push({ verb: 'POST', path });
      return { ...body, metadata: { ...body.metadata, uid: 'new', resourceVersion: '11' } };
    },
    request: async (method: string, path: string, o: { body: { metadata?: object } }) => {
      writes.push({ verb: method, path });
      return { statusCode: 200, body: { ...o.body, metadata: { ...o.body.metadata, resourceVersion: '12' } } };
    },
    delete: async (path: string) => {
      writes.push({ verb: 'DELETE', path });
      return {};
    },
    mergePatch: async (path: string) => {
      writes.push({ verb: 'PATCH', path });
      return {};
    },
  };
  return client as unknown as KubeRestClient;
}

function must<T>(v: T | undefined): T {
  assert.ok(v);
  return v;
}
const svc = (cluster: string, raw: Parameters<typeof slimService>[1]) => must(slimService(cluster, raw));
const eps = (cluster: string, raw: Parameters<typeof slimEndpointSlice>[1]) => must(slimEndpointSlice(cluster, raw));

const backendPort = { name: 'http', port: 8080, protocol: 'TCP' as const };

/** The slice an earlier process wrote for west's endpoint 10.1.0.5, as the local API server holds it. */
function heldSlice(owner: { name: string; uid: string }, extra: { service?: string; managedBy?: string } = {}) {
  const plan = planSlices(
    {
      localCluster: 'east',
      namespace: 'shop',
      service: extra.service ?? owner.name,
      clustersetName: owner.name,
      owner: { ...serviceOwner(owner.name, owner.uid), ...(extra.service ? { kind: 'ServiceImport' } : {}) },
      ...(extra.managedBy ? { managedBy: extra.managedBy } : {}),
    },
    [
      {
        cluster: 'west',
        service: 'api-backend',
        addressType: 'IPv4',
        ip: '10.1.0.5',
        nodeName: '',
        podName: '',
        zone: '',
        ready: true,
        serving: true,
        terminating: false,
        ports: [backendPort],
      },
    ],
    [],
  );
  const body = plan.create[0];
  assert.ok(body);
  return { ...body, metadata: { ...body.metadata, uid: 's1', resourceVersion: '5' } };
}

async function settle(c: { idle(): Promise<void> }) {
  for (let i = 0; i < 5; i++) {
    await new Promise((r) => setTimeout(r, 30));
    await c.idle();
  }
}

test('a restart while west is unreachable keeps the slices written for west until west lists', async (t) => {
  const cache = new MeshCache();
  cache.setClusterStatus(status('east', 'InSync', true));
  const fed = {
    metadata: {
      name: 'api',
      namespace: 'shop',
      uid: 'real-uid-1',
      annotations: { 'federation.fedmesh.io/serviceSelector': "app == 'api'" },
    },
    spec: { ports: [{ name: 'http', port: 80, protocol: 'TCP' }] },
  };
  cache.replaceAll('east', 'Service', new Map([['shop/api', svc('east', fed)]]));
  cache.replaceAll('east', 'EndpointSlice', new Map());
  // west's RCC is there, its API server has not answered since this process started (Retain).
  cache.setClusterStatus(status('west', 'ConnectionFailed'));
  assert.deepEqual([...unlistedClusters(cache)], ['west']);
  const writes: Write[] = [];
  const client = fakeClient(
    { '/apis/discovery.k8s.io/v1/endpointslices': [heldSlice({ name: 'api', uid: 'real-uid-1' })] },
    writes,
  );
  const c = new FederatedServicesController({
    cache,
    meshReady: Promise.resolve(),
    localCluster: 'east',
    client,
    log: nolog,
    mayWrite: () => true,
  });
  c.start();
  t.after(() => c.stop());
  await settle(c);
  assert.equal(writes.length, 0, 'nothing written for a cluster that has not listed');

  // west lists: it no longer has the backend. Its slice goes now.
  cache.replaceAll('west', 'Service', new Map());
  cache.replaceAll('west', 'EndpointSlice', new Map());
  cache.setClusterStatus(status('west', 'InSync'));
  await settle(c);
  assert.deepEqual(
    writes.map((w) => w.verb),
    ['DELETE'],
  );
});

test('a backend of a listed cluster still follows the mesh while another cluster is unlisted', async (t) => {
  const cache = new MeshCache();
  cache.setClusterStatus(status('east', 'InSync', true));
  const fed = {
    metadata: {
      name: 'api',
      namespace: 'shop',
      uid: 'real-uid-1',
      annotations: { 'federation.fedmesh.io/serviceSelector': "app == 'api'" },
    },
    spec: { ports: [{ name: 'http', port: 80, protocol: 'TCP' }] },
  };
  const backend = {
    metadata: { name: 'api-backend', namespace: 'shop', uid: 'n1', labels: { app: 'api' } },
    spec: { ports: [backendPort] },
  };
  const slice = {
    metadata: { name: 'b-1', namespace: 'shop', uid: 'n2', labels: { 'kubernetes.io/service-name': 'api-backend' } },
    addressType: 'IPv4',
    endpoints: [{ addresses: ['10.2.0.7'], conditions: { ready: true } }],
    ports: [backendPort],
  };
  cache.replaceAll('east', 'Service', new Map([['shop/api', svc('east', fed)]]));
  cache.replaceAll('east', 'EndpointSlice', new Map());
  cache.setClusterStatus(status('north', 'InSync'));
  cache.replaceAll('north', 'Service', new Map([['shop/api-backend', svc('north', backend)]]));
  cache.replaceAll('north', 'EndpointSlice', new Map([['shop/b-1', eps('north', slice)]]));
  cache.setClusterStatus(status('west', 'ConnectionFailed'));
  const writes: Write[] = [];
  const client = fakeClient(
    { '/apis/discovery.k8s.io/v1/endpointslices': [heldSlice({ name: 'api', uid: 'real-uid-1' })] },
    writes,
  );
  const c = new FederatedServicesController({
    cache,
    meshReady: Promise.resolve(),
    localCluster: 'east',
    client,
    log: nolog,
    mayWrite: () => true,
  });
  c.start();
  t.after(() => c.stop());
  await settle(c);
  assert.deepEqual(
    writes.map((w) => w.verb),
    ['POST'],
    "north's endpoint is written, west's slice is left alone",
  );
});

test("a restart while west is unreachable keeps the ServiceImport, its derived Service and west's slices", async (t) => {
  const cache = new MeshCache();
  cache.setClusterStatus(status('east', 'InSync', true));
  cache.replaceAll('east', 'Service', new Map());
  cache.replaceAll('east', 'EndpointSlice', new Map());
  cache.replaceAll(
    'east',
    'Namespace',
    new Map([
      [
        'shop',
        {
          kind: 'Namespace',
          cluster: 'east',
          namespace: '',
          name: 'shop',
          uid: 'ns',
          labels: {},
          created: 0,
          revision: 0,
        },
      ],
    ]),
  );
  cache.setClusterStatus(status('west', 'ConnectionFailed'));
  const imp = {
    apiVersion: 'multicluster.x-k8s.io/v1alpha1',
    kind: 'ServiceImport',
    metadata: {
      name: 'api',
      namespace: 'shop',
      uid: 'imp-1',
      resourceVersion: '3',
      labels: { 'app.kubernetes.io/managed-by': 'fedmesh' },
    },
    spec: { type: 'ClusterSetIP', ports: [{ name: 'http', port: 8080, protocol: 'TCP' }], ips: ['10.96.0.20'] },
    status: { clusters: [{ cluster: 'west' }] },
  };
  const { derivedServiceName } = await import('./mcs/controller.js');
  const slice = heldSlice(
    { name: 'api', uid: 'imp-1' },
    { service: derivedServiceName('shop', 'api'), managedBy: 'mcs.federation.fedmesh.io' },
  );
  const writes: Write[] = [];
  const client = fakeClient(
    {
      '/apis/multicluster.x-k8s.io/v1alpha1/serviceimports': [imp],
      '/apis/discovery.k8s.io/v1/endpointslices': [slice],
    },
    writes,
  );
  const c = new ServiceImportController({
    cache,
    meshReady: Promise.resolve(),
    localCluster: 'east',
    client,
    log: nolog,
    mayWrite: () => true,
  });
  c.start();
  t.after(() => c.stop());
  await settle(c);
  assert.equal(writes.length, 0, 'the import of an unlisted cluster is left as it is');

  // west lists and exports nothing any more: the import goes.
  cache.replaceAll('west', 'Service', new Map());
  cache.replaceAll('west', 'EndpointSlice', new Map());
  cache.setClusterStatus(status('west', 'InSync'));
  await settle(c);
  assert.ok(writes.some((w) => w.verb === 'DELETE' && w.path.includes('/serviceimports/api')));
});

test('a cluster counts as listed once its lists completed or its objects were withdrawn; a forgotten one has none', () => {
  const cache = new MeshCache();
  cache.setClusterStatus(status('west', 'ConnectionFailed'));
  cache.setClusterStatus(status('north', 'ConnectionFailed'));
  cache.setClusterStatus(status('east', 'InSync', true));
  assert.deepEqual([...unlistedClusters(cache)].sort(), ['north', 'west'], 'the local cluster is never unlisted');
  cache.replaceAll('west', 'Service', new Map());
  assert.deepEqual([...unlistedClusters(cache)].sort(), ['north', 'west'], 'Services alone are not enough');
  cache.replaceAll('west', 'EndpointSlice', new Map());
  cache.removeObjects('north'); // Withdraw's ttl ran out
  assert.deepEqual([...unlistedClusters(cache)], []);
  cache.forgetCluster('north');
  cache.setClusterStatus(status('north', 'Connecting'));
  assert.deepEqual([...unlistedClusters(cache)], ['north'], 'an RCC created again starts unlisted');
});

test('waiters are queued again when their cluster lists or its RCC goes', async () => {
  const cache = new MeshCache();
  cache.setClusterStatus(status('west', 'ConnectionFailed'));
  cache.setClusterStatus(status('north', 'ConnectionFailed'));
  const queued: string[] = [];
  const w = new UnlistedWaiters(cache, (k) => queued.push(k), 20);
  w.wait('shop/a', ['west']);
  w.wait('shop/b', ['north']);
  w.check();
  assert.deepEqual(queued, []);
  cache.replaceAll('west', 'Service', new Map());
  cache.replaceAll('west', 'EndpointSlice', new Map());
  w.check();
  assert.deepEqual(queued, ['shop/a']);
  cache.forgetCluster('north'); // emits nothing: the poll finds it
  await new Promise((r) => setTimeout(r, 60));
  assert.deepEqual(queued, ['shop/a', 'shop/b']);
  w.stop();
});
