// Two replicas of east's fedmesh server behind one Service: each replica caches the mesh on its own and issues its
// own resourceVersions, and the Service may send every request of a client to another replica. A paged
// `kubectl get` and a resumed watch must still be right. The Service here is an HTTPS proxy that sends each
// request for remoteworkloads to the other replica than the request before (harsher than kube-proxy, which
// balances connections), authenticating to the replicas as the aggregator does, with the front-proxy certificate.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Agent, createServer, request, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { apiServiceName } from '../apiserver/index.js';
import { deployFedmesh, type ServerReplica, startServerReplica } from './testbed/deploy.js';
import { eventually, startTestbed, type Testbed } from './testbed/harness.js';
import { stopProcess } from './testbed/processes.js';

const pods = 300;
const rwlPath = '/apis/federation.fedmesh.io/v1alpha1/namespaces/shop/remoteworkloads';
let tb: Testbed;
let second: ServerReplica | undefined;
let service: AlternatingService | undefined;

interface Routed {
  readonly replica: number;
  readonly path: string;
}

interface AlternatingService {
  readonly port: number;
  /** Requests for remoteworkloads, in order, with the replica each went to. */
  readonly routed: Routed[];
  close(): Promise<void>;
}

/** The Service: TLS with the replicas' serving certificate; remoteworkloads requests alternate, others go to 0. */
async function startAlternatingService(o: {
  apiPorts: readonly number[];
  certDir: string;
  pkiDir: string;
}): Promise<AlternatingService> {
  const agent = new Agent({
    keepAlive: true,
    ca: readFileSync(join(o.certDir, 'ca.crt')),
    cert: readFileSync(join(o.pkiDir, 'front-proxy-client.crt')),
    key: readFileSync(join(o.pkiDir, 'front-proxy-client.key')),
  });
  const routed: Routed[] = [];
  let next = 0;
  const server: Server = createServer(
    { cert: readFileSync(join(o.certDir, 'tls.crt')), key: readFileSync(join(o.certDir, 'tls.key')) },
    (req, res) => {
      const path = req.url ?? '/';
      let replica = 0;
      if (path.includes('/remoteworkloads')) {
        replica = next;
        next = (next + 1) % o.apiPorts.length;
        routed.push({ replica, path });
      }
      const up = request(
        {
          agent,
          host: '127.0.0.1',
          port: o.apiPorts[replica],
          servername: 'fedmesh-api.fedmesh-system.svc',
          method: req.method,
          path,
          // One header line per value, as the aggregator sent them: req.headers would join the X-Remote-Group
          // lines into one group "a, b", which the server (rightly) reads as one group.
          headers: req.headersDistinct,
        },
        (upRes) => {
          res.writeHead(upRes.statusCode ?? 502, upRes.headers);
          upRes.pipe(res);
        },
      );
      up.on('error', () => res.destroy());
      res.on('close', () => up.destroy());
      req.pipe(up);
    },
  );
  server.listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  return {
    port: (server.address() as AddressInfo).port,
    routed,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
        agent.destroy();
      }),
  };
}

const east = () => tb.cluster('east');

before(async () => {
  tb = await startTestbed({ name: 'federation-replicas', clusters: ['east', 'west'] });
  await tb.cluster('west').seed({
    podCIDR: '10.2.0.0/16',
    nodes: [{ name: 'wn', count: 2 }],
    pods: [{ namespace: 'shop', name: 'p', count: pods, labels: { app: 'web' } }],
  });
  await deployFedmesh(tb.state, (m) => console.error(`[deploy] ${m}`));
  const first = tb.state.processes.find((p) => p.cluster === 'east' && p.component === 'fedmesh-server');
  const firstApi = Number(/--api-bind-address=127\.0\.0\.1:(\d+)/.exec(first?.argv.join(' ') ?? '')?.[1]);
  second = await startServerReplica(tb.state, 'east', 2);
  const { metricsPort, apiPort } = second;
  await eventually(
    async () => assert.equal((await fetch(`http://127.0.0.1:${metricsPort}/readyz`)).status, 200),
    60_000,
  );
  service = await startAlternatingService({
    apiPorts: [firstApi, apiPort],
    certDir: join(tb.dir, 'fedmesh', 'east', 'certs'),
    pkiDir: join(tb.dir, 'pki', 'east'),
  });
  // The APIService now leads to the alternating Service in front of both replicas (its Service is an
  // ExternalName, 127.0.0.1: the aggregator takes the port from the APIService).
  const port = service.port;
  await east().kubectlOk([
    'patch',
    'apiservice',
    apiServiceName,
    '--type=merge',
    '-p',
    JSON.stringify({ spec: { service: { port } } }),
  ]);
  // Both replicas hold every pod: two lists in a row (one per replica) count them all.
  await eventually(
    async () => {
      for (let i = 0; i < 2; i++) {
        const r = await east().client.get<{ items: unknown[] }>(rwlPath);
        assert.equal(r.items.length, pods);
      }
      assert.ok(service && new Set(service.routed.map((x) => x.replica)).size === 2, 'both replicas answered');
    },
    90_000,
    500,
  );
});

