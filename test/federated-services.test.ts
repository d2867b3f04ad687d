// Federated services end to end: three real clusters, each with its `fedmesh server` as `fedmesh testbed deploy`
// runs it (its own ServiceAccount, least privilege). The federated Service lives in east; its backends in east,
// west and north are filled by each cluster's own kube-controller-manager from pods.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { WatchEvent } from '../core/kube/rest-client.js';
import { webhookConfigurationName } from './testbed/deploy-webhooks.js';
import { eventually, repoRoot, startTestbed, type Testbed, type TestCluster } from './testbed/harness.js';
import { freePort, type Started, startDetached, stopProcess } from './testbed/processes.js';
import { killApiserver, restartApiserver } from './testbed/restart.js';
import { runCommand } from './testbed/run-command.js';
import { type ProcessRecord, readState } from './testbed/state.js';

let tb: Testbed;
let east: TestCluster;
let west: TestCluster;
let north: TestCluster;
let second: { readonly started: Started; readonly argv: readonly string[] } | undefined;

const ns = 'shop';
const fed = 'api-global';
const slicesPath = `/apis/discovery.k8s.io/v1/namespaces/${ns}/endpointslices`;
const byService = (svc: string) => `labelSelector=${encodeURIComponent(`kubernetes.io/service-name=${svc}`)}`;
const node = (name: string) => [{ name, count: 1 }];
const apiService = (extra: Record<string, unknown> = {}) => ({
  namespace: ns,
  name: 'api',
  selector: { app: 'api' },
  labels: { app: 'api' },
  ports: [
    { name: 'http', port: 80, targetPort: 8080 },
    { name: 'metrics', port: 9090, targetPort: 9090 },
  ],
  ...extra,
});
/** A federated Service of the test namespace with one port. */
const federated = (name: string, selector: string, port: string, number: number) => ({
  namespace: ns,
  name,
  annotations: { 'federation.fedmesh.io/serviceSelector': selector },
  ports: [{ name: port, port: number }],
});
const apiPods = (name: string, count: number) => ({
  namespace: ns,
  name,
  count,
  labels: { app: 'api' },
  ports: [
    { name: 'http', containerPort: 8080 },
    { name: 'metrics', containerPort: 9090 },
  ],
});

interface SliceJson {
  metadata: {
    name: string;
    resourceVersion: string;
    labels?: Record<string, string>;
    ownerReferences?: { kind: string; name: string; uid: string }[];
  };
  addressType: string;
  endpoints?: {
    addresses: string[];
    conditions?: { ready?: boolean; serving?: boolean };
    nodeName?: string;
    zone?: string;
    targetRef?: { name?: string };
  }[];
  ports?: { name?: string; port?: number; protocol?: string }[];
}

const fedSlices = async () =>
  await east.client.get<{ items: SliceJson[]; metadata: { resourceVersion: string } }>(
    `${slicesPath}?${byService(fed)}`,
  );
/** cluster ip ready ports, sorted: what the slices say. */
async function sliceView(): Promise<string[]> {
  const out: string[] = [];
  for (const s of (await fedSlices()).items) {
    const cluster = s.metadata.labels?.['multicluster.kubernetes.io/source-cluster'] ?? '?';
    const ports = (s.ports ?? []).map((p) => `${p.name}:${p.port}/${p.protocol}`).join(',');
    for (const e of s.endpoints ?? []) out.push(`${cluster} ${e.addresses[0]} ${e.conditions?.ready} ${ports}`);
  }
  return out.sort();
}
/** The same, from `kubectl get federatedendpoints`. */
async function fepView(name = fed): Promise<string[]> {
  const fep = JSON.parse(await east.kubectlOk(['get', 'federatedendpoints', name, '-n', ns, '-o', 'json'])) as {
    endpoints: {
      cluster: string;
      ip: string;
      ready: boolean;
      ports: { name: string; port: number; protocol: string }[];
    }[];
  };
  return fep.endpoints
    .map((e) => `${e.cluster} ${e.ip} ${e.ready} ${e.ports.map((p) => `${p.name}:${p.port}/${p.protocol}`).join(',')}`)
    .sort();
}
/** The testbed's state as the file has it now (deploy added the servers), for the restart helpers that write it. */
function liveState() {
  const st = readState(tb.dir);
  assert.ok(st);
  return st;
}
const servers = (cluster: string): ProcessRecord[] =>
  readState(tb.dir)?.processes.filter((p) => p.component === 'fedmesh-server' && p.cluster === cluster) ?? [];
async function metric(port: number | null, name: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  let sum = 0;
  for (const line of text.split('\n'))
    if (line.startsWith(name) && !line.startsWith('#')) sum += Number(line.split(' ').pop());
  return sum;
}
const writes = (port: number | null) => metric(port, 'fedmesh_federated_service_slice_writes_total');
const rcc = async (name: string) =>
  JSON.parse(await east.kubectlOk(['get', 'rcc', name, '-o', 'json'])) as { status?: { state?: string } };
const staleClusters = async () =>
  (
    JSON.parse(await east.kubectlOk(['get', 'fep', fed, '-n', ns, '-o', 'json'])) as {
      status: { staleClusters?: string[] };
    }
  ).status.staleClusters ?? [];

/** What a kubelet does when a pod's readiness probe changes: the Ready condition, on the status subresource. */
const setWestPodReady = (pod: string, ready: boolean) =>
  west.client.request('PATCH', `/api/v1/namespaces/${ns}/pods/${pod}/status`, {
    body: { status: { conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }] } },
    contentType: 'application/strategic-merge-patch+json',
  });

