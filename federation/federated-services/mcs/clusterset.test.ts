import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { MeshEndpointSlice, MeshService, ServicePort } from '../../mesh-types.js';
import { announcementLabels, announcementOf } from './announcement.js';
import { type ExportedService, exportConditions, mergeExports } from './clusterset.js';

const port = (name: string, p: number, protocol: ServicePort['protocol'] = 'TCP'): ServicePort => ({
  name,
  port: p,
  targetPort: p,
  protocol,
});
const svc = (cluster: string, ports: ServicePort[], type = 'ClusterIP'): MeshService => ({
  kind: 'Service',
  cluster,
  namespace: 'shop',
  name: 'api',
  uid: `u-${cluster}`,
  labels: {},
  created: 0,
  revision: 1,
  type,
  selector: { app: 'api' },
  ports,
  annotations: {},
});
const exp = (cluster: string, at: number, ports: ServicePort[], headless = false): ExportedService => ({
  cluster,
  exportedAt: at,
  headless,
  service: svc(cluster, ports),
});

test('ports are the union of the exports; clusters sorted; no conflict when they agree', () => {
  const m = mergeExports([
    exp('west', 20, [port('http', 80)]),
    exp('north', 10, [port('http', 80), port('grpc', 9000)]),
  ]);
  assert.deepEqual(m, {
    type: 'ClusterSetIP',
    ports: [
      { name: 'http', protocol: 'TCP', port: 80 },
      { name: 'grpc', protocol: 'TCP', port: 9000 },
    ],
    clusters: ['north', 'west'],
    conflicts: [],
  });
  assert.deepEqual(
    exportConditions(svc('west', []), m).map((c) => `${c.type}=${c.status}/${c.reason}`),
    ['Valid=True/Valid', 'Conflict=False/NoConflicts'],
  );
});

test('a port conflict: the oldest export wins, and every export reports it', () => {
  const m = mergeExports([exp('north', 20, [port('http', 81)]), exp('west', 10, [port('http', 80)])]);
  assert.deepEqual(m?.ports, [{ name: 'http', protocol: 'TCP', port: 80 }]);
  assert.equal(m?.conflicts.length, 1);
  const [, conflict] = exportConditions(svc('north', []), m);
  assert.equal(conflict?.status, 'True');
  assert.equal(conflict?.reason, 'PortConflict');
  assert.match(
    conflict?.message ?? '',
    /port "http": west's 80\/TCP is used \(oldest export\); north has "http" 81\/TCP/,
  );
  // The same number and protocol under another name would make the derived Service invalid: a conflict too.
  const renamed = mergeExports([exp('west', 10, [port('http', 80)]), exp('north', 20, [port('web', 80)])]);
  assert.deepEqual(
    renamed?.ports.map((p) => p.name),
    ['http'],
  );
  assert.equal(renamed?.conflicts[0]?.reason, 'PortConflict');
});

/** The rules kube-apiserver applies to a Service's ports (the derived Service carries the merged ones). */
function serviceMayHold(ports: readonly { name: string; port: number; protocol: string }[]): boolean {
  const names = ports.map((p) => p.name);
  const keys = ports.map((p) => `${p.port}/${p.protocol}`);
  return (
    (ports.length <= 1 || names.every((n) => n !== '')) &&
    new Set(names).size === names.length &&
    new Set(keys).size === keys.length
  );
}

test('an unnamed port beside other ports is a port conflict: the oldest export wins, the merge stays a valid Service', () => {
  const m = mergeExports([exp('west', 20, [port('metrics', 9090)]), exp('east', 10, [port('', 80)])]);
  assert.deepEqual(m?.ports, [{ name: '', protocol: 'TCP', port: 80 }], "east's older unnamed port alone");
  assert.equal(m?.conflicts.length, 1);
  assert.equal(m?.conflicts[0]?.reason, 'PortConflict');
  assert.deepEqual(m?.conflicts[0]?.clusters, ['west']);
  assert.match(m?.conflicts[0]?.message ?? '', /unnamed port: a Service with more than one port needs a name on each/);
  assert.match(
    m?.conflicts[0]?.message ?? '',
    /east's 80\/TCP is used \(oldest export\).*west has "metrics" 9090\/TCP/,
  );
  const [, conflict] = exportConditions(svc('west', [port('metrics', 9090)]), m);
  assert.equal(conflict?.status, 'True');
  assert.equal(conflict?.reason, 'PortConflict');
  // The other way round: named ports first, a newer unnamed one does not join them.
  const named = mergeExports([
    exp('east', 10, [port('http', 80), port('metrics', 9090)]),
    exp('west', 20, [port('', 8080)]),
  ]);
  assert.deepEqual(
    named?.ports.map((p) => p.name),
    ['http', 'metrics'],
  );
  assert.equal(named?.conflicts[0]?.reason, 'PortConflict');
  // The same unnamed port everywhere is no conflict.
  assert.deepEqual(mergeExports([exp('east', 10, [port('', 80)]), exp('west', 20, [port('', 80)])])?.conflicts, []);
});

