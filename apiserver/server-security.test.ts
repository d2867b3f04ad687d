// What the API server does against hostile or careless callers, in process with stub delegation: identity headers,
// generic errors, the in-flight limit, watch limits and slow readers. (The testbed proves the same end to end.)
import assert from 'node:assert/strict';
import type { ClientRequest } from 'node:http';
import { request } from 'node:https';
import { test } from 'node:test';
import { Registry } from 'prom-client';
import { createLogger } from '../core/log/logger.js';
import { HealthChecks } from '../core/metrics/health-checks.js';
import type { KeyPair } from '../core/tls/certificates.js';
import type { WorkloadEndpoint } from '../federation/index.js';
import type { Decision } from './auth/delegation.js';
import type { UserInfo } from './auth/user-info.js';
import { createApiServerMetrics } from './metrics.js';
import { buildOpenApi } from './openapi.js';
import { Projection } from './projection.js';
import { SnapshotKeeper } from './resource-handlers.js';
import { ServedStore } from './served-store.js';
import { type ApiServerOptions, type RunningApiServer, startApiServer } from './server.js';
import { authCfg, proxyClient, serving, servingCa } from './test-pki.js';

const base = '/apis/federation.fedmesh.io/v1alpha1';

const pod = (i: number): WorkloadEndpoint => ({
  kind: 'WorkloadEndpoint',
  cluster: 'west',
  namespace: 'shop',
  name: `pod-${String(i).padStart(5, '0')}`,
  uid: `uid-${i}`,
  labels: { app: 'shop', tier: `tier-${i % 7}`, 'example.com/padding': 'x'.repeat(1000) },
  created: 0,
  revision: i,
  ips: [`10.2.${i >> 8}.${i & 255}`],
  nodeName: 'n1',
  ready: true,
  serviceAccount: 'default',
  ports: [],
});

function storeWith(n: number): ServedStore {
  const store = new ServedStore();
  const projection = new Projection('east', { list: () => [], slicesOfService: () => [], endpointsByIp: () => [] });
  for (let i = 0; i < n; i++) store.apply(projection.apply({ type: 'added', revision: i, object: pod(i) }));
  return store;
}

interface Harness {
  server: RunningApiServer;
  registry: Registry;
  authorized: UserInfo[];
}

async function start(
  opts: Partial<ApiServerOptions> & { store?: ServedStore; authorize?: ApiServerOptions['authorize'] } = {},
): Promise<Harness> {
  const authorized: UserInfo[] = [];
  const registry = new Registry();
  const { store, ...rest } = opts;
  const server = await startApiServer({
    host: '127.0.0.1',
    port: 0,
    certPem: serving.certPem,
    keyPem: serving.keyPem,
    handlerContext: { store: store ?? storeWith(3), snapshots: new SnapshotKeeper(), warnings: () => [] },
    authentication: () => authCfg,
    reviewToken: async (t) => (t === 'valid' ? { username: 'tok-user', groups: [], extra: {} } : undefined),
    health: new HealthChecks(),
    openapi: buildOpenApi('v0.1.0'),
    version: { gitVersion: 'v0.1.0', major: '0', minor: '1' },
    log: createLogger('test', 'error'),
    registry,
    metrics: createApiServerMetrics(registry),
    ...rest,
    authorize: async (u, info) => {
      authorized.push(u);
      return opts.authorize ? opts.authorize(u, info) : { allowed: u.username !== 'nobody', reason: 'no RBAC' };
    },
  });
  return { server, registry, authorized };
}