/** Every change to the federated Service's slices from now on. */
async function watchSlices(): Promise<{ events: string[]; stop(): void }> {
  const rv = (await fedSlices()).metadata.resourceVersion;
  const events: string[] = [];
  const ac = new AbortController();
  void east.client
    .watch(
      `${slicesPath}?${byService(fed)}&watch=1&resourceVersion=${rv}`,
      (ev: WatchEvent) => {
        if (ev.type !== 'BOOKMARK') events.push(`${ev.type} ${String((ev.object.metadata as { name?: string }).name)}`);
      },
      ac.signal,
    )
    .catch(() => {});
  return { events, stop: () => ac.abort() };
}

before(async () => {
  tb = await startTestbed({ name: 'federated-services', clusters: ['east', 'west', 'north'] });
  east = tb.cluster('east');
  west = tb.cluster('west');
  north = tb.cluster('north');
  const deployed = await runCommand(process.execPath, [join(repoRoot, 'bin', 'fedmesh.js'), 'testbed', 'deploy'], {
    env: { ...process.env, FEDMESH_TESTBED_DIR: tb.dir },
  });
  assert.equal(deployed.code, 0, deployed.stderr);
  const namespaces = [{ name: ns }];
  await Promise.all([
    west.seed({
      namespaces,
      nodes: [{ name: 'w', count: 1, labels: { 'topology.kubernetes.io/zone': 'west-a' } }],
      services: [apiService()],
      pods: [apiPods('api-w', 2)],
    }),
    north.seed({
      namespaces,
      nodes: node('n'),
      podCIDR: '10.245.0.0/16',
      services: [
        apiService(),
        {
          namespace: ns,
          name: 'other',
          selector: { app: 'other' },
          labels: { app: 'other' },
          ports: [{ name: 'http', port: 80 }],
        },
      ],
      pods: [apiPods('api-n', 1), { namespace: ns, name: 'other', count: 1, labels: { app: 'other' } }],
    }),
    east.seed({
      namespaces,
      nodes: node('e'),
      podCIDR: '10.246.0.0/16',
      services: [
        apiService(),
        {
          namespace: ns,
          name: fed,
          annotations: { 'federation.fedmesh.io/serviceSelector': "app == 'api'" },
          ports: [{ name: 'http', port: 80, targetPort: 80 }],
        },
      ],
      pods: [apiPods('api-e', 1)],
    }),
  ]);
});

after(async () => {
  if (second) await stopProcess({ pid: second.started.pid, argv: second.argv });
  await tb?.down();
});

