import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ClusterStatus, MeshEndpointSlice, MeshService, WorkloadEndpoint } from '../federation/index.js';
import { Projection } from './projection.js';
import type { Change } from './served-store.js';

const pod = (cluster: string, name: string, labels: Record<string, string> = {}): WorkloadEndpoint => ({
  kind: 'WorkloadEndpoint',
  cluster,
  namespace: 'shop',
  name,
  uid: `uid-${cluster}-${name}`,
  labels,
  created: 0,
  revision: 1,
  ips: ['10.1.0.1'],
  nodeName: 'n1',
  ready: true,
  serviceAccount: 'default',
  ports: [],
});
const svc = (cluster: string, name: string, extra: Partial<MeshService> = {}): MeshService => ({
  kind: 'Service',
  cluster,
  namespace: 'shop',
  name,
  uid: `svc-${cluster}-${name}`,
  labels: { app: name },
  created: 200_000_000, // as real Services have one (the FederatedEndpoint's lifecycle must not depend on it)
  revision: 1,
  type: 'ClusterIP',
  selector: { app: name },
  ports: [{ name: 'http', port: 80, targetPort: 8080, protocol: 'TCP' }],
  annotations: {},
  ...extra,
});
const slice = (cluster: string, service: string, ip: string): MeshEndpointSlice => ({
  kind: 'EndpointSlice',
  cluster,
  namespace: 'shop',
  name: `${service}-abc`,
  uid: `sl-${cluster}-${service}`,
  labels: {},
  created: 0,
  revision: 1,
  serviceName: service,
  addressType: 'IPv4',
  endpoints: [{ addresses: [ip], ready: true, serving: true, terminating: false, nodeName: 'n1', podName: 'p' }],
  ports: [
    { name: 'http', port: 8080, protocol: 'TCP' },
    { name: 'metrics', port: 9090, protocol: 'TCP' },
  ],
});
const upserts = (cs: Change[]) => cs.flatMap((c) => (c.type === 'upsert' ? [c.object] : []));

test('remote pods become RemoteWorkloads named <cluster>.<pod> with the virtual cluster label; local pods do not', () => {
  const p = new Projection('east');
  assert.deepEqual(p.apply({ type: 'added', revision: 1, object: pod('east', 'local') }), []);
  const [rwl] = upserts(p.apply({ type: 'added', revision: 2, object: pod('west', 'web-0', { app: 'web' }) }));
  assert.equal(rwl?.key, 'shop/west.web-0');
  assert.deepEqual(rwl?.labels, { app: 'web', 'fedmesh.io/cluster': 'west' });
  assert.equal(rwl?.fields['spec.cluster'], 'west');
  assert.deepEqual(p.apply({ type: 'deleted', revision: 3, object: pod('west', 'web-0') }), [
    { type: 'delete', resource: 'remoteworkloads', key: 'shop/west.web-0' },
  ]);
});

test('creationTimestamp is when the source object was created; without one, when this server first saw it', () => {
  const p = new Projection('east', () => new Date('2026-11-29T10:00:00.500Z'));
  const created = (Date.parse('2026-01-02T03:04:05Z') - Date.UTC(2020, 0, 1)) / 1000;
  const [withSource] = upserts(p.apply({ type: 'added', revision: 1, object: { ...pod('west', 'a'), created } }));
  const [without] = upserts(p.apply({ type: 'added', revision: 2, object: pod('west', 'b') }));
  const stamp = (o: typeof withSource) =>
    (o?.object as { metadata?: { creationTimestamp?: string } } | undefined)?.metadata?.creationTimestamp;
  assert.equal(stamp(withSource), '2026-01-02T03:04:05Z');
  assert.equal(stamp(without), '2026-11-29T10:00:00Z');
});

test('a stale cluster re-renders its objects as stale, and back', () => {
  const p = new Projection('east');
  p.apply({ type: 'added', revision: 1, object: pod('west', 'a') });
  const status = (staleSince: string | null): ClusterStatus => ({
    cluster: 'west',
    local: false,
    state: staleSince ? 'ConnectionFailed' : 'InSync',
    reason: '',
    message: '',
    staleSince,
    withdrawn: false,
    lastSyncTime: null,
  });
  const [stale] = upserts(p.apply({ type: 'cluster', revision: 2, status: status('2026-11-29T05:00:00Z') }));
  assert.deepEqual((stale!.object as unknown as { status: unknown }).status, {
    ready: true,
    stale: true,
    staleSince: '2026-11-29T05:00:00Z',
  });
  const [fresh] = upserts(p.apply({ type: 'cluster', revision: 3, status: status(null) }));
  assert.deepEqual((fresh!.object as unknown as { status: unknown }).status, { ready: true, stale: false });
});

test('a federated Service gets the endpoints of the Services its selector picks across clusters, ports by name', () => {
  const p = new Projection('east');
  const fed = svc('east', 'web-global', {
    selector: null,
    annotations: { 'federation.fedmesh.io/serviceSelector': "app == 'web'" },
    labels: {},
    ports: [{ name: 'http', port: 80, targetPort: 'http', protocol: 'TCP' }],
  });
  p.apply({ type: 'added', revision: 1, object: svc('west', 'web') });
  p.apply({ type: 'added', revision: 2, object: slice('west', 'web', '10.2.0.5') });
  p.apply({ type: 'added', revision: 3, object: svc('east', 'web') });
  p.apply({ type: 'added', revision: 4, object: slice('east', 'web', '10.1.0.5') });
  p.apply({ type: 'added', revision: 5, object: svc('west', 'db') });
  const fep = upserts(p.apply({ type: 'added', revision: 6, object: fed })).find(
    (o) => o.resource === 'federatedendpoints',
  );
  const body = fep!.object as unknown as {
    endpoints: { cluster: string; ip: string; ports: unknown[] }[];
    status: { clusters: string[] };
  };
  assert.deepEqual(
    body.endpoints.map((e) => [e.cluster, e.ip]),
    [
      ['east', '10.1.0.5'],
      ['west', '10.2.0.5'],
    ],
  );
  assert.deepEqual(body.endpoints[0]?.ports, [{ name: 'http', port: 8080, protocol: 'TCP' }]);
  assert.deepEqual(body.status.clusters, ['east', 'west']);
  // A backend slice changing in a remote cluster recomputes the federated endpoints.
  const again = upserts(p.apply({ type: 'modified', revision: 7, object: slice('west', 'web', '10.2.0.9') }));
  const ips = (again[0]!.object as unknown as typeof body).endpoints.map((e) => e.ip);
  assert.deepEqual(ips, ['10.1.0.5', '10.2.0.9']);
  // Removing the annotation ends the FederatedEndpoint.
  const plain = p.apply({ type: 'modified', revision: 8, object: { ...fed, annotations: {} } });
  assert.ok(
    plain.some((c) => c.type === 'delete' && c.resource === 'federatedendpoints' && c.key === 'shop/web-global'),
  );
});

test('an invalid selector is reported on the FederatedEndpoint, not thrown', () => {
  const p = new Projection('east');
  const bad = svc('east', 'x', { selector: null, annotations: { 'federation.tigera.io/serviceSelector': 'app ==' } });
  const [fep] = upserts(p.apply({ type: 'added', revision: 1, object: bad }));
  assert.equal((fep!.object as unknown as { status: { valid: boolean } }).status.valid, false);
});
