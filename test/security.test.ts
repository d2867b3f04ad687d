// Hostile input against a deployed `fedmesh server` on real clusters: access Secrets that try to read the server's
// files or crash it, watchers that never read, and a remote cluster that exports more Services than the limit. The attacker's remote API server is a listener on 127.0.0.1.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { get as httpGet } from 'node:http';
import { createSecureServer } from 'node:http2';
import { request } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { connect, type TLSSocket } from 'node:tls';
import yaml from 'js-yaml';
import { applyManifest, type Manifest } from '../core/kube/apply.js';
import { readServiceAccountToken, serviceAccountTokenSecret } from '../core/kube/service-account-token.js';
import { createCertificateAuthority, issueCertificate } from '../core/tls/certificates.js';
import { rccPath } from '../federation/rcc-spec.js';
import type { RccStatus } from '../federation/rcc-status.js';
import { accessKubeconfig, localJoinManifests } from '../federation/remote-access.js';
import { deployFedmesh } from './testbed/deploy.js';
import { eventually, startTestbed, type Testbed } from './testbed/harness.js';

let tb: Testbed;
let apiPort = 0;
let metricsPort = 0;
let serverPid = 0;
let watcherToken = '';
const maxWatchesPerUser = 3;
const maxExportsPerCluster = 3;
const westPods = 340;
const federatedServices = 160;
const east = () => tb.cluster('east');
const fepPath = '/apis/federation.fedmesh.io/v1alpha1/federatedendpoints';

before(async () => {
  const started = Date.now();
  const took = (what: string) =>
    console.error(`[security] ${what} after ${((Date.now() - started) / 1000).toFixed(1)} s`);
  tb = await startTestbed({ name: 'security', clusters: ['east', 'west'] });
  took('testbed up');
  // Every federated Service in east selects all of west's pods: 160 FederatedEndpoints of 340 endpoints each make
  // a watch replay of several MB, more than the sockets between a server and a client that never reads can hold.
  await tb.cluster('west').seed({
    podCIDR: '10.2.0.0/16',
    nodes: [{ name: 'wn', count: 4 }],
    services: [
      {
        namespace: 'shop',
        name: 'web',
        labels: { app: 'web' },
        selector: { app: 'web' },
        ports: [{ name: 'http', port: 80 }],
      },
    ],
    pods: [
      {
        namespace: 'shop',
        name: 'web',
        count: westPods,
        labels: { app: 'web' },
        ports: [{ name: 'http', containerPort: 80 }],
      },
    ],
  });
  await east().seed({
    services: Array.from({ length: federatedServices }, (_, i) => ({
      namespace: 'shop',
      name: `fed-${String(i).padStart(3, '0')}`,
      annotations: { 'federation.fedmesh.io/serviceSelector': "app == 'web'" },
      ports: [{ name: 'http', port: 80 }],
    })),
  });
  took('seeded');
  await deployFedmesh(tb.state, (m) => console.error(`[deploy] ${m}`), {
    serverArgs: [
      `--max-watches-per-user=${maxWatchesPerUser}`,
      '--watch-stall-timeout=3s',
      `--max-exports-per-cluster=${maxExportsPerCluster}`,
    ],
  });
  const server = tb.state.processes.find((p) => p.component === 'fedmesh-server' && p.cluster === 'east');
  assert.ok(server);
  serverPid = server.pid;
  metricsPort = server.port ?? 0;
  apiPort = Number(
    server.argv
      .find((a) => a.startsWith('--api-bind-address='))
      ?.split(':')
      .pop(),
  );
  // A user who may watch the federation API, with a token of its own.
  for (const m of [
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'watcher', namespace: 'default' } },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRole',
      metadata: { name: 'federation-watcher' },
      rules: [
        { apiGroups: ['federation.fedmesh.io'], resources: ['federatedendpoints'], verbs: ['get', 'list', 'watch'] },
      ],
    },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: { name: 'federation-watcher' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'federation-watcher' },
      subjects: [{ kind: 'ServiceAccount', name: 'watcher', namespace: 'default' }],
    },
    serviceAccountTokenSecret('default', 'watcher', 'watcher-token'),
  ] as Manifest[]) {
    await applyManifest(east().client, m);
  }
  watcherToken = (await readServiceAccountToken(east().client, 'default', 'watcher-token')).token;
  await eventually(async () => {
    const out = await east().kubectlOk(['get', 'federatedendpoints', '-n', 'shop', '-o', 'name']);
    assert.equal(out.trim().split('\n').length, federatedServices);
  }, 60_000);
  took('deployed');
});

