import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { MeshEndpointSlice, MeshService } from '../mesh-types.js';
import { federatedEndpoints } from './endpoints.js';
import { federatedSelectorOf, mayBeBackend } from './federated-service.js';
import { serviceWarnings } from './service-warnings.js';

const svc = (cluster: string, name: string, extra: Partial<MeshService> = {}): MeshService => ({
  kind: 'Service',
  cluster,
  namespace: 'shop',
  name,
  uid: `svc-${cluster}-${name}`,
  labels: { app: 'api' },
  created: 0,
  revision: 1,
  type: 'ClusterIP',
  selector: { app: 'api' },
  ports: [{ name: 'http', port: 80, targetPort: 8080, protocol: 'TCP' }],
  annotations: {},
  ...extra,
});
const fed = svc('east', 'api-global', {
  labels: {},
  selector: null,
  annotations: { 'federation.fedmesh.io/serviceSelector': "app == 'api'" },
  ports: [
    { name: 'http', port: 80, targetPort: 80, protocol: 'TCP' },
    { name: 'dns', port: 53, targetPort: 53, protocol: 'UDP' },
  ],
});
const slice = (cluster: string, service: string, ip: string, ready = true): MeshEndpointSlice => ({
  kind: 'EndpointSlice',
  cluster,
  namespace: 'shop',
  name: `${service}-${ip}`,
  uid: `sl-${cluster}-${service}-${ip}`,
  labels: {},
  created: 0,
  revision: 1,
  serviceName: service,
  addressType: 'IPv4',
  endpoints: [{ addresses: [ip], ready, serving: ready, terminating: false, nodeName: 'n', podName: `p-${ip}` }],
  ports: [
    { name: 'http', port: 8080, protocol: 'TCP' },
    { name: 'metrics', port: 9090, protocol: 'TCP' },
  ],
});

test('one predicate: federated = the annotation (either key) and no spec.selector; annotated Services never back', () => {
  assert.equal(federatedSelectorOf(fed), "app == 'api'");
  const calico = { annotations: { 'federation.tigera.io/serviceSelector': 'all()' }, selector: null };
  assert.equal(federatedSelectorOf(calico), 'all()');
  const withSelector = { annotations: fed.annotations, labels: {}, selector: { app: 'x' } };
  assert.equal(federatedSelectorOf(withSelector), undefined, 'a Service with spec.selector is not federated');
  assert.equal(mayBeBackend(withSelector), false, '...and never a backend either');
  assert.equal(mayBeBackend(svc('west', 'api')), true);
  const derived = svc('west', 'derived-1', { selector: null, labels: { 'fedmesh.io/service-import': 'api' } });
  assert.equal(mayBeBackend(derived), false, 'the Service derived from a ServiceImport holds remote endpoints already');
});

test('selects by labels and cluster in the same namespace; ports by name and protocol; numbers from the backend', () => {
  const services = [
    fed,
    svc('west', 'api'),
    svc('north', 'api'),
    svc('north', 'other', { labels: { app: 'other' } }),
    svc('west', 'api', { namespace: 'elsewhere' }),
    svc('west', 'misconfigured', { annotations: { 'federation.fedmesh.io/serviceSelector': 'all()' } }),
  ];
  const slices = [
    slice('west', 'api', '10.1.0.1', false),
    slice('north', 'api', '10.3.0.1'),
    slice('west', 'misconfigured', '10.9.9.9'),
  ];
  const r = federatedEndpoints(fed, services, (c, _ns, n) =>
    slices.filter((s) => s.cluster === c && s.serviceName === n),
  );
  assert.ok(r.valid);
  assert.deepEqual(
    r.backends.map((b) => `${b.cluster}/${b.name}`),
    ['north/api', 'west/api'],
  );
  assert.deepEqual(
    r.endpoints.map((e) => [e.cluster, e.ip, e.ready, e.ports.map((p) => `${p.name}:${p.port}`).join()]),
    [
      ['north', '10.3.0.1', true, 'http:8080'],
      ['west', '10.1.0.1', false, 'http:8080'],
    ],
  );
  assert.deepEqual(
    r.warnings.map((w) => w.reason),
    ['PortNotMatched'],
    'dns/UDP matches nothing',
  );
  const byCluster = {
    ...fed,
    annotations: { 'federation.fedmesh.io/serviceSelector': "fedmesh.io/cluster == 'west'" },
  };
  const west = federatedEndpoints(byCluster, services, (c, _ns, n) =>
    slices.filter((s) => s.cluster === c && s.serviceName === n),
  );
  assert.ok(west.valid);
  assert.deepEqual(
    west.backends.map((b) => `${b.cluster}/${b.name}`),
    ['west/api'],
  );
});

test('an invalid selector and a port name used with another protocol are warnings', () => {
  const bad = { ...fed, annotations: { 'federation.fedmesh.io/serviceSelector': 'app ==' } };
  const r = federatedEndpoints(bad, [bad], () => []);
  assert.equal(r.valid, false);
  assert.equal(r.warnings[0]?.reason, 'InvalidServiceSelector');
  const udp = svc('west', 'api', { ports: [{ name: 'http', port: 80, targetPort: 8080, protocol: 'UDP' }] });
  const c = federatedEndpoints(fed, [fed, udp], () => []);
  assert.ok(c.valid);
  assert.match(
    c.warnings.map((w) => `${w.reason} ${w.message}`).join('\n'),
    /PortProtocolConflict port "http" is TCP here but west\/api \(UDP\)/,
  );
});

test('a federation annotation on a Service with a spec.selector is ignored, and a Warning says so', () => {
  const both = svc('east', 'api', { annotations: { 'federation.fedmesh.io/serviceSelector': "app == 'api'" } });
  assert.deepEqual(
    serviceWarnings(both, undefined).map((w) => w.reason),
    ['FederationIgnored'],
  );
  assert.deepEqual(serviceWarnings(svc('east', 'plain'), undefined), [], 'a plain Service has nothing to fix');
});

test('a remote endpoint with an address this cluster holds is left out, with a warning per cluster; local ones stay', () => {
  const own = new Set(['10.0.0.11', '10.246.0.5']);
  const guard = { localCluster: 'east', isLocal: (ip: string) => own.has(ip) };
  const backends = [svc('east', 'api'), svc('west', 'api'), svc('north', 'api')];
  const slices = new Map([
    ['east', [slice('east', 'api', '10.246.0.5')]],
    [
      'west',
      [slice('west', 'api', '10.0.0.11'), slice('west', 'api', '10.245.0.9'), slice('west', 'api', '10.246.0.5')],
    ],
    ['north', [slice('north', 'api', '10.247.0.3')]],
  ]);
  const r = federatedEndpoints(fed, backends, (cluster) => slices.get(cluster) ?? [], guard);
  assert.ok(r.valid);
  assert.deepEqual(
    r.endpoints.map((e) => `${e.cluster} ${e.ip}`),
    ['east 10.246.0.5', 'north 10.247.0.3', 'west 10.245.0.9'],
  );
  assert.deepEqual(
    r.warnings.filter((w) => w.reason === 'RemoteAddressIsLocal').map((w) => w.message.slice(0, 60)),
    ["2 endpoint addresses of cluster west are this cluster's own "],
  );
  // Without a guard (no local networks known), nothing is left out.
  const open = federatedEndpoints(fed, backends, (cluster) => slices.get(cluster) ?? []);
  assert.ok(open.valid);
  assert.equal(open.endpoints.length, 5);
});