describe('a federated Service', () => {
  test('gets the endpoints of the matching Services of east, west and north, with the port it names', async () => {
    await eventually(async () => assert.equal((await sliceView()).length, 4), 60_000);
    const view = await sliceView();
    assert.deepEqual(
      view.map((l) => l.split(' ')[0]),
      ['east', 'north', 'west', 'west'],
    );
    for (const l of view) assert.match(l, / true http:8080\/TCP$/, 'only http, with the backend port');
    const slices = (await fedSlices()).items;
    const svcUid = (await east.client.get<{ metadata: { uid: string } }>(`/api/v1/namespaces/${ns}/services/${fed}`))
      .metadata.uid;
    for (const s of slices) {
      assert.equal(s.metadata.labels?.['endpointslice.kubernetes.io/managed-by'], 'federation.fedmesh.io');
      assert.equal(s.metadata.labels?.['multicluster.kubernetes.io/service-name'], fed);
      assert.equal(
        s.metadata.labels?.['fedmesh.io/cluster'],
        s.metadata.labels?.['multicluster.kubernetes.io/source-cluster'],
      );
      assert.deepEqual(
        s.metadata.ownerReferences?.map((o) => [o.kind, o.name, o.uid]),
        [['Service', fed, svcUid]],
      );
      const remote = s.metadata.labels?.['fedmesh.io/cluster'] !== 'east';
      for (const e of s.endpoints ?? []) {
        if (remote) assert.equal(e.targetRef, undefined, 'no targetRef: it would name a pod of this cluster');
        else assert.match(e.targetRef?.name ?? '', /^api-e-\d$/);
        assert.equal(e.nodeName === undefined, remote, 'nodeName only for endpoints on nodes of this cluster');
        if (s.metadata.labels?.['fedmesh.io/cluster'] === 'west')
          assert.equal(e.zone, 'west-a', 'the zone carried over');
      }
    }
    // The served view and the slices agree, through kubectl.
    assert.deepEqual(await fepView(), view);
    const kubectlSlices = await east.kubectlOk([
      'get',
      'endpointslices',
      '-n',
      ns,
      '-l',
      `kubernetes.io/service-name=${fed}`,
    ]);
    assert.equal(kubectlSlices.trim().split('\n').length - 1, 3, 'one slice per source cluster');
  });

  test('the server may write what the controllers write, and no more', async () => {
    const can = async (...args: string[]) =>
      (
        await east.kubectl(['auth', 'can-i', ...args, '--as=system:serviceaccount:fedmesh-system:fedmesh-server'])
      ).stdout.trim();
    assert.equal(await can('create', 'endpointslices.discovery.k8s.io', '-n', ns), 'yes');
    assert.equal(await can('delete', 'endpointslices.discovery.k8s.io', '-n', ns), 'yes');
    assert.equal(await can('create', 'events', '-n', ns), 'yes');
    assert.equal(await can('create', 'serviceimports.multicluster.x-k8s.io', '-n', ns), 'yes');
    assert.equal(
      await can('patch', 'serviceimports.multicluster.x-k8s.io/api', '--subresource=status', '-n', ns),
      'yes',
    );
    assert.equal(
      await can('patch', 'serviceexports.multicluster.x-k8s.io/api', '--subresource=status', '-n', ns),
      'yes',
    );
    assert.equal(
      await can('update', 'serviceexports.multicluster.x-k8s.io/api', '-n', ns),
      'no',
      "a user's export is not ours",
    );
    assert.equal(await can('delete', 'pods', '-n', ns), 'no');
    assert.equal(await can('update', 'services', '-n', ns), 'no');
    assert.equal(await can('delete', 'events', '-n', ns), 'no');
  });

  test('a pod going unready in west shows in the slice, and in the FederatedEndpoint', async () => {
    await setWestPodReady('api-w-1', false);
    await eventually(
      async () => assert.equal((await sliceView()).filter((l) => l.includes(' false ')).length, 1),
      30_000,
    );
    const unready = (await sliceView()).find((l) => l.includes(' false '));
    assert.match(unready ?? '', /^west /);
    assert.deepEqual(await fepView(), await sliceView());
  });

  test('a Service relabelled out of the selection disappears; back in, it returns', async () => {
    await north.client.mergePatch(`/api/v1/namespaces/${ns}/services/api`, {
      metadata: { labels: { app: 'retired' } },
    });
    await eventually(
      async () =>
        assert.deepEqual(
          (await sliceView()).map((l) => l.split(' ')[0]),
          ['east', 'west', 'west'],
        ),
      30_000,
    );
    assert.deepEqual(await fepView(), await sliceView());
    await north.client.mergePatch(`/api/v1/namespaces/${ns}/services/api`, { metadata: { labels: { app: 'api' } } });
    await eventually(async () => assert.equal((await sliceView()).length, 4), 30_000);
  });

  test('a Service that stops being federated loses its slices; a slice fedmesh did not write is never touched', async () => {
    await east.seed({ services: [federated('temp', "app == 'api'", 'http', 80)] });
    const foreign = await east.client.create<{ metadata: { resourceVersion: string } }>(slicesPath, {
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: {
        name: 'temp-by-hand',
        labels: { 'kubernetes.io/service-name': 'temp', 'endpointslice.kubernetes.io/managed-by': 'someone-else' },
      },
      addressType: 'IPv4',
      endpoints: [{ addresses: ['192.0.2.1'] }],
    });
    const ours = async () =>
      (await east.client.get<{ items: SliceJson[] }>(`${slicesPath}?${byService('temp')}`)).items.filter(
        (x) => x.metadata.labels?.['endpointslice.kubernetes.io/managed-by'] === 'federation.fedmesh.io',
      ).length;
    await eventually(async () => assert.equal(await ours(), 3), 30_000);
    await east.kubectlOk(['annotate', 'service', 'temp', '-n', ns, 'federation.fedmesh.io/serviceSelector-']);
    await eventually(async () => assert.equal(await ours(), 0), 30_000);
    const after = await east.client.get<{ metadata: { resourceVersion: string } }>(`${slicesPath}/temp-by-hand`);
    assert.equal(after.metadata.resourceVersion, foreign.metadata.resourceVersion, 'untouched');
    await east.kubectlOk(['delete', 'service', 'temp', '-n', ns]);
  });

  test('what a user must fix shows as Events on the Service', async () => {
    // The admission webhook refuses a selector that does not parse…
    await assert.rejects(
      east.seed({ services: [federated('broken', 'app ==', 'http', 80)] }),
      /denied the request[\s\S]*invalid selector at position 6/,
    );
    // …but a Service written while no webhook was registered (before fedmesh was installed, or with
    // failurePolicy Ignore and no replica answering) is still there: the controller says what is wrong in Events.
    const vwc = JSON.parse(
      await east.kubectlOk(['get', 'validatingwebhookconfiguration', webhookConfigurationName, '-o', 'json']),
    ) as { metadata: Record<string, unknown> };
    await east.kubectlOk(['delete', 'validatingwebhookconfiguration', webhookConfigurationName]);
    try {
      await east.seed({
        services: [federated('broken', 'app ==', 'http', 80), federated('grpc', "app == 'api'", 'grpc', 9000)],
      });
    } finally {
      const { name, labels, annotations } = vwc.metadata;
      await east.kubectlOk(['create', '-f', '-'], JSON.stringify({ ...vwc, metadata: { name, labels, annotations } }));
    }
    const reasons = async (name: string) =>
      await east.kubectlOk([
        'get',
        'events',
        '-n',
        ns,
        '--field-selector',
        `involvedObject.name=${name}`,
        '-o',
        'custom-columns=REASON:.reason,MSG:.message',
        '--no-headers',
      ]);
    await eventually(
      async () =>
        assert.match(await reasons('broken'), /^InvalidServiceSelector\s+the serviceSelector "app ==" is invalid/m),
      30_000,
    );
    await eventually(
      async () => assert.match(await reasons('grpc'), /^PortNotMatched\s+port "grpc"\/TCP matches no port/m),
      30_000,
    );
    const slices = await east.client.get<{ items: unknown[] }>(`${slicesPath}?${byService('grpc')}`);
    assert.equal(slices.items.length, 0, 'no port in common: no endpoints');
  });

  test("a remote endpoint with one of this cluster's own addresses (a node's) is left out, and the Service says so", async () => {
    const nodes = JSON.parse(await east.kubectlOk(['get', 'nodes', '-o', 'json'])) as {
      items: { status: { addresses: { type: string; address: string }[] } }[];
    };
    const eastNode = nodes.items[0]?.status.addresses.find((a) => a.type === 'InternalIP')?.address ?? '';
    assert.match(eastNode, /^\d+\.\d+\.\d+\.\d+$/);
    // West's admin adds to its backend a slice that points at east's node (its kubelet port) beside a pod of its own.
    const hostile = 'api-hostile';
    await west.client.create(`/apis/discovery.k8s.io/v1/namespaces/${ns}/endpointslices`, {
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: { name: hostile, namespace: ns, labels: { 'kubernetes.io/service-name': 'api' } },
      addressType: 'IPv4',
      endpoints: [
        { addresses: [eastNode], conditions: { ready: true } },
        { addresses: ['10.250.9.9'], conditions: { ready: true } },
      ],
      ports: [{ name: 'http', port: 10250, protocol: 'TCP' }],
    });
    try {
      await eventually(async () => {
        const view = await sliceView();
        assert.ok(view.includes('west 10.250.9.9 true http:10250/TCP'), view.join('; '));
        assert.ok(!view.some((l) => l.includes(` ${eastNode} `)), `${eastNode} in ${view.join('; ')}`);
        assert.ok(!(await fepView()).some((l) => l.includes(` ${eastNode} `)), 'nor in the FederatedEndpoint');
      }, 30_000);
      await eventually(async () => {
        const events = await east.kubectlOk([
          'get',
          'events',
          '-n',
          ns,
          '--field-selector',
          `involvedObject.name=${fed},reason=RemoteAddressIsLocal`,
          '-o',
          'custom-columns=MSG:.message',
          '--no-headers',
        ]);
        assert.match(events, /1 endpoint address of cluster west is this cluster's own/);
      }, 30_000);
    } finally {
      await west.client.delete(`/apis/discovery.k8s.io/v1/namespaces/${ns}/endpointslices/${hostile}`);
    }
    await eventually(async () => assert.ok(!(await sliceView()).some((l) => l.includes('10.250.9.9'))), 30_000);
  });
});

const serviceExport = (cluster: TestCluster) =>
  cluster.kubectlOk(
    ['apply', '-f', '-'],
    JSON.stringify({
      apiVersion: 'multicluster.x-k8s.io/v1alpha1',
      kind: 'ServiceExport',
      metadata: { name: 'api', namespace: ns },
    }),
  );
const serviceImport = async (cluster: TestCluster) =>
  JSON.parse(
    await cluster.kubectlOk(['get', 'serviceimports.multicluster.x-k8s.io', 'api', '-n', ns, '-o', 'json']),
  ) as {
    metadata: { annotations?: Record<string, string> };
    spec: { type: string; ips?: string[]; ports: { name: string; port: number; protocol: string }[] };
    status?: {
      clusters?: { cluster: string }[];
      conditions?: { type: string; status: string; reason: string; message: string }[];
    };
  };
const importSlices = async () =>
  (
    await east.client.get<{ items: SliceJson[] }>(
      `${slicesPath}?labelSelector=${encodeURIComponent('multicluster.kubernetes.io/service-name=api,endpointslice.kubernetes.io/managed-by=mcs.federation.fedmesh.io,kubernetes.io/service-name')}`,
    )
  ).items;

describe('the multi-cluster services API', () => {
  const exportCondition = async (cluster: TestCluster, type: string) =>
    (
      (
        JSON.parse(
          await cluster.kubectlOk(['get', 'serviceexports.multicluster.x-k8s.io', 'api', '-n', ns, '-o', 'json']),
        ) as {
          status?: { conditions?: { type: string; status: string; reason: string; message: string }[] };
        }
      ).status?.conditions ?? []
    ).find((c) => c.type === type);
  const northPorts = (http: number) => [
    { name: 'http', port: http, targetPort: 8080, protocol: 'TCP' },
    { name: 'metrics', port: 9090, targetPort: 9090, protocol: 'TCP' },
    { name: 'grpc', port: 9000, targetPort: 9000, protocol: 'TCP' },
  ];

  test('exports of api in west and north: east imports it with the merged ports and the endpoints of both', async () => {
    await north.client.mergePatch(`/api/v1/namespaces/${ns}/services/api`, { spec: { ports: northPorts(80) } });
    await serviceExport(west);
    // Creation times have whole seconds: north's export must be younger by one, so that west's is the oldest.
    const exportedAt = Date.parse(
      await west.kubectlOk([
        'get',
        'serviceexports.multicluster.x-k8s.io',
        'api',
        '-n',
        ns,
        '-o',
        'jsonpath={.metadata.creationTimestamp}',
      ]),
    );
    await new Promise((r) => setTimeout(r, Math.max(0, exportedAt + 1000 - Date.now())));
    await serviceExport(north);
    const imp = await eventually(async () => {
      const i = await serviceImport(east);
      assert.deepEqual(
        i.status?.clusters?.map((c) => c.cluster),
        ['north', 'west'],
      );
      assert.equal(i.spec.ips?.length, 1);
      return i;
    }, 30_000);
    assert.equal(imp.spec.type, 'ClusterSetIP');
    assert.deepEqual(imp.spec.ports.map((p) => `${p.name}:${p.port}/${p.protocol}`).sort(), [
      'grpc:9000/TCP',
      'http:80/TCP',
      'metrics:9090/TCP',
    ]);
    const derived = imp.metadata.annotations?.['multicluster.kubernetes.io/derived-service'] ?? '';
    const clusterIP = (
      await east.kubectlOk(['get', 'service', derived, '-n', ns, '-o', 'jsonpath={.spec.clusterIP}'])
    ).trim();
    assert.equal(clusterIP, imp.spec.ips?.[0], "the clusterset IP is the derived Service's");
    await eventually(async () => {
      const slices = await importSlices();
      const byCluster = slices
        .map((s) => `${s.metadata.labels?.['multicluster.kubernetes.io/source-cluster']}:${s.endpoints?.length}`)
        .sort();
      assert.deepEqual(byCluster, ['north:1', 'west:2']);
      for (const s of slices) assert.equal(s.metadata.labels?.['kubernetes.io/service-name'], derived);
    }, 30_000);
    // Every cluster gets the import, the exporters too; each export is valid and without conflict.
    await eventually(async () => assert.equal((await serviceImport(west)).spec.type, 'ClusterSetIP'), 30_000);
    await eventually(async () => {
      assert.equal((await exportCondition(west, 'Valid'))?.status, 'True');
      assert.equal((await exportCondition(west, 'Conflict'))?.reason, 'NoConflicts');
    }, 30_000);
  });

  test('a port conflict: the oldest export wins, and both exports say so', async () => {
    await north.client.mergePatch(`/api/v1/namespaces/${ns}/services/api`, { spec: { ports: northPorts(81) } });
    for (const c of [west, north]) {
      await eventually(async () => {
        const cond = await exportCondition(c, 'Conflict');
        assert.equal(cond?.status, 'True', c.name);
        assert.equal(cond?.reason, 'PortConflict');
        assert.match(
          cond?.message ?? '',
          /port "http": west's 80\/TCP is used \(oldest export\); north has "http" 81\/TCP/,
        );
      }, 30_000);
    }
    const imp = await serviceImport(east);
    assert.ok(imp.spec.ports.some((p) => p.name === 'http' && p.port === 80));
  });

  test('an unnamed port beside named ones: a port conflict, and the derived Service stays valid', async () => {
    // One unnamed port in north, beside west's (older) named ports: a Service with several ports needs every name.
    await north.client.mergePatch(`/api/v1/namespaces/${ns}/services/api`, {
      spec: { ports: [{ port: 8081, targetPort: 8080, protocol: 'TCP' }] },
    });
    for (const c of [west, north]) {
      await eventually(async () => {
        const cond = await exportCondition(c, 'Conflict');
        assert.equal(cond?.reason, 'PortConflict', c.name);
        assert.match(cond?.message ?? '', /unnamed port: a Service with more than one port needs a name on each/);
        assert.match(cond?.message ?? '', /north has 8081\/TCP/);
      }, 30_000);
    }
    const imp = await eventually(async () => {
      const i = await serviceImport(east);
      assert.deepEqual(i.spec.ports.map((p) => `${p.name}:${p.port}`).sort(), ['http:80', 'metrics:9090']);
      const ready = i.status?.conditions?.find((c) => c.type === 'Ready');
      assert.equal(ready?.status, 'True', JSON.stringify(ready));
      return i;
    }, 30_000);
    const derived = imp.metadata.annotations?.['multicluster.kubernetes.io/derived-service'] ?? '';
    const ports = await east.kubectlOk(['get', 'service', derived, '-n', ns, '-o', 'jsonpath={.spec.ports[*].name}']);
    assert.deepEqual(ports.trim().split(' ').sort(), ['http', 'metrics']);
    assert.equal(imp.spec.ips?.length, 1);
    await north.client.mergePatch(`/api/v1/namespaces/${ns}/services/api`, { spec: { ports: northPorts(81) } });
  });

  test('a derived Service the API server refuses: the ServiceImport says why, and recovers once it can be created', async () => {
    const mcs = `/apis/multicluster.x-k8s.io/v1alpha1/namespaces/${ns}`;
    const readyOf = async () =>
      (
        await east.client.get<{
          status?: { conditions?: { type: string; status: string; reason: string; message: string }[] };
        }>(`${mcs}/serviceimports/other`)
      ).status?.conditions?.find((c) => c.type === 'Ready');
    // A quota that allows no more Services in east: the derived Service of a new import is refused (403).
    const count = (await east.kubectlOk(['get', 'services', '-n', ns, '-o', 'name'])).trim().split('\n').length;
    await east.client.create(`/api/v1/namespaces/${ns}/resourcequotas`, {
      apiVersion: 'v1',
      kind: 'ResourceQuota',
      metadata: { name: 'no-more-services', namespace: ns },
      spec: { hard: { services: String(count) } },
    });
    const dropQuota = () =>
      east.client.delete(`/api/v1/namespaces/${ns}/resourcequotas/no-more-services`).catch(() => undefined);
    try {
      await north.client.create(`${mcs}/serviceexports`, {
        apiVersion: 'multicluster.x-k8s.io/v1alpha1',
        kind: 'ServiceExport',
        metadata: { name: 'other', namespace: ns },
      });
      const failed = await eventually(async () => {
        const ready = await readyOf();
        assert.equal(ready?.status, 'False', JSON.stringify(ready));
        return ready;
      }, 60_000);
      assert.equal(failed?.reason, 'DerivedServiceFailed');
      assert.match(failed?.message ?? '', /cannot create the derived Service derived-[0-9a-f]{10}: .*quota/);
      const events = await eventually(async () => {
        const list = await east.client.get<{ items: { type: string; message: string }[] }>(
          `/api/v1/namespaces/${ns}/events?fieldSelector=${encodeURIComponent('involvedObject.kind=ServiceImport,involvedObject.name=other,reason=DerivedServiceFailed')}`,
        );
        assert.equal(list.items.length, 1);
        return list.items;
      }, 30_000);
      assert.equal(events[0]?.type, 'Warning');
      await dropQuota();
      await eventually(async () => {
        const ready = await readyOf();
        assert.equal(ready?.status, 'True', JSON.stringify(ready));
        const imp = await east.client.get<{ spec: { ips?: string[] } }>(`${mcs}/serviceimports/other`);
        assert.equal(imp.spec.ips?.length, 1, 'the clusterset IP once the derived Service exists');
      }, 90_000);
    } finally {
      // Whatever failed above, later tests must not inherit the quota or the export.
      await dropQuota();
      await north.client.delete(`${mcs}/serviceexports/other`).catch(() => undefined);
    }
    await eventually(async () => {
      const r = await east.kubectl(['get', 'serviceimports.multicluster.x-k8s.io', 'other', '-n', ns]);
      assert.match(r.stderr, /NotFound/);
    }, 30_000);
  });

  test('unexported everywhere, the import and its slices go', async () => {
    await west.kubectlOk(['delete', 'serviceexports.multicluster.x-k8s.io', 'api', '-n', ns]);
    await eventually(
      async () =>
        assert.deepEqual(
          (await serviceImport(east)).status?.clusters?.map((c) => c.cluster),
          ['north'],
        ),
      30_000,
    );
    await north.kubectlOk(['delete', 'serviceexports.multicluster.x-k8s.io', 'api', '-n', ns]);
    await eventually(async () => {
      const r = await east.kubectl(['get', 'serviceimports.multicluster.x-k8s.io', 'api', '-n', ns]);
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, /NotFound/);
      assert.equal((await importSlices()).length, 0);
      const derived = await east.kubectlOk([
        'get',
        'services',
        '-n',
        ns,
        '-l',
        'fedmesh.io/service-import=api',
        '-o',
        'name',
      ]);
      assert.equal(derived.trim(), '', 'the derived Service goes too');
    }, 30_000);
    await north.client.mergePatch(`/api/v1/namespaces/${ns}/services/api`, {
      spec: { ports: northPorts(80).slice(0, 2) },
    });
  });

  test("a headless export, and a user's ServiceImport of the same name: left untouched, and said so", async () => {
    const mcs = '/apis/multicluster.x-k8s.io/v1alpha1';
    const webImport = async (cluster: TestCluster) =>
      await cluster.client.get<{
        metadata: { resourceVersion: string; labels?: Record<string, string>; annotations?: Record<string, string> };
        spec: { type: string; ips?: string[]; ports: { name: string; port: number }[] };
        status?: { clusters?: { cluster: string }[] };
      }>(`${mcs}/namespaces/${ns}/serviceimports/web`);
    // A user's own ServiceImport web in east, written before anything exports web.
    const mine = await east.client.create<{ metadata: { resourceVersion: string } }>(
      `${mcs}/namespaces/${ns}/serviceimports`,
      {
        apiVersion: 'multicluster.x-k8s.io/v1alpha1',
        kind: 'ServiceImport',
        metadata: { name: 'web', namespace: ns, labels: { team: 'web' } },
        spec: { type: 'ClusterSetIP', ports: [{ name: 'mine', port: 1234, protocol: 'TCP' }] },
      },
    );
    // web is headless in east (its pods' own addresses, no cluster IP), and exported from there.
    await east.client.create(`/api/v1/namespaces/${ns}/services`, {
      metadata: { name: 'web', namespace: ns },
      spec: { clusterIP: 'None', selector: { app: 'api' }, ports: [{ name: 'http', port: 8080, targetPort: 8080 }] },
    });
    await east.client.create(`${mcs}/namespaces/${ns}/serviceexports`, {
      apiVersion: 'multicluster.x-k8s.io/v1alpha1',
      kind: 'ServiceExport',
      metadata: { name: 'web', namespace: ns },
    });

    // West imports it as Headless: no clusterset IP, a headless derived Service, east's pod as its endpoint.
    const podIP = (
      await east.kubectlOk(['get', 'pods', '-n', ns, '-l', 'app=api', '-o', 'jsonpath={.items[*].status.podIP}'])
    ).trim();
    assert.match(podIP, /^\d+\.\d+\.\d+\.\d+$/, 'one api pod in east');
    const imp = await eventually(async () => {
      const i = await webImport(west);
      assert.deepEqual(
        i.status?.clusters?.map((c) => c.cluster),
        ['east'],
      );
      return i;
    }, 30_000);
    assert.equal(imp.spec.type, 'Headless');
    assert.equal(imp.spec.ips, undefined, 'a headless import has no clusterset IP');
    assert.deepEqual(
      imp.spec.ports.map((p) => `${p.name}:${p.port}`),
      ['http:8080'],
    );
    const derived = imp.metadata.annotations?.['multicluster.kubernetes.io/derived-service'] ?? '';
    assert.equal(
      (await west.kubectlOk(['get', 'service', derived, '-n', ns, '-o', 'jsonpath={.spec.clusterIP}'])).trim(),
      'None',
    );
    await eventually(async () => {
      const slices = (
        await west.client.get<{ items: SliceJson[] }>(
          `${slicesPath}?labelSelector=${encodeURIComponent(`multicluster.kubernetes.io/service-name=web,kubernetes.io/service-name=${derived}`)}`,
        )
      ).items;
      assert.deepEqual(
        slices.flatMap((s) =>
          (s.endpoints ?? []).map(
            (e) => `${s.metadata.labels?.['multicluster.kubernetes.io/source-cluster']} ${e.addresses[0]}`,
          ),
        ),
        [`east ${podIP}`],
      );
    }, 30_000);

    // In east the name is the user's: untouched, and the export says so in its condition and in an Event.
    const exportConflict = async () =>
      (
        await east.client.get<{
          status?: { conditions?: { type: string; status: string; reason: string; message: string }[] };
        }>(`${mcs}/namespaces/${ns}/serviceexports/web`)
      ).status?.conditions?.find((c) => c.type === 'Conflict');
    await eventually(async () => {
      const c = await exportConflict();
      assert.equal(c?.status, 'True');
      assert.equal(c?.reason, 'ImportNameTaken');
      assert.match(c?.message ?? '', /ServiceImport shop\/web in cluster east was not created by fedmesh/);
    }, 30_000);
    const events = await eventually(async () => {
      const list = await east.client.get<{ items: { type: string; message: string }[] }>(
        `/api/v1/namespaces/${ns}/events?fieldSelector=${encodeURIComponent('involvedObject.kind=ServiceExport,involvedObject.name=web,reason=ImportNameTaken')}`,
      );
      assert.equal(list.items.length, 1);
      return list.items;
    }, 30_000);
    assert.equal(events[0]?.type, 'Warning');
    assert.match(events[0]?.message ?? '', /delete that ServiceImport/);
    const still = await webImport(east);
    assert.equal(
      still.metadata.resourceVersion,
      mine.metadata.resourceVersion,
      "the user's ServiceImport is untouched",
    );
    const eastDerived = await east.kubectlOk([
      'get',
      'services',
      '-n',
      ns,
      '-l',
      'fedmesh.io/service-import=web',
      '-o',
      'name',
    ]);
    assert.equal(eastDerived.trim(), '', 'no derived Service beside a ServiceImport fedmesh does not own');

    // The user's import gone, fedmesh imports web into east too, and the conflict clears.
    await east.client.delete(`${mcs}/namespaces/${ns}/serviceimports/web`);
    await eventually(async () => {
      const i = await webImport(east);
      assert.equal(i.metadata.labels?.['app.kubernetes.io/managed-by'], 'fedmesh');
      assert.equal(i.spec.type, 'Headless');
      assert.equal((await exportConflict())?.reason, 'NoConflicts');
    }, 30_000);

    await east.client.delete(`${mcs}/namespaces/${ns}/serviceexports/web`);
    for (const c of [east, west]) {
      await eventually(async () => {
        const r = await c.kubectl(['get', 'serviceimports.multicluster.x-k8s.io', 'web', '-n', ns]);
        assert.match(r.stderr, /NotFound/, c.name);
      }, 30_000);
    }
    await east.client.delete(`/api/v1/namespaces/${ns}/services/web`);
  });

  test('a namespace created after the export gets the import then', async () => {
    const late = 'created-late';
    const mcs = `/apis/multicluster.x-k8s.io/v1alpha1/namespaces/${late}`;
    await west.client.create('/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: late } });
    await west.client.create(`/api/v1/namespaces/${late}/services`, {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'db', namespace: late },
      spec: { ports: [{ name: 'sql', port: 5432 }] },
    });
    await west.client.create(`${mcs}/serviceexports`, {
      apiVersion: 'multicluster.x-k8s.io/v1alpha1',
      kind: 'ServiceExport',
      metadata: { name: 'db', namespace: late },
    });
    // West imports its own export once the announcement is through its mesh; east's watch of west is as quick, and
    // two seconds more make sure that east holds it before the namespace exists (the case under test).
    await eventually(async () => assert.ok(await west.client.get(`${mcs}/serviceimports/db`)), 30_000);
    await new Promise((r) => setTimeout(r, 2_000));
    await east.client.create('/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: late } });
    const imp = await eventually(
      async () => east.client.get<{ spec: { ports: { port: number }[] } }>(`${mcs}/serviceimports/db`),
      30_000,
    );
    assert.deepEqual(
      imp.spec.ports.map((p) => p.port),
      [5432],
    );
    await west.client.delete(`${mcs}/serviceexports/db`);
    await eventually(async () => {
      const r = await east.kubectl(['get', 'serviceimports.multicluster.x-k8s.io', 'db', '-n', late]);
      assert.match(r.stderr, /NotFound/);
    }, 30_000);
  });

  test('an EndpointSlice named like the announcement that fedmesh did not write: never taken over, and said so', async () => {
    const mcs = `/apis/multicluster.x-k8s.io/v1alpha1/namespaces/${ns}`;
    const slicePath = `${slicesPath}/cache-export`;
    // Team b's own slice for its selectorless Service cache-export, in west; the author of the ServiceExport below
    // could not write it.
    const theirs = await west.client.create<{ metadata: { resourceVersion: string } }>(slicesPath, {
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: {
        name: 'cache-export',
        namespace: ns,
        labels: { 'kubernetes.io/service-name': 'cache-export', 'endpointslice.kubernetes.io/managed-by': 'team-b' },
      },
      addressType: 'IPv4',
      endpoints: [{ addresses: ['10.9.9.9'] }],
      ports: [{ name: 'redis', port: 6379, protocol: 'TCP' }],
    });
    await west.client.create(`/api/v1/namespaces/${ns}/services`, {
      metadata: { name: 'cache', namespace: ns },
      spec: { ports: [{ name: 'redis', port: 6379 }] },
    });
    await west.client.create(`${mcs}/serviceexports`, {
      apiVersion: 'multicluster.x-k8s.io/v1alpha1',
      kind: 'ServiceExport',
      metadata: { name: 'cache', namespace: ns },
    });
    await eventually(async () => {
      const exp = await west.client.get<{
        status?: { conditions?: { type: string; status: string; reason: string; message: string }[] };
      }>(`${mcs}/serviceexports/cache`);
      const c = exp.status?.conditions?.find((x) => x.type === 'Conflict');
      assert.equal(c?.status, 'True');
      assert.equal(c?.reason, 'AnnouncementNameTaken');
      assert.match(c?.message ?? '', /rename or delete that EndpointSlice/);
    }, 30_000);
    await eventually(async () => {
      const list = await west.client.get<{ items: { type: string }[] }>(
        `/api/v1/namespaces/${ns}/events?fieldSelector=${encodeURIComponent('involvedObject.kind=ServiceExport,involvedObject.name=cache,reason=AnnouncementNameTaken')}`,
      );
      assert.deepEqual(
        list.items.map((e) => e.type),
        ['Warning'],
      );
    }, 30_000);
    const after = await west.client.get<{ metadata: { resourceVersion: string } }>(slicePath);
    assert.equal(after.metadata.resourceVersion, theirs.metadata.resourceVersion, "team b's slice is untouched");
    const noImport = await east.kubectl(['get', 'serviceimports.multicluster.x-k8s.io', 'cache', '-n', ns]);
    assert.match(noImport.stderr, /NotFound/, 'not announced: not imported');

    // Their slice gone, the export is announced and imported; unexported, only fedmesh's announcement goes.
    await west.client.delete(slicePath);
    await eventually(async () => assert.ok(await east.client.get(`${mcs}/serviceimports/cache`)), 30_000);
    await west.client.delete(`${mcs}/serviceexports/cache`);
    await eventually(async () => {
      const r = await west.kubectl(['get', 'endpointslices', 'cache-export', '-n', ns]);
      assert.match(r.stderr, /NotFound/);
    }, 30_000);
    await west.client.delete(`/api/v1/namespaces/${ns}/services/cache`);
  });
});

describe('a remote cluster that goes away', () => {
  test('Retain: the endpoints stay as they were; back, not one slice is written', async () => {
    const before = await sliceView();
    const watch = await watchSlices();
    try {
      await killApiserver(liveState(), 'west');
      await eventually(async () => assert.deepEqual(await staleClusters(), ['west']), 40_000);
      assert.deepEqual(await sliceView(), before, 'kept, with their last readiness');
      await restartApiserver(liveState(), 'west');
      await eventually(async () => {
        assert.equal((await rcc('west')).status?.state, 'InSync');
        assert.deepEqual(await staleClusters(), []);
      }, 60_000);
      assert.deepEqual(await sliceView(), before);
      assert.deepEqual(watch.events, [], 'no delete, no re-add, no update');
    } finally {
      watch.stop();
    }
  });

  test('Withdraw: the endpoints go after the ttl and come back with the cluster', async () => {
    await east.kubectlOk([
      'patch',
      'rcc',
      'west',
      '--type=merge',
      '-p',
      '{"spec":{"staleEndpoints":{"mode":"Withdraw","ttl":"2s"}}}',
    ]);
    const before = await sliceView();
    await killApiserver(liveState(), 'west');
    try {
      await eventually(
        async () =>
          assert.deepEqual(
            (await sliceView()).map((l) => l.split(' ')[0]),
            ['east', 'north'],
          ),
        40_000,
      );
      assert.deepEqual(await fepView(), await sliceView());
    } finally {
      await restartApiserver(liveState(), 'west');
    }
    await eventually(async () => assert.deepEqual(await sliceView(), before), 60_000);
    await east.kubectlOk([
      'patch',
      'rcc',
      'west',
      '--type=merge',
      '-p',
      '{"spec":{"staleEndpoints":{"mode":"Retain","ttl":null}}}',
    ]);
  });
});

describe('two replicas', () => {
  test('only the leader writes; killed, the other takes over and writes nothing that is right already', async () => {
    const first = servers('east')[0];
    assert.ok(first?.port);
    const port = await freePort();
    const apiPort = await freePort();
    const argv = first.argv.map((a) => {
      if (a.startsWith('--metrics-bind-address=')) return `--metrics-bind-address=127.0.0.1:${port}`;
      if (a.startsWith('--api-bind-address=')) return `--api-bind-address=127.0.0.1:${apiPort}`;
      return a;
    });
    second = { started: startDetached(argv, join(tb.dir, 'logs', 'east-fedmesh-server-2.log')), argv };
    await eventually(async () => assert.equal((await fetch(`http://127.0.0.1:${port}/readyz`)).status, 200), 60_000);
    // A change while both run: the leader writes it, the follower does not.
    const leaderWrites = await writes(first.port);
    await setWestPodReady('api-w-1', true);
    await eventually(async () => assert.ok(!(await sliceView()).some((l) => l.includes(' false '))), 30_000);
    assert.ok((await writes(first.port)) > leaderWrites);
    assert.equal(await writes(port), 0, 'the follower wrote nothing');

    // A ServiceImport too: what the new leader finds right it must not write either.
    await serviceExport(west);
    await eventually(async () => {
      assert.deepEqual(
        (await serviceImport(east)).status?.clusters?.map((c) => c.cluster),
        ['west'],
      );
      assert.equal((await importSlices()).length, 1);
    }, 30_000);
    const versions = async () => {
      const imp = await east.client.get<{ metadata: { resourceVersion: string } }>(
        `/apis/multicluster.x-k8s.io/v1alpha1/namespaces/${ns}/serviceimports/api`,
      );
      return [
        ...(await fedSlices()).items,
        ...(await importSlices()),
        imp as { metadata: { name?: string; resourceVersion: string } },
      ]
        .map((s) => `${s.metadata.name ?? 'import'}@${s.metadata.resourceVersion}`)
        .sort();
    };
    const before = await versions();
    process.kill(first.pid, 'SIGKILL');
    await eventually(async () => assert.equal(await metric(port, 'fedmesh_leader{'), 1), 40_000, 250);
    await eventually(async () => assert.equal(await metric(port, 'fedmesh_federated_services_queue_depth'), 0), 20_000);
    const writeLines = async () =>
      (await (await fetch(`http://127.0.0.1:${port}/metrics`)).text())
        .split('\n')
        .filter((l) => l.startsWith('fedmesh_federated_service_slice_writes_total'))
        .join('\n');
    assert.equal(await writes(port), 0, `the new leader found every slice right:\n${await writeLines()}`);
    const importNow = () =>
      east.kubectlOk([
        'get',
        'serviceimports.multicluster.x-k8s.io',
        'api',
        '-n',
        ns,
        '-o',
        'yaml',
        '--show-managed-fields',
      ]);
    assert.deepEqual(await versions(), before, `slices and ServiceImport unchanged:\n${await importNow()}`);
    // It does write what changes.
    await setWestPodReady('api-w-0', false);
    await eventually(
      async () => assert.equal((await sliceView()).filter((l) => l.includes(' false ')).length, 1),
      30_000,
    );
    assert.ok((await writes(port)) > 0);
  });
});