after(async () => {
  await tb?.down();
});

const rccStatus = async (name: string) =>
  (await east().client.get<{ status?: Partial<RccStatus> }>(`${rccPath}/${name}`)).status ?? {};
const ready = (s: Partial<RccStatus>) => s.conditions?.find((c) => c.type === 'Ready');

/** Joins a "cluster" whose access Secret holds `kubeconfig` as given. */
async function joinWith(cluster: string, kubeconfig: string): Promise<void> {
  for (const m of localJoinManifests({ clusterName: cluster, kubeconfig })) await applyManifest(east().client, m);
}

/** An HTTPS listener standing in for a remote API server; it records every connection and request. */
async function listener(ca: ReturnType<typeof createCertificateAuthority>) {
  const cert = issueCertificate(ca, { commonName: 'remote', ipAddresses: ['127.0.0.1'], usage: 'server' });
  const seen = { connections: 0, authorizations: [] as string[] };
  // HTTP/2 and HTTP/1.1, as a kube-apiserver offers them: the server talks HTTP/2 to remote clusters.
  const server = createSecureServer({ cert: cert.certPem, key: cert.keyPem, allowHTTP1: true }, (req, res) => {
    seen.authorizations.push(String(req.headers.authorization ?? ''));
    res.writeHead(401, { 'Content-Type': 'application/json' });
    res.end('{"kind":"Status","apiVersion":"v1","status":"Failure","reason":"Unauthorized","code":401}');
  });
  server.on('connection', () => {
    seen.connections += 1;
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { seen, port: (server.address() as AddressInfo).port, close: () => server.close() };
}

/** GET on the server's metrics port, on a connection of its own (a kept-alive one may be closed under us). */
function metricsPortGet(path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    httpGet({ host: '127.0.0.1', port: metricsPort, path, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => {
        body += c;
      });
      res.on('end', () => resolve(body));
    }).on('error', reject);
  });
}

async function serverMetric(name: string): Promise<number> {
  const text = await metricsPortGet('/metrics');
  return [...text.matchAll(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'gm'))].reduce((a, m) => a + Number(m[1]), 0);
}

const serverAlive = () => {
  process.kill(serverPid, 0); // throws when the process is gone
};

