import assert from 'node:assert/strict';
import { test } from 'node:test';
import type {
  ClusterStatus,
  HostEndpoint,
  MeshEndpointSlice,
  MeshObject,
  MeshService,
  WorkloadEndpoint,
} from '../federation/index.js';
import { MeshCache } from '../federation/mesh-cache.js';
import { Projection } from './projection.js';
import type { Change } from './served-store.js';

/** The projection subscribed to a real mesh cache, as the API server wires them: every write goes through the cache. */
function projected(now?: () => Date) {
  const cache = new MeshCache({
    onListenerError: (err) => {
      throw err;
    },
  });
  const p = new Projection('east', cache, now);
  let out: Change[] = [];
  cache.subscribe((ev) => out.push(...p.apply(ev)));
  const run = (write: () => void): Change[] => {
    out = [];
    write();
    return out;
  };
  const key = (o: MeshObject) => (o.namespace ? `${o.namespace}/${o.name}` : o.name);
  return {
    put: (o: MeshObject) => run(() => cache.upsert(o.cluster, o.kind, key(o), o)),
    remove: (o: MeshObject) => run(() => cache.remove(o.cluster, o.kind, key(o))),
    status: (s: ClusterStatus) => run(() => cache.setClusterStatus(s)),
  };
}

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
/** The local federated Service `shop/web-global`, which picks every Service labelled app=web. */
const webGlobal = () =>
  svc('east', 'web-global', {
    selector: null,
    annotations: { 'federation.fedmesh.io/serviceSelector': "app == 'web'" },
    labels: {},
    ports: [{ name: 'http', port: 80, targetPort: 'http', protocol: 'TCP' }],
  });
const upserts = (cs: Change[]) => cs.flatMap((c) => (c.type === 'upsert' ? [c.object] : []));

test('remote pods become RemoteWorkloads named <cluster>.<pod> with the virtual cluster label; local pods do not', () => {
  const p = projected();
  assert.deepEqual(p.put(pod('east', 'local')), []);
  const [rwl] = upserts(p.put(pod('west', 'web-0', { app: 'web' })));
  assert.equal(rwl?.key, 'shop/west.web-0');
  assert.deepEqual(rwl?.labels, { app: 'web', 'fedmesh.io/cluster': 'west' });
  assert.equal(rwl?.fields['spec.cluster'], 'west');
  assert.deepEqual(p.remove(pod('west', 'web-0')), [
    { type: 'delete', resource: 'remoteworkloads', key: 'shop/west.web-0' },
  ]);
});

test('creationTimestamp is when the source object was created; without one, when this server first saw it', () => {
  const p = projected(() => new Date('2026-11-29T10:00:00.500Z'));
  const created = (Date.parse('2026-01-02T03:04:05Z') - Date.UTC(2020, 0, 1)) / 1000;
  const [withSource] = upserts(p.put({ ...pod('west', 'a'), created }));
  const [without] = upserts(p.put(pod('west', 'b')));
  const stamp = (o: typeof withSource) =>
    (o?.object as { metadata?: { creationTimestamp?: string } } | undefined)?.metadata?.creationTimestamp;
  assert.equal(stamp(withSource), '2026-01-02T03:04:05Z');
  assert.equal(stamp(without), '2026-11-29T10:00:00Z');
});

test('a stale cluster re-renders its objects as stale, and back', () => {
  const p = projected();
  p.put(pod('west', 'a'));
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
  const [stale] = upserts(p.status(status('2026-11-29T05:00:00Z')));
  assert.deepEqual((stale!.object as unknown as { status: unknown }).status, {
    ready: true,
    stale: true,
    staleSince: '2026-11-29T05:00:00Z',
  });
  const [fresh] = upserts(p.status(status(null)));
  assert.deepEqual((fresh!.object as unknown as { status: unknown }).status, { ready: true, stale: false });
});

test('a federated Service gets the endpoints of the Services its selector picks across clusters, ports by name', () => {
  const p = projected();
  const fed = webGlobal();
  p.put(svc('west', 'web'));
  p.put(slice('west', 'web', '10.2.0.5'));
  p.put(svc('east', 'web'));
  p.put(slice('east', 'web', '10.1.0.5'));
  p.put(svc('west', 'db'));
  const fep = upserts(p.put(fed)).find((o) => o.resource === 'federatedendpoints');
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
  const again = upserts(p.put(slice('west', 'web', '10.2.0.9')));
  const ips = (again[0]!.object as unknown as typeof body).endpoints.map((e) => e.ip);
  assert.deepEqual(ips, ['10.1.0.5', '10.2.0.9']);
  // Removing the annotation ends the FederatedEndpoint.
  const plain = p.put({ ...fed, annotations: {} });
  assert.ok(
    plain.some((c) => c.type === 'delete' && c.resource === 'federatedendpoints' && c.key === 'shop/web-global'),
  );
});

