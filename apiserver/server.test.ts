// The API server's HTTP contract, in process, with a stub mesh and stub delegation (the real aggregator,
// kubectl and RBAC are exercised in test/apiserver.test.ts).
import assert from 'node:assert/strict';
import { request } from 'node:https';
import { after, before, test } from 'node:test';
import { Registry } from 'prom-client';
import { createLogger } from '../core/log/logger.js';
import { HealthChecks } from '../core/metrics/health-checks.js';
import { createCertificateAuthority, issueCertificate, type KeyPair } from '../core/tls/certificates.js';
import type { WorkloadEndpoint } from '../federation/index.js';
import { createApiServerMetrics } from './metrics.js';
import { buildOpenApi } from './openapi.js';
import { Projection } from './projection.js';
import { SnapshotKeeper } from './resource-handlers.js';
import { ServedStore } from './served-store.js';
import { type RunningApiServer, startApiServer } from './server.js';
import { authCfg, proxyClient, serving, servingCa } from './test-pki.js';

const store = new ServedStore();
const projection = new Projection('east', { list: () => [], slicesOfService: () => [], endpointsByIp: () => [] });
let warnings: string[] = [];
let server: RunningApiServer;

const pod = (name: string, cluster = 'west', labels: Record<string, string> = {}): WorkloadEndpoint => ({
  kind: 'WorkloadEndpoint',
  cluster,
  namespace: name.startsWith('b') ? 'blue' : 'shop',
  name,
  uid: `uid-${name}`,
  labels,
  created: 0,
  revision: 1,
  ips: ['10.2.0.1'],
  nodeName: 'n1',
  ready: true,
  serviceAccount: 'default',
  ports: [],
});

before(async () => {
  for (let i = 0; i < 25; i++)
    store.apply(projection.apply({ type: 'added', revision: i, object: pod(`p${String(i).padStart(2, '0')}`) }));
  store.apply(projection.apply({ type: 'added', revision: 30, object: pod('b1', 'north', { app: 'x' }) }));
  server = await startApiServer({
    host: '127.0.0.1',
    port: 0,
    certPem: serving.certPem,
    keyPem: serving.keyPem,
    handlerContext: { store, snapshots: new SnapshotKeeper(), warnings: () => warnings, tooLargeRvWaitMs: 200 },
    authentication: () => authCfg,
    reviewToken: async (t) => (t === 'valid' ? { username: 'tok-user', groups: [], extra: {} } : undefined),
    authorize: async (u) => ({ allowed: u.username !== 'nobody', reason: u.username === 'nobody' ? 'no RBAC' : '' }),
    health: new HealthChecks().addReadiness('mesh-cache-synced', () => undefined),
    openapi: buildOpenApi('v0.1.0'),
    version: { gitVersion: 'v0.1.0', major: '0', minor: '1' },
    log: createLogger('test', 'error'),
    registry: new Registry(),
    metrics: createApiServerMetrics(new Registry()),
  });
});
after(async () => server?.close());