describe('access Secrets written by a remote admin', () => {
  test('token-file: refused as BadKubeconfig naming the field; the attacker receives nothing, not even a connection', async () => {
    const ca = createCertificateAuthority('attacker-ca');
    const attacker = await listener(ca);
    const control = await listener(ca);
    const canaryPath = join(tb.dir, 'server-token-canary');
    const canary = `canary-${randomBytes(8).toString('hex')}`;
    writeFileSync(canaryPath, canary);
    try {
      const evil = yaml.load(
        accessKubeconfig({
          clusterName: 'evil',
          server: `https://127.0.0.1:${attacker.port}`,
          caPem: ca.certPem,
          token: 'x',
        }),
      ) as { users: { user: Record<string, string> }[] };
      const user = evil.users[0]?.user ?? {};
      delete user.token;
      user['token-file'] = canaryPath;
      await joinWith('evil', yaml.dump(evil));
      // The control: the same kind of Secret with an inline token does reach its listener, so silence means refusal.
      await joinWith(
        'decoy',
        accessKubeconfig({
          clusterName: 'decoy',
          server: `https://127.0.0.1:${control.port}`,
          caPem: ca.certPem,
          token: 'decoy-token',
        }),
      );
      const s = await eventually(async () => {
        const st = await rccStatus('evil');
        assert.equal(st.state, 'ConfigIncomplete', JSON.stringify(st));
        return st;
      }, 60_000);
      assert.equal(ready(s)?.reason, 'BadKubeconfig');
      assert.match(s.message ?? '', /users\[0\]\.user has field "token-file", which an access Secret may not use/);
      assert.ok(!(s.message ?? '').includes(canaryPath) && !(s.message ?? '').includes(canary), s.message);
      await eventually(async () => assert.ok(control.seen.authorizations.includes('Bearer decoy-token')), 60_000);
      assert.equal(attacker.seen.connections, 0, 'the attacker listener was contacted');
      assert.ok(control.seen.authorizations.every((a) => !a.includes(canary)));
      serverAlive();
    } finally {
      attacker.close();
      control.close();
    }
  });

  test('users: {} and users: [null]: the server lives on and says what is wrong in RCC status', async () => {
    const base = yaml.load(
      accessKubeconfig({
        clusterName: 'broken',
        server: 'https://127.0.0.1:1',
        caPem: createCertificateAuthority('x').certPem,
        token: 't',
      }),
    ) as Record<string, unknown>;
    await joinWith('broken-map', yaml.dump({ ...base, users: {} }));
    await joinWith('broken-null', yaml.dump({ ...base, users: [null] }));
    const [m, n] = await eventually(async () => {
      const both = await Promise.all([rccStatus('broken-map'), rccStatus('broken-null')]);
      for (const st of both) assert.equal(ready(st)?.reason, 'BadKubeconfig', JSON.stringify(st));
      return both;
    }, 60_000);
    assert.match(m?.message ?? '', /users must be a list/);
    assert.match(n?.message ?? '', /users\[0\] must be a mapping/);
    serverAlive();
    assert.equal((await rccStatus('west')).state, 'InSync', 'the other remote cluster is still served');
    assert.equal(await metricsPortGet('/healthz'), 'ok');
  });
});

/** A watch that sends its request and never reads a byte of the answer. */
function neverReadingWatch(): TLSSocket {
  const socket = connect({ host: '127.0.0.1', port: apiPort, rejectUnauthorized: false });
  socket.on('secureConnect', () =>
    socket.write(
      `GET ${fepPath}?watch=1 HTTP/1.1\r\nHost: fedmesh\r\nAuthorization: Bearer ${watcherToken}\r\nAccept: application/json\r\n\r\n`,
    ),
  );
  socket.on('error', () => {});
  return socket;
}

function get(path: string): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port: apiPort,
        path,
        rejectUnauthorized: false,
        headers: { Authorization: `Bearer ${watcherToken}` },
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => {
          body += c;
          if (res.statusCode === 200) req.destroy(); // a watch: its start is enough
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
        res.on('close', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      },
    );
    req.on('error', (e) => (req.destroyed ? undefined : reject(e)));
    req.end();
  });
}