test('whatever the exports hold, the merged ports are what a Service may hold', () => {
  const names = ['', 'http', 'metrics'];
  const numbers = [80, 81];
  const protocols = ['TCP', 'UDP'] as const;
  const all = names.flatMap((n) => numbers.flatMap((p) => protocols.map((pr) => port(n, p, pr))));
  // Every pair of single-port exports, and exports of two ports, in both orders.
  for (const a of all) {
    for (const b of all) {
      for (const c of all) {
        const m = mergeExports([exp('east', 10, [a]), exp('west', 20, [b, c])]);
        const m2 = mergeExports([exp('east', 10, [b, c]), exp('west', 20, [a])]);
        for (const merged of [m, m2]) {
          assert.ok(serviceMayHold(merged?.ports ?? []), JSON.stringify({ a, b, c, ports: merged?.ports }));
        }
      }
    }
  }
});

test('headlessness: the oldest decides, the others report a TypeConflict; ties go by cluster name', () => {
  const m = mergeExports([exp('west', 10, [port('http', 80)]), exp('east', 10, [port('http', 80)], true)]);
  assert.equal(m?.type, 'Headless', 'east and west exported in the same second: east is first by name');
  assert.equal(m?.conflicts[0]?.reason, 'TypeConflict');
});

test('ExternalName and missing Services are not exported, and say why', () => {
  assert.equal(mergeExports([{ ...exp('west', 1, []), service: svc('west', [], 'ExternalName') }]), undefined);
  assert.deepEqual(
    exportConditions(svc('west', [], 'ExternalName'), undefined).map((c) => `${c.type}=${c.status}/${c.reason}`),
    ['Valid=False/InvalidServiceType', 'Conflict=False/NoConflicts'],
  );
  assert.equal(exportConditions(undefined, undefined)[0]?.reason, 'NoService');
});

test('an announcement is read with the cluster it came from, whatever its labels claim', () => {
  const labels = announcementLabels('north', {
    cluster: 'north',
    namespace: 'shop',
    name: 'api',
    exportedAt: 5,
    headless: false,
  });
  const slice: MeshEndpointSlice = {
    kind: 'EndpointSlice',
    cluster: 'west',
    namespace: 'shop',
    name: 'api-export',
    uid: 'x',
    labels,
    created: 0,
    revision: 1,
    serviceName: '',
    addressType: 'IPv4',
    endpoints: [],
    ports: [],
  };
  assert.deepEqual(announcementOf(slice), {
    cluster: 'west',
    namespace: 'shop',
    name: 'api',
    exportedAt: 5,
    headless: false,
  });
  assert.equal(announcementOf({ ...slice, serviceName: 'api' }), undefined, 'a slice of a Service is no announcement');
});

test("a ServiceImport name held by a user's object: the export stays valid and its Conflict condition says so", () => {
  const m = mergeExports([exp('west', 10, [port('http', 80)]), exp('north', 20, [port('http', 81)])]);
  const taken = { cluster: 'west', namespace: 'shop', name: 'api' };
  const [valid, conflict] = exportConditions(svc('west', [port('http', 80)]), m, taken);
  assert.equal(valid?.status, 'True');
  assert.equal(conflict?.status, 'True');
  assert.equal(conflict?.reason, 'PortConflict,ImportNameTaken');
  assert.match(
    conflict?.message ?? '',
    /north has "http" 81\/TCP; the ServiceImport shop\/api in cluster west was not created by fedmesh/,
  );
  assert.match(conflict?.message ?? '', /delete that ServiceImport/);
  // An invalid export says only why it is invalid.
  assert.deepEqual(
    exportConditions(undefined, m, taken).map((c) => `${c.type}=${c.status}/${c.reason}`),
    ['Valid=False/NoService', 'Conflict=False/NoConflicts'],
  );
});