interface Res {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

function call(
  path: string,
  opts: {
    user?: string;
    accept?: string;
    method?: string;
    client?: KeyPair | null;
    headers?: Record<string, string>;
    until?: (b: string) => boolean;
  } = {},
): Promise<Res> {
  return new Promise((resolve, reject) => {
    const client = opts.client === undefined ? proxyClient : opts.client;
    const req = request(
      {
        host: '127.0.0.1',
        port: server.port,
        path,
        method: opts.method ?? 'GET',
        ca: servingCa.certPem,
        ...(client ? { cert: client.certPem, key: client.keyPem } : {}),
        headers: {
          ...(opts.user ? { 'X-Remote-User': opts.user } : {}),
          ...(opts.accept ? { Accept: opts.accept } : {}),
          ...(opts.headers ?? {}),
        },
      },
      (res) => {
        let body = '';
        res.on('data', (c: Buffer) => {
          body += c.toString();
          if (opts.until?.(body)) {
            req.destroy();
            resolve({ status: res.statusCode ?? 0, headers: res.headers, body });
          }
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      },
    );
    req.on('error', (e) => (opts.until ? undefined : reject(e)));
    req.end();
  });
}

const base = '/apis/federation.fedmesh.io/v1alpha1';
const json = (r: Res) => JSON.parse(r.body) as Record<string, unknown> & { items: { metadata: { name: string } }[] };

test('DISC-01/04/06: legacy and aggregated discovery, ETag and 304; 406 for unknown forms', async () => {
  const legacy = json(
    await call(base, { user: 'system:kube-aggregator', headers: { 'X-Remote-Group': 'system:masters' } }),
  );
  assert.deepEqual(
    (legacy.resources as { name: string; shortNames: string[] }[]).map((r) => [r.name, r.shortNames]),
    [
      ['remoteworkloads', ['rwl']],
      ['federatedendpoints', ['fep']],
      ['remotenodes', ['rno']],
    ],
  );
  const v2Accept = 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList';
  const v2 = await call('/apis', { user: 'a', accept: v2Accept });
  assert.equal(v2.status, 200);
  assert.equal(v2.headers['content-type'], 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList');
  const etag = String(v2.headers.etag);
  assert.equal((await call('/apis', { user: 'a', accept: v2Accept, headers: { 'If-None-Match': etag } })).status, 304);
  const only = await call('/apis', {
    user: 'a',
    accept: 'application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList',
  });
  assert.equal(only.status, 406);
  assert.equal(json(only).reason, 'NotAcceptable');
});

test('LIST-03: limit/continue pages through one consistent snapshot', async () => {
  const names: string[] = [];
  let cont = '';
  let rv = '';
  let pages = 0;
  do {
    const r = json(await call(`${base}/remoteworkloads?limit=10${cont ? `&continue=${cont}` : ''}`, { user: 'a' }));
    const meta = r.metadata as { resourceVersion: string; continue?: string };
    if (rv) assert.equal(meta.resourceVersion, rv, 'every page has the first page resourceVersion');
    rv = meta.resourceVersion;
    names.push(...r.items.map((i) => i.metadata.name));
    // A change between pages must not show up in the paginated list.
    if (pages === 0) store.apply(projection.apply({ type: 'added', revision: 99, object: pod('p99') }));
    cont = meta.continue ?? '';
    pages += 1;
  } while (cont);
  assert.equal(pages, 3);
  assert.equal(names.length, 26);
  assert.ok(!names.includes('west.p99'));
  const bad = await call(`${base}/remoteworkloads?continue=garbage`, { user: 'a' });
  assert.equal(bad.status, 400);
});

test('LIST-04/05: selectors, namespaces, Table with wide columns, YAML', async () => {
  const byCluster = json(
    await call(`${base}/remoteworkloads?labelSelector=fedmesh.io%2Fcluster%3Dnorth`, { user: 'a' }),
  );
  assert.deepEqual(
    byCluster.items.map((i) => i.metadata.name),
    ['north.b1'],
  );
  const ns = json(await call(`${base}/namespaces/blue/remoteworkloads`, { user: 'a' }));
  assert.deepEqual(
    ns.items.map((i) => i.metadata.name),
    ['north.b1'],
  );
  const fs = json(await call(`${base}/remoteworkloads?fieldSelector=spec.cluster%3Dnorth`, { user: 'a' }));
  assert.equal(fs.items.length, 1);
  const badField = await call(`${base}/remoteworkloads?fieldSelector=status.phase%3DRunning`, { user: 'a' });
  assert.equal(badField.status, 400);
  const t = json(
    await call(`${base}/namespaces/blue/remoteworkloads`, {
      user: 'a',
      accept: 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json',
    }),
  );
  assert.equal(t.kind, 'Table');
  const cols = (t.columnDefinitions as { name: string; priority: number }[]).map((c) => `${c.name}:${c.priority}`);
  assert.deepEqual(cols, [
    'Name:0',
    'Cluster:0',
    'Ready:0',
    'IP:0',
    'Node:0',
    'Pod:1',
    'Service Account:1',
    'Stale:1',
    'Age:0',
  ]);
  const row = (t.rows as { cells: unknown[]; object: { kind: string; metadata: { namespace: string } } }[])[0];
  assert.equal(row?.cells.length, cols.length);
  assert.equal(row?.object.kind, 'PartialObjectMetadata');
  assert.equal(row?.object.metadata.namespace, 'blue');
  const y = await call(`${base}/namespaces/blue/remoteworkloads/north.b1`, { user: 'a', accept: 'application/yaml' });
  assert.match(y.body, /^apiVersion: federation\.fedmesh\.io\/v1alpha1\nkind: RemoteWorkload\n/);
});

test('ERR-01: NotFound, MethodNotAllowed, unknown paths; Status bodies with exact reasons', async () => {
  const nf = await call(`${base}/namespaces/shop/remoteworkloads/nope`, { user: 'a' });
  assert.equal(nf.status, 404);
  assert.deepEqual(
    { reason: json(nf).reason, message: json(nf).message },
    { reason: 'NotFound', message: 'remoteworkloads.federation.fedmesh.io "nope" not found' },
  );
  const post = await call(`${base}/namespaces/shop/remoteworkloads`, { user: 'a', method: 'POST' });
  assert.equal(post.status, 405);
  assert.equal(json(post).reason, 'MethodNotAllowed');
  assert.equal((await call(`${base}/pods`, { user: 'a' })).status, 404);
});

test('resourceVersion: too old or foreign → 410 Expired; too new → 504 after waiting', async () => {
  const old = await call(`${base}/remoteworkloads?resourceVersion=1600000000000000001`, { user: 'a' });
  assert.equal(old.status, 410);
  assert.equal(json(old).reason, 'Expired');
  const future = await call(`${base}/remoteworkloads?resourceVersion=${store.currentRv + 1000n}`, { user: 'a' });
  assert.equal(future.status, 504);
  const exact = await call(`${base}/remoteworkloads?resourceVersion=${store.currentRv}&resourceVersionMatch=Exact`, {
    user: 'a',
  });
  assert.equal(exact.status, 200);
});

test('WATCH-02/03/06: initial events, resume, sendInitialEvents bookmark, expired ERROR event', async () => {
  const first = await call(`${base}/namespaces/blue/remoteworkloads?watch=1`, {
    user: 'a',
    until: (b) => b.includes('\n'),
  });
  assert.match(
    first.body,
    /^\{"type":"ADDED","object":\{"apiVersion":"federation\.fedmesh\.io\/v1alpha1","kind":"RemoteWorkload"/,
  );
  const rv = store.currentRv;
  const resumed = call(`${base}/remoteworkloads?watch=1&resourceVersion=${rv}`, {
    user: 'a',
    until: (b) => b.includes('DELETED'),
  });
  await new Promise((r) => setTimeout(r, 100));
  store.apply(projection.apply({ type: 'added', revision: 100, object: pod('p50') }));
  store.apply(projection.apply({ type: 'deleted', revision: 101, object: pod('p50') }));
  const events = (await resumed).body
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { type: string; object: { metadata: { name: string } } });
  assert.deepEqual(
    events.map((e) => `${e.type} ${e.object.metadata.name}`),
    ['ADDED west.p50', 'DELETED west.p50'],
  );
  const wl = await call(
    `${base}/namespaces/blue/remoteworkloads?watch=1&sendInitialEvents=true&resourceVersionMatch=NotOlderThan&allowWatchBookmarks=true`,
    { user: 'a', until: (b) => b.includes('BOOKMARK') },
  );
  assert.match(wl.body, /"type":"BOOKMARK".*"k8s\.io\/initial-events-end":"true"/);
  const gone = await call(`${base}/remoteworkloads?watch=1&resourceVersion=1600000000000000001`, { user: 'a' });
  assert.equal(gone.status, 200);
  const ev = JSON.parse(gone.body.trim()) as { type: string; object: { code: number; reason: string } };
  assert.deepEqual([ev.type, ev.object.code, ev.object.reason], ['ERROR', 410, 'Expired']);
});

test('a label-filtered watch sees an object that stops matching as DELETED', async () => {
  const w = call(`${base}/remoteworkloads?watch=1&resourceVersion=${store.currentRv}&labelSelector=tier%3Dweb`, {
    user: 'a',
    until: (b) => b.includes('DELETED'),
  });
  await new Promise((r) => setTimeout(r, 100));
  store.apply(projection.apply({ type: 'added', revision: 200, object: pod('p60', 'west', { tier: 'web' }) }));
  store.apply(projection.apply({ type: 'modified', revision: 201, object: pod('p60', 'west', { tier: 'db' }) }));
  const types = (await w).body
    .trim()
    .split('\n')
    .map((l) => (JSON.parse(l) as { type: string }).type);
  assert.deepEqual(types, ['ADDED', 'DELETED']);
});

test('SEC-01/AUTHZ-05: no credentials → 401 (probes excepted); bad certificate → 401; denied → 403 in Go words', async () => {
  const anon = await call(`${base}/remoteworkloads`, {
    client: null,
    headers: { 'X-Remote-User': 'admin', 'X-Remote-Group': 'system:masters' },
  });
  assert.equal(anon.status, 401, 'no certificate: the identity headers are ignored and anonymous is refused');
  assert.equal((await call('/livez', { client: null })).status, 200, 'probes need no credentials');
  const evil = createCertificateAuthority('evil');
  const forged = await call(`${base}/remoteworkloads`, {
    client: issueCertificate(evil, { commonName: 'front-proxy-client', usage: 'client' }),
    user: 'admin',
  });
  assert.equal(forged.status, 401);
  assert.equal(json(forged).reason, 'Unauthorized');
  const denied = await call(`${base}/namespaces/shop/remoteworkloads/west.p01`, { user: 'nobody' });
  assert.equal(denied.status, 403);
  assert.equal(
    json(denied).message,
    'remoteworkloads.federation.fedmesh.io "west.p01" is forbidden: User "nobody" cannot get resource "remoteworkloads" in API group "federation.fedmesh.io" in the namespace "shop": no RBAC',
  );
  assert.equal(denied.headers['x-content-type-options'], 'nosniff');
  const tokenOk = await call(`${base}/remoteworkloads?limit=1`, {
    client: null,
    headers: { Authorization: 'Bearer valid' },
  });
  assert.equal(tokenOk.status, 200);
  const tokenBad = await call(`${base}/remoteworkloads?limit=1`, {
    client: null,
    headers: { Authorization: 'Bearer nope' },
  });
  assert.equal(tokenBad.status, 401);
});

test('LIST-06: unreachable clusters are named in Warning headers; health and OpenAPI answer', async () => {
  warnings = ['cluster "west" is ConnectionFailed since 2026-11-29T05:00:00Z (Unreachable): its objects may be stale'];
  const r = await call(`${base}/remoteworkloads?limit=1`, { user: 'a' });
  assert.match(String(r.headers.warning), /^299 - "cluster \\"west\\" is ConnectionFailed/);
  warnings = [];
  const ready = await call('/readyz?verbose', { client: null });
  assert.equal(ready.status, 200);
  assert.match(ready.body, /\[\+\]mesh-cache-synced ok\nreadyz check passed/);
  const root = JSON.parse((await call('/openapi/v3', { user: 'system:aggregator' })).body) as {
    paths: Record<string, { serverRelativeURL: string }>;
  };
  const gvUrl = root.paths['apis/federation.fedmesh.io/v1alpha1']?.serverRelativeURL ?? '';
  const gv = JSON.parse((await call(gvUrl, { user: 'a' })).body) as {
    components: { schemas: Record<string, { 'x-kubernetes-group-version-kind'?: unknown[] }> };
  };
  assert.deepEqual(
    gv.components.schemas['io.fedmesh.federation.v1alpha1.RemoteNode']?.['x-kubernetes-group-version-kind'],
    [{ group: 'federation.fedmesh.io', version: 'v1alpha1', kind: 'RemoteNode' }],
  );
});