describe('watchers that never read', () => {
  test('are capped per user (429 + Retry-After), cut when stuck, and their places freed', async () => {
    // The premise: a replay larger than the buffers of the sockets in between (a few MB on loopback).
    // After the heavy tests before it, the aggregator may still be re-probing the APIService (503): wait for it.
    let list: { body: unknown } | undefined;
    await eventually(async () => {
      list = await east().client.request<string>('GET', fepPath, { accept: 'application/json' });
    }, 60_000);
    if (!list) throw new Error('unreachable');
    const replayBytes = JSON.stringify(list.body).length;
    console.error(`[security] a watch replay of ${replayBytes} bytes`);
    assert.ok(replayBytes > 8_000_000, `the replay is only ${replayBytes} bytes`);
    const cutBefore = await serverMetric('fedmesh_apiserver_watches_cut_total');
    const stuck = Array.from({ length: maxWatchesPerUser }, () => neverReadingWatch());
    try {
      await eventually(
        async () => assert.equal(await serverMetric('fedmesh_apiserver_registered_watchers'), maxWatchesPerUser),
        20_000,
      );
      const refused = await get(`${fepPath}?watch=1`);
      assert.equal(refused.status, 429);
      assert.equal(refused.headers['retry-after'], '5');
      const body = JSON.parse(refused.body) as { reason: string; message: string };
      assert.equal(body.reason, 'TooManyRequests');
      assert.match(body.message, /user "system:serviceaccount:default:watcher" already has 3 open watches/);
      // Nothing is read, the replay cannot be written: after the stall timeout (3 s here) the server cuts them.
      await eventually(
        async () => {
          assert.equal(await serverMetric('fedmesh_apiserver_watches_cut_total'), cutBefore + maxWatchesPerUser);
          assert.equal(await serverMetric('fedmesh_apiserver_registered_watchers'), 0);
        },
        45_000,
        500,
      );
      const again = await get(`${fepPath}?watch=1`);
      assert.equal(again.status, 200, 'the places of cut watches are free again');
      serverAlive();
    } finally {
      for (const s of stuck) s.destroy();
    }
  });
});

describe('a remote admin who exports more Services than the limit', () => {
  test('gets only the oldest imported here, and the RCC and metrics say so; withdrawing one lets the next in', async () => {
    const west = tb.cluster('west');
    const mcs = '/apis/multicluster.x-k8s.io/v1alpha1/namespaces/shop';
    const names = Array.from({ length: maxExportsPerCluster + 2 }, (_, i) => `flood-${i}`);
    // One after another, so that the creation times (then the names) rank them in this order.
    for (const name of names) {
      await west.client.create('/api/v1/namespaces/shop/services', {
        apiVersion: 'v1',
        kind: 'Service',
        metadata: { name, namespace: 'shop' },
        spec: { ports: [{ name: 'http', port: 80 }] },
      });
      await west.client.create(`${mcs}/serviceexports`, {
        apiVersion: 'multicluster.x-k8s.io/v1alpha1',
        kind: 'ServiceExport',
        metadata: { name, namespace: 'shop' },
      });
    }
    const imported = async () =>
      (
        await east().client.get<{ items: { metadata: { name: string } }[] }>(
          `${mcs}/serviceimports?labelSelector=${encodeURIComponent('app.kubernetes.io/managed-by=fedmesh')}`,
        )
      ).items
        .map((i) => i.metadata.name)
        .filter((n) => n.startsWith('flood-'))
        .sort();
    const leftOutEvents = async () =>
      (
        await east().client.get<{ items: { message: string }[] }>(
          `/api/v1/namespaces/default/events?fieldSelector=${encodeURIComponent('involvedObject.kind=RemoteClusterConfiguration,involvedObject.name=west,reason=TooManyExports')}`,
        )
      ).items;
    await eventually(
      async () => {
        assert.deepEqual(await imported(), names.slice(0, maxExportsPerCluster));
        assert.equal(await serverMetric('fedmesh_service_imports_left_out'), 2);
        const events = await leftOutEvents();
        assert.equal(events.length, 1);
        assert.match(events[0]?.message ?? '', /cluster west exports more Services than the 3 this cluster imports/);
      },
      60_000,
      500,
    );
    // Still exactly the oldest after further settles (nothing flaps in and out).
    await new Promise((r) => setTimeout(r, 2_500));
    assert.deepEqual(await imported(), names.slice(0, maxExportsPerCluster));
    await west.client.delete(`${mcs}/serviceexports/flood-0`);
    await eventually(
      async () => {
        assert.deepEqual(await imported(), names.slice(1, maxExportsPerCluster + 1));
        assert.equal(await serverMetric('fedmesh_service_imports_left_out'), 1);
      },
      60_000,
      500,
    );
    assert.equal((await leftOutEvents()).length, 1, 'one Event for the whole stretch over the limit');
    serverAlive();
  });
});