after(async () => {
  await service?.close();
  if (second) await stopProcess({ pid: second.started.pid, argv: second.argv });
  await tb?.down();
});

test('kubectl get --chunk-size=10 with every page on the other replica lists each object exactly once', async () => {
  assert.ok(service);
  const from = service.routed.length;
  const out = await east().kubectlOk(['get', 'rwl', '-n', 'shop', '--chunk-size=10', '-o', 'name']);
  const names = out.trim().split('\n');
  assert.equal(names.length, pods);
  assert.equal(new Set(names).size, pods, 'no object twice');
  for (let i = 0; i < pods; i++) assert.ok(names.includes(`remoteworkload.federation.fedmesh.io/west.p-${i}`));
  const pages = service.routed.slice(from);
  assert.equal(pages.length, pods / 10, 'one request per page');
  assert.equal(pages.filter((p) => p.path.includes('continue=')).length, pods / 10 - 1);
  for (let i = 1; i < pages.length; i++) {
    assert.notEqual(pages[i]?.replica, pages[i - 1]?.replica, 'each page from the other replica');
  }
});

/** A watch from `rv` through the aggregator, until the server ends it (ERROR) or timeoutSeconds passes. */
async function watchFrom(
  rv: string,
): Promise<{ replica: number; events: { type: string; object: Record<string, unknown> }[] }> {
  assert.ok(service);
  const at = service.routed.length;
  const events: { type: string; object: Record<string, unknown> }[] = [];
  await east().client.watch(`${rwlPath}?watch=1&resourceVersion=${rv}&timeoutSeconds=5`, (ev) =>
    events.push(ev as { type: string; object: Record<string, unknown> }),
  );
  const replica = service.routed[at]?.replica;
  assert.ok(replica !== undefined && service.routed[at]?.path.includes('watch=1'));
  return { replica, events };
}

test('a watch resumed on the other replica gets 410 Expired; on its own replica, the change and nothing else', async () => {
  assert.ok(service);
  const at = service.routed.length;
  const list = await east().client.get<{ metadata: { resourceVersion: string } }>(rwlPath);
  const listedBy = service.routed[at]?.replica;
  const rv = list.metadata.resourceVersion;
  await tb.cluster('west').client.mergePatch('/api/v1/namespaces/shop/pods/p-7', {
    metadata: { labels: { changed: 'yes' } },
  });
  // Two watches from the same version: the Service sends them to different replicas.
  const results = [await watchFrom(rv), await watchFrom(rv)];
  const other = results.find((r) => r.replica !== listedBy);
  const own = results.find((r) => r.replica === listedBy);
  assert.ok(other && own, 'one watch on each replica');
  assert.equal(other.events.length, 1, JSON.stringify(other.events).slice(0, 500));
  assert.equal(other.events[0]?.type, 'ERROR');
  assert.equal(other.events[0]?.object.code, 410);
  assert.equal(other.events[0]?.object.reason, 'Expired');
  const changes = own.events.map((e) => [
    e.type,
    (e.object.metadata as { name: string; labels?: Record<string, string> }).name,
    (e.object.metadata as { labels?: Record<string, string> }).labels?.changed,
  ]);
  assert.deepEqual(changes, [['MODIFIED', 'west.p-7', 'yes']]);
});