test('an invalid selector is reported on the FederatedEndpoint, not thrown', () => {
  const p = projected();
  const bad = svc('east', 'x', { selector: null, annotations: { 'federation.tigera.io/serviceSelector': 'app ==' } });
  const [fep] = upserts(p.put(bad));
  assert.equal((fep!.object as unknown as { status: { valid: boolean } }).status.valid, false);
});

test("an EndpointSlice whose service-name label changes leaves its old Service's federated endpoints", () => {
  const p = projected();
  const fed = webGlobal();
  p.put(svc('west', 'web'));
  p.put(svc('west', 'db'));
  p.put(fed);
  const ipsOf = (cs: Change[]) =>
    upserts(cs)
      .filter((o) => o.key === 'shop/web-global')
      .map((o) => (o.object as unknown as { endpoints: { ip: string }[] }).endpoints.map((e) => e.ip));
  assert.deepEqual(ipsOf(p.put(slice('west', 'web', '10.2.0.5'))), [['10.2.0.5']]);
  // The same slice (same name and uid) now says it belongs to db, which the selector does not pick.
  const moved = { ...slice('west', 'web', '10.2.0.5'), serviceName: 'db' };
  assert.deepEqual(ipsOf(p.put(moved)), [[]]);
  // And back, then to no Service at all.
  assert.deepEqual(ipsOf(p.put(slice('west', 'web', '10.2.0.5'))), [['10.2.0.5']]);
  assert.deepEqual(ipsOf(p.put({ ...slice('west', 'web', '10.2.0.5'), serviceName: '' })), [[]]);
});

test('a slice no federated Service reads re-renders nothing (the slices fedmesh writes for a federated Service itself)', () => {
  const p = projected();
  p.put(svc('west', 'web'));
  p.put(svc('west', 'db'));
  p.put(webGlobal());
  const feps = (cs: Change[]) => upserts(cs).filter((o) => o.resource === 'federatedendpoints');
  assert.equal(feps(p.put(slice('west', 'web', '10.2.0.5'))).length, 1, 'a backend slice: its reader re-renders');
  assert.deepEqual(feps(p.put(slice('west', 'db', '10.2.0.6'))), [], 'a slice of a Service nothing selects');
  assert.deepEqual(feps(p.put(slice('east', 'web-global', '10.2.0.5'))), [], 'the federated Service’s own slice');
});

test('a remote node publishes its VTEP from the annotations the agent writes (fedmesh.io/vtep-ip and vtep-mac)', () => {
  const p = projected();
  const node = (annotations: Record<string, string>): HostEndpoint => ({
    kind: 'HostEndpoint',
    cluster: 'west',
    namespace: '',
    name: 'n1',
    uid: 'uid-west-n1',
    labels: {},
    created: 0,
    revision: 1,
    addresses: [{ type: 'InternalIP', address: '192.168.0.2' }],
    podCIDRs: ['10.2.1.0/24'],
    ready: true,
    annotations,
  });
  const vtepOf = (changes: Change[]) =>
    changes.flatMap((c) => (c.type === 'upsert' ? [c.object.object as unknown as { spec: { vtep?: unknown } }] : []))[0]
      ?.spec.vtep;
  assert.deepEqual(
    vtepOf(p.put(node({ 'fedmesh.io/vtep-ip': '10.2.1.0', 'fedmesh.io/vtep-mac': '66:01:02:03:04:05' }))),
    {
      address: '10.2.1.0',
      mac: '66:01:02:03:04:05',
    },
  );
  // A cluster migrated from Calico publishes Calico's keys.
  const calico = {
    'projectcalico.org/IPv4VXLANTunnelAddr': '10.2.1.1',
    'projectcalico.org/VXLANTunnelMACAddr': '66:aa:aa:aa:aa:aa',
  };
  assert.deepEqual(vtepOf(p.put({ ...node(calico), revision: 2 })), { address: '10.2.1.1', mac: '66:aa:aa:aa:aa:aa' });
});