interface Res {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** Request options for the server under test, as the aggregator (front-proxy certificate) unless `client` says. */
const options = (port: number, path: string, headers: Record<string, string | string[]>, client?: KeyPair | null) => {
  const c = client === undefined ? proxyClient : client;
  return {
    host: '127.0.0.1',
    port,
    path,
    ca: servingCa.certPem,
    agent: false as const,
    ...(c ? { cert: c.certPem, key: c.keyPem } : {}),
    headers,
  };
};

/** One request; `headers` values that are lists go out as one header line each. */
function call(
  port: number,
  path: string,
  o: { headers?: Record<string, string | string[]>; client?: KeyPair | null } = {},
): Promise<Res> {
  return new Promise((resolve, reject) => {
    const req = request(options(port, path, o.headers ?? {}, o.client), (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => {
        body += c;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

/** Opens a watch and never reads it; resolves with the response status once the headers are in. */
function idleWatch(port: number, path: string, user: string): Promise<{ status: number; req: ClientRequest }> {
  return new Promise((resolve, reject) => {
    const req = request(options(port, path, { 'X-Remote-User': user }), (res) => {
      res.pause(); // never read: the socket's buffers fill and the server must stop writing
      resolve({ status: res.statusCode ?? 0, req });
    });
    req.on('error', (e) => (req.destroyed ? undefined : reject(e)));
    req.end();
  });
}

const as = (user: string, groups: string[] = []) => ({ 'X-Remote-User': user, 'X-Remote-Group': groups });
const until = async (what: string, ok: () => boolean | Promise<boolean>, ms = 20_000) => {
  const end = Date.now() + ms;
  while (!(await ok())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
};
const metric = async (registry: Registry, name: string) =>
  (await registry.getSingleMetric(name)?.get())?.values.reduce((a, v) => a + v.value, 0) ?? 0;

test('a request target that is not a plain path (//, //host/…, *) is answered, never an exception that ends the process', async () => {
  const h = await start();
  try {
    // `new URL('//', base)` throws: before, this one anonymous request crashed the server.
    assert.equal((await call(h.server.port, '//', { client: null })).status, 401);
    assert.equal((await call(h.server.port, '///', { headers: as('alice') })).status, 404);
    // Everything after the first `/` is path (as Go): `//x/apis/…` is not `/apis/…` on host x.
    const hostLike = await call(h.server.port, `//x${base}/remoteworkloads`, { headers: as('alice') });
    assert.equal(hostLike.status, 404);
    const star = await call(h.server.port, '*', { headers: as('alice') });
    assert.equal(star.status, 400);
    assert.match(star.body, /must be a path/);
    assert.equal((await call(h.server.port, '/healthz', { client: null })).status, 200);
  } finally {
    await h.server.close();
  }
});

test('a path of thousands of slashes is answered at once: nothing rescans it per slash (anonymous, under /healthz)', async () => {
  const h = await start();
  try {
    // Eight at once, timed against eight short paths in the same run: each long one used to hold the event loop
    // for about half a second (and every other caller with it).
    const eight = async (path: string) => {
      const started = Date.now();
      const answers = await Promise.all(Array.from({ length: 8 }, () => call(h.server.port, path, { client: null })));
      assert.ok(answers.every((a) => a.status === 404));
      return Date.now() - started;
    };
    const short = await eight('/healthz//x');
    const long = await eight(`/healthz${'/'.repeat(15_000)}x`);
    assert.ok(long < 3 * short + 500, `8 long paths took ${long} ms, 8 short ones ${short} ms`);
  } finally {
    await h.server.close();
  }
});

test('identity headers over HTTP: a comma-bearing group is one group and never skips the SubjectAccessReview', async () => {
  const h = await start();
  try {
    const r = await call(h.server.port, `${base}/remoteworkloads`, {
      headers: { 'X-Remote-User': 'nobody', 'X-Remote-Group': ['team-a,system:masters', 'CN=ops\\,eu,OU=g'] },
    });
    assert.equal(r.status, 403, 'system:masters hidden in a comma list must not grant anything');
    assert.deepEqual(h.authorized.at(-1)?.groups, [
      'team-a,system:masters',
      'CN=ops\\,eu,OU=g',
      'system:authenticated',
    ]);
    // Duplicate user lines: the first is the user.
    await call(h.server.port, `${base}/remoteworkloads`, { headers: { 'X-Remote-User': ['alice', 'admin'] } });
    assert.equal(h.authorized.at(-1)?.username, 'alice');
  } finally {
    await h.server.close();
  }
});

test('internal details never reach unauthenticated callers: TokenReview failure is a generic 401, readyz withholds reasons', async () => {
  const h = await start({
    reviewToken: async () => {
      throw new Error(
        'POST https://10.96.0.1:443/apis/authentication.k8s.io/v1/tokenreviews: 403 system:serviceaccount:fedmesh-system:fedmesh-server',
      );
    },
    health: new HealthChecks().addReadiness(
      'authentication-config',
      () => 'cannot read kube-system/...: connect ECONNREFUSED 10.96.0.1:443',
    ),
  });
  try {
    const r = await call(h.server.port, `${base}/remoteworkloads`, {
      client: null,
      headers: { Authorization: 'Bearer x' },
    });
    assert.equal(r.status, 401);
    assert.equal((JSON.parse(r.body) as { message: string }).message, 'Unauthorized');
    assert.doesNotMatch(r.body, /10\.96|serviceaccount|tokenreviews/);
    const ready = await call(h.server.port, '/readyz?verbose', { client: null });
    assert.equal(ready.status, 500);
    assert.match(ready.body, /\[-\]authentication-config failed: reason withheld/);
    assert.doesNotMatch(ready.body, /ECONNREFUSED|10\.96/);
    // A failing SubjectAccessReview: a generic 500 for the (authenticated) caller too.
    const sar = await start({
      authorize: async () => {
        throw new Error('POST https://10.96.0.1:443/apis/authorization.k8s.io/v1/subjectaccessreviews: ETIMEDOUT');
      },
    });
    try {
      const s = await call(sar.server.port, `${base}/remoteworkloads`, { headers: as('alice') });
      assert.equal(s.status, 500);
      assert.doesNotMatch(s.body, /10\.96|ETIMEDOUT/);
    } finally {
      await sar.server.close();
    }
  } finally {
    await h.server.close();
  }
});

test('in-flight limit: authentication takes no slot; ?watch=1 off a resource counts; probes and system:masters pass', async () => {
  let releaseReview: (() => void) | undefined;
  let releaseSar: (() => void) | undefined;
  const h = await start({
    maxInFlight: 1,
    reviewToken: (t) =>
      new Promise<UserInfo | undefined>((resolve) => {
        releaseReview = () => resolve(t === 'valid' ? { username: 'tok-user', groups: [], extra: {} } : undefined);
      }),
    authorize: (u) =>
      u.username === 'slow'
        ? new Promise<Decision>((resolve) => {
            releaseSar = () => resolve({ allowed: true, reason: '' });
          })
        : Promise.resolve({ allowed: true, reason: '' }),
  });
  const port = h.server.port;
  try {
    // A token under review holds no slot: an authenticated request is served meanwhile.
    const pendingToken = call(port, `${base}/remoteworkloads`, {
      client: null,
      headers: { Authorization: 'Bearer r' },
    });
    await until('the token review to start', () => releaseReview !== undefined);
    assert.equal((await call(port, `${base}/remoteworkloads`, { headers: as('alice') })).status, 200);
    releaseReview?.();
    assert.equal((await pendingToken).status, 401);
    // Now hold the only slot with a request whose SubjectAccessReview hangs.
    const held = call(port, `${base}/remoteworkloads`, { headers: as('slow') });
    await until('the slow request to hold its slot', () => releaseSar !== undefined);
    for (const path of ['/metrics?watch=1', `${base}?watch=true`, '/openapi/v2?watch=1', `${base}/remoteworkloads`]) {
      const r = await call(port, path, { headers: as('alice') });
      assert.equal(r.status, 429, path);
      assert.equal(r.headers['retry-after'], '1', path);
    }
    const probe = await call(port, base, { headers: as('system:kube-aggregator', ['system:masters']) });
    assert.equal(probe.status, 200, 'the availability probe is answered when every slot is taken');
    assert.equal((await call(port, '/readyz', { client: null })).status, 200);
    // A real watch is not a slot holder.
    const w = await idleWatch(port, `${base}/remoteworkloads?watch=1`, 'alice');
    assert.equal(w.status, 200);
    w.req.destroy();
    releaseSar?.();
    assert.equal((await held).status, 200);
  } finally {
    await h.server.close();
  }
});

test('watch limits: per user and in total, refused with 429 and Retry-After; a closed watch frees its place', async () => {
  const h = await start({ watchLimits: { maxWatches: 4, maxWatchesPerUser: 2 } });
  const port = h.server.port;
  const open: ClientRequest[] = [];
  try {
    for (let i = 0; i < 2; i++) {
      const w = await idleWatch(port, `${base}/remoteworkloads?watch=1`, 'alice');
      assert.equal(w.status, 200);
      open.push(w.req);
    }
    const third = await call(port, `${base}/remoteworkloads?watch=1`, { headers: as('alice') });
    assert.equal(third.status, 429);
    assert.equal(third.headers['retry-after'], '5');
    const body = JSON.parse(third.body) as { reason: string; message: string; details: { retryAfterSeconds: number } };
    assert.equal(body.reason, 'TooManyRequests');
    assert.match(body.message, /user "alice" already has 2 open watches/);
    for (let i = 0; i < 2; i++) {
      const w = await idleWatch(port, `${base}/remoteworkloads?watch=1`, 'bob');
      open.push(w.req);
    }
    const total = await call(port, `${base}/remoteworkloads?watch=1`, { headers: as('carol') });
    assert.equal(total.status, 429);
    assert.match(total.body, /already serves 4 watches/);
    open.shift()?.destroy();
    await until(
      'the closed watch to free its place',
      async () => (await metric(h.registry, 'fedmesh_apiserver_registered_watchers')) === 3,
    );
    const again = await idleWatch(port, `${base}/remoteworkloads?watch=1`, 'alice');
    assert.equal(again.status, 200);
    open.push(again.req);
  } finally {
    for (const r of open) r.destroy();
    await h.server.close();
  }
});

test('slow readers: a watch that never reads is cut and its place freed; one that reads gets every event', async () => {
  const store = storeWith(8000); // a replay of 10 MB: more than the socket buffers take
  const h = await start({
    store,
    handlerContext: {
      store,
      snapshots: new SnapshotKeeper(),
      warnings: () => [],
      watchStream: { highWaterBytes: 64 * 1024, stallTimeoutMs: 1000, maxQueuedEvents: 50_000 },
    },
    watchLimits: { maxWatches: 10, maxWatchesPerUser: 3 },
  });
  const port = h.server.port;
  try {
    const idle = await Promise.all([1, 2, 3].map(() => idleWatch(port, `${base}/remoteworkloads?watch=1`, 'lazy')));
    assert.deepEqual(
      idle.map((w) => w.status),
      [200, 200, 200],
    );
    await until(
      'the stuck watches to be cut',
      async () => (await metric(h.registry, 'fedmesh_apiserver_watches_cut_total')) === 3,
    );
    await until(
      'their places to be freed',
      async () => (await metric(h.registry, 'fedmesh_apiserver_registered_watchers')) === 0,
    );
    for (const w of idle) w.req.destroy();
    // A reader that keeps up receives the whole replay.
    // A reader that keeps up receives the whole replay (and is not cut while it reads, however slowly it goes).
    const lines = await new Promise<number>((resolve, reject) => {
      const req = request(options(port, `${base}/remoteworkloads?watch=1`, { 'X-Remote-User': 'lazy' }), (res) => {
        let n = 0;
        res.setEncoding('utf8');
        res.on('data', (c: string) => {
          for (const ch of c) if (ch === '\n') n++;
          if (n >= 8000) {
            req.destroy();
            resolve(n);
          }
        });
        res.on('close', () => resolve(n));
      });
      req.on('error', (e) => (req.destroyed ? undefined : reject(e)));
      req.end();
    });
    assert.equal(lines, 8000);
  } finally {
    await h.server.close();
  }
});

test('a list its client does not read holds its in-flight slot until the idle timeout cuts it', async () => {
  const h = await start({ store: storeWith(8000), maxInFlight: 1, requestTimeoutMs: 1500 });
  const port = h.server.port;
  try {
    const stuck = await idleWatch(port, `${base}/remoteworkloads`, 'lazy'); // a 10 MB list, never read
    assert.equal(stuck.status, 200);
    const blocked = await call(port, `${base}/remoteworkloads?limit=1`, { headers: as('alice') });
    assert.equal(blocked.status, 429, 'the unread list still holds the only slot');
    await until('the idle connection to be cut and its slot freed', async () => {
      const r = await call(port, `${base}/remoteworkloads?limit=1`, { headers: as('alice') });
      return r.status === 200;
    });
    stuck.req.destroy();
  } finally {
    await h.server.close();
  }
});

test('answers their clients do not read are bounded in bytes, per user and in total: past that they are cut', async () => {
  const mib = 1024 * 1024;
  const h = await start({
    store: storeWith(3000), // a list of about 4.5 MB: three of them pass the total, two pass one user's share
    unsentBytesLimits: { maxBytes: 10 * mib, maxBytesPerUser: 6 * mib },
  });
  const port = h.server.port;
  const stuck: ClientRequest[] = [];
  const cut = () => metric(h.registry, 'fedmesh_apiserver_responses_cut_total');
  try {
    // One unread list fits in mallory's share; the second would pass it and is cut, not kept in memory.
    stuck.push((await idleWatch(port, `${base}/remoteworkloads`, 'mallory')).req);
    assert.equal(await cut(), 0);
    stuck.push((await idleWatch(port, `${base}/remoteworkloads`, 'mallory')).req);
    await until('the second unread answer of one user to be cut', async () => (await cut()) === 1);
    // Another user has a share of their own, until all of them together reach the total.
    stuck.push((await idleWatch(port, `${base}/remoteworkloads`, 'trudy')).req);
    assert.equal(await cut(), 1);
    stuck.push((await idleWatch(port, `${base}/remoteworkloads`, 'eve')).req);
    await until('an unread answer past the total to be cut', async () => (await cut()) === 2);
    // Once the stuck ones are gone, their bytes are free again: a client that reads gets its whole answer.
    for (const r of stuck.splice(0)) r.destroy();
    await until('the bytes held by closed answers to be released', async () => {
      const r = await call(port, `${base}/remoteworkloads`, { headers: as('alice') });
      return r.status === 200 && (JSON.parse(r.body) as { items: unknown[] }).items.length === 3000;
    });
    const more = await Promise.all(['mallory', 'trudy'].map((u) => idleWatch(port, `${base}/remoteworkloads`, u)));
    stuck.push(...more.map((m) => m.req));
    assert.equal(await cut(), 2);
  } finally {
    for (const r of stuck) r.destroy();
    await h.server.close();
  }
});
