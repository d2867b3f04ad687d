// The federation core under the faults a real multi-cluster deployment produces, against real clusters: a remote
// that refuses our watches (a grant with list but not watch; the binding revoked), one that answers 429, one that
// sends garbage, an RCC replaced in one step, a status patched by hand. east runs the federation core in this
// process (the same code as `fedmesh server`); west is remote.
import assert from 'node:assert/strict';
import { createWriteStream, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import {
  type ClientHttp2Session,
  connect,
  createSecureServer,
  type Http2SecureServer,
  type Http2ServerRequest,
  type Http2ServerResponse,
  type Http2Session,
} from 'node:http2';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { KubeConfig } from '@kubernetes/client-node';
import { Registry } from 'prom-client';
import { applyManifest, type Manifest } from '../core/kube/apply.js';
import { readServiceAccountToken, serviceAccountTokenSecret } from '../core/kube/service-account-token.js';
import { createLogger } from '../core/log/logger.js';
import { createCertificateAuthority, issueCertificate } from '../core/tls/certificates.js';
import type { Federation, MeshEvent, MeshKind } from '../federation/index.js';
import { startFederation } from '../federation/index.js';
import { rccPath } from '../federation/rcc-spec.js';
import type { RccStatus } from '../federation/rcc-status.js';
import {
  accessKubeconfig,
  defaultAccessNamespace,
  localJoinManifests,
  remoteAccessClusterRole,
  remoteAccessManifests,
  remoteAccessName,
} from '../federation/remote-access.js';
import { type GrantedAccess, grantRemoteAccess } from '../federation/remote-access-grant.js';
import { installCrds } from './testbed/deploy.js';
import { eventually, startTestbed, type Testbed, type TestCluster } from './testbed/harness.js';

let tb: Testbed;
let fed: Federation | undefined;
let east: TestCluster;
let west: TestCluster;
let access: GrantedAccess;
/** Two kubeconfigs for the same ServiceAccount (two tokens): swapping them makes east open new watches. */
let kubeconfigs: [string, string];
let kubeconfigInUse = 0;
/** Where each cluster's kube-apiserver writes its audit log: every request of west's remote-access user. */
let auditDir: string;
const registry = new Registry();
const events: MeshEvent[] = [];
const kinds: MeshKind[] = ['WorkloadEndpoint', 'HostEndpoint', 'Namespace', 'Service'];
const secretPath = `/api/v1/namespaces/${defaultAccessNamespace}/secrets/remote-cluster-west`;

// A backoff cap shorter than the default 30 s keeps this file within its time budget; the request counts below
// hold a fortiori with the default (longer waits, fewer requests). Everything else is the production code path.
const remoteBackoff = { initialMs: 800, maxMs: 5000, jitter: 0.2, resetAfterMs: 120_000 };

const rcc = async (name: string) =>
  await east.client.get<{ metadata: { uid: string; generation: number }; status?: RccStatus }>(`${rccPath}/${name}`);
const rccStatus = async (name: string) => (await rcc(name)).status ?? ({} as Partial<RccStatus>);
const westEventsSince = (from: number) =>
  events.slice(from).filter((e) => e.type !== 'cluster' && e.object.cluster === 'west');
const westCounts = () => {
  const c = fed?.cache.counts('west');
  return c ? { pods: c.WorkloadEndpoint, nodes: c.HostEndpoint, namespaces: c.Namespace, services: c.Service } : {};
};
let expectedCounts: ReturnType<typeof westCounts>;

async function waitForState(name: string, pred: (s: Partial<RccStatus>) => boolean, timeoutMs: number) {
  return eventually(
    async () => {
      const s = await rccStatus(name);
      assert.ok(pred(s), `${name}: ${s.state} ${s.message}`);
      return s;
    },
    timeoutMs,
    100,
  );
}

const remoteAccessUser = `system:serviceaccount:${defaultAccessNamespace}:${remoteAccessName}`;

/**
 * An audit policy that records every request of the remote-access user, refused ones included (the audit filter
 * runs before authorization): what east sends west, and nothing of west's own traffic, so no baseline to subtract.
 */
function writeAuditPolicy(dir: string): string {
  const path = join(dir, 'audit-policy.yaml');
  writeFileSync(
    path,
    [
      'apiVersion: audit.k8s.io/v1',
      'kind: Policy',
      'omitStages: [RequestReceived, ResponseStarted]',
      'rules:',
      '- level: Metadata',
      `  users: ["${remoteAccessUser}"]`,
      '- level: None',
      '',
    ].join('\n'),
  );
  return path;
}

/** Requests east's remote-access user sent west that west received in [fromMs, toMs). */
function westRequestsBetween(fromMs: number, toMs: number): number {
  const file = join(auditDir, 'west-audit.log');
  if (!existsSync(file)) return 0;
  let n = 0;
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (!line) continue;
    const ev = JSON.parse(line) as { user?: { username?: string }; requestReceivedTimestamp?: string };
    const at = Date.parse(ev.requestReceivedTimestamp ?? '');
    if (ev.user?.username === remoteAccessUser && at >= fromMs && at < toMs) n++;
  }
  return n;
}

/** East's requests to west over the next `ms` (read once the last ones are surely logged). */
async function requestsOver(ms: number): Promise<number> {
  const from = Date.now();
  await new Promise((r) => setTimeout(r, ms));
  const to = Date.now();
  await new Promise((r) => setTimeout(r, 1000));
  return westRequestsBetween(from, to);
}

async function restartsMetric(cluster: string, resource: string, reason: string): Promise<number> {
  const re = new RegExp(
    `^fedmesh_remote_watch_restarts_total\\{cluster="${cluster}",resource="${resource}",reason="${reason}"\\} (\\d+)`,
    'm',
  );
  return Number(re.exec(await registry.metrics())?.[1] ?? 0);
}

/** Makes east connect anew (new kubeconfig, new watches) without touching the RCC or the cache. */
async function swapAccessSecret(): Promise<void> {
  kubeconfigInUse = 1 - kubeconfigInUse;
  const kubeconfig = Buffer.from(kubeconfigs[kubeconfigInUse] ?? '').toString('base64');
  await east.client.mergePatch(secretPath, { data: { kubeconfig } });
}

const clusterRoleWith = (verbs: string[]): Manifest => {
  const role = remoteAccessClusterRole();
  return { ...role, rules: (role.rules as { verbs: string[] }[]).map((r) => ({ ...r, verbs })) };
};
const binding = () => remoteAccessManifests().find((m) => m.kind === 'ClusterRoleBinding') as Manifest;

/**
 * A small HTTPS (HTTP/2) proxy in front of west: forwards, answers everything with 429 + Retry-After, or answers
 * watches with a line that is not JSON. It records every request it receives.
 */
class FaultProxy {
  mode: 'forward' | 'tooManyRequests' | 'badWatchLine' = 'forward';
  readonly log: { at: number; path: string; status: number }[] = [];
  readonly ca = createCertificateAuthority('fault-proxy-ca');
  private readonly server: Http2SecureServer;
  private readonly sessions = new Set<Http2Session>();
  private upstream: ClientHttp2Session | undefined;

  constructor(
    private readonly target: string,
    private readonly targetCa: string,
  ) {
    const cert = issueCertificate(this.ca, { commonName: 'proxy', ipAddresses: ['127.0.0.1'], usage: 'server' });
    this.server = createSecureServer({ cert: cert.certPem, key: cert.keyPem }, (req, res) => this.handle(req, res));
    this.server.on('session', (s) => {
      this.sessions.add(s);
      s.on('close', () => this.sessions.delete(s));
    });
  }

  async listen(): Promise<string> {
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    return `https://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** Switches mode and cuts every client connection, so that the next requests meet the new mode. */
  switchTo(mode: FaultProxy['mode']): number {
    this.mode = mode;
    const at = Date.now();
    for (const s of this.sessions) s.destroy();
    return at;
  }

  close(): void {
    for (const s of this.sessions) s.destroy();
    this.upstream?.destroy();
    this.server.close();
  }

  private handle(req: Http2ServerRequest, res: Http2ServerResponse): void {
    const path = req.url ?? '/';
    const record = (status: number) => this.log.push({ at: Date.now(), path, status });
    if (this.mode === 'tooManyRequests') {
      record(429);
      res
        .writeHead(429, { 'content-type': 'application/json', 'retry-after': '5' })
        .end(JSON.stringify({ kind: 'Status', status: 'Failure', reason: 'TooManyRequests', code: 429 }));
      return;
    }
    if (this.mode === 'badWatchLine' && path.includes('watch=1')) {
      record(200);
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('<html>an error page from something in between</html>\n');
      return;
    }
    record(0);
    if (!this.upstream || this.upstream.destroyed || this.upstream.closed) {
      this.upstream = connect(this.target, { ca: this.targetCa });
      this.upstream.on('error', () => {});
    }
    const up = this.upstream.request({
      ':method': req.method,
      ':path': path,
      ...(req.headers.authorization ? { authorization: req.headers.authorization } : {}),
      accept: req.headers.accept ?? 'application/json',
      ...(req.headers['content-type'] ? { 'content-type': req.headers['content-type'] } : {}),
    });
    up.on('response', (h) => {
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(h)) if (!k.startsWith(':') && typeof v === 'string') headers[k] = v;
      res.writeHead(Number(h[':status'] ?? 502), headers);
      up.pipe(res);
    });
    up.on('error', () => res.destroy());
    res.on('close', () => up.close());
    req.pipe(up);
  }
}

before(async () => {
  auditDir = mkdtempSync(join(tmpdir(), 'fedmesh-faults-audit-'));
  tb = await startTestbed({
    name: 'federation-faults',
    clusters: ['east', 'west'],
    apiserverArgs: [
      `--audit-policy-file=${writeAuditPolicy(auditDir)}`,
      `--audit-log-path=${join(auditDir, '{cluster}-audit.log')}`,
      '--audit-log-format=json',
      '--audit-log-mode=blocking',
    ],
  });
  east = tb.cluster('east');
  west = tb.cluster('west');
  await installCrds(east.client);
  await west.seed({
    namespaces: [{ name: 'shop', labels: { team: 'shop' } }],
    nodes: [{ name: 'w-node', count: 2 }],
    services: [{ namespace: 'shop', name: 'web', selector: { app: 'web' }, ports: [{ name: 'http', port: 80 }] }],
    pods: [{ namespace: 'shop', name: 'web', count: 3, labels: { app: 'web' } }],
  });
  access = await grantRemoteAccess(west.client);
  await applyManifest(
    west.client,
    serviceAccountTokenSecret(defaultAccessNamespace, remoteAccessName, `${remoteAccessName}-token-2`),
  );
  const second = await readServiceAccountToken(west.client, defaultAccessNamespace, `${remoteAccessName}-token-2`);
  kubeconfigs = [
    accessKubeconfig({ clusterName: 'west', server: west.server, ...access }),
    accessKubeconfig({ clusterName: 'west', server: west.server, ...second }),
  ];
  for (const m of localJoinManifests({ clusterName: 'west', kubeconfig: kubeconfigs[0] })) {
    await applyManifest(east.client, m);
  }
  const kc = new KubeConfig();
  kc.loadFromFile(east.kubeconfig);
  const log = createLogger('federation-faults-e2e', 'info', createWriteStream(join(tb.dir, 'federation-faults.log')));
  fed = await startFederation({ localKubeConfig: kc, clusterName: 'east', log, registry, remoteBackoff });
  fed.cache.subscribe((ev) => events.push(ev), { kinds });
  await fed.ready;
  await waitForState('west', (s) => s.state === 'InSync', 30_000);
  expectedCounts = { pods: 3, nodes: 2, namespaces: westCounts().namespaces ?? 0, services: 2 };
  await eventually(async () => assert.deepEqual(westCounts(), expectedCounts));
});

after(async () => {
  await fed?.stop();
  await tb?.down();
  if (auditDir) rmSync(auditDir, { recursive: true, force: true });
});

describe('a remote that refuses our requests', () => {
  test('list without watch: not InSync within 15 s, the message names the refused watch, few requests; watch granted again: every object back, no churn', async (t) => {
    const from = events.length;
    // Whatever fails below, the next tests start with the full grant.
    t.after(() => applyManifest(west.client, remoteAccessClusterRole()));
    await applyManifest(west.client, clusterRoleWith(['list']));
    const t0 = Date.now();
    await swapAccessSecret();
    const s = await waitForState('west', (x) => x.state !== 'InSync' && /watch pods/.test(x.message ?? ''), 15_000);
    assert.ok(Date.now() - t0 < 15_000);
    assert.equal(s.state, 'ConnectionFailed');
    assert.match(s.message ?? '', /missing permission: watch pods/);
    assert.equal(s.conditions?.find((c) => c.type === 'Ready')?.reason, 'Forbidden');

    const sent = await requestsOver(20_000);
    console.error(`[faults] list without watch: east sent west ${sent} requests in 20 s`);
    assert.ok(sent < 40, `east sent west ${sent} requests in 20 s`);
    assert.ok((await restartsMetric('west', 'pods', 'Forbidden')) > 0, 'the restarts metric names the reason');
    assert.deepEqual(westCounts(), expectedCounts, 'what the list brought is kept');

    await applyManifest(west.client, remoteAccessClusterRole());
    await waitForState('west', (x) => x.state === 'InSync', 30_000);
    assert.deepEqual(westCounts(), expectedCounts, 'every object is there: pods, nodes, namespaces, Services');
    assert.deepEqual(
      westEventsSince(from).map((e) => `${e.type} ${e.type === 'cluster' ? '' : e.object.name}`),
      [],
      'no event for objects that did not change',
    );
  });

  test('binding revoked: not InSync within 15 s with few requests; restored: every object back, no churn', async (t) => {
    const from = events.length;
    t.after(() => applyManifest(west.client, binding()));
    const bindingPath = `/apis/rbac.authorization.k8s.io/v1/clusterrolebindings/${remoteAccessName}`;
    await west.client.delete(bindingPath);
    const t0 = Date.now();
    await swapAccessSecret();
    const s = await waitForState('west', (x) => x.state === 'ConnectionFailed', 15_000);
    assert.ok(Date.now() - t0 < 15_000);
    assert.match(s.message ?? '', /missing permission: list/);
    const sent = await requestsOver(20_000);
    console.error(`[faults] binding revoked: east sent west ${sent} requests in 20 s`);
    assert.ok(sent < 40, `east sent west ${sent} requests in 20 s`);
    assert.deepEqual(westCounts(), expectedCounts, 'Retain keeps the objects while access is revoked');

    await applyManifest(west.client, binding());
    await waitForState('west', (x) => x.state === 'InSync', 30_000);
    assert.deepEqual(westCounts(), expectedCounts);
    assert.deepEqual(westEventsSince(from), [], 'no event for objects that did not change');
  });
});

describe('a remote behind a faulty proxy', () => {
  let proxy: FaultProxy;
  before(async () => {
    proxy = new FaultProxy(west.server, access.caPem);
    const server = await proxy.listen();
    const kubeconfig = accessKubeconfig({
      clusterName: 'west-proxied',
      server,
      caPem: proxy.ca.certPem,
      token: access.token,
    });
    for (const m of localJoinManifests({ clusterName: 'west-proxied', kubeconfig }))
      await applyManifest(east.client, m);
    await waitForState('west-proxied', (s) => s.state === 'InSync', 30_000);
  });
  after(async () => {
    proxy.switchTo('forward');
    await east.client.delete(`${rccPath}/west-proxied`).catch(() => {});
    proxy.close();
  });

  test('429 with Retry-After: 5: no request comes back before 5 s; then InSync again', async () => {
    const switchedAt = proxy.switchTo('tooManyRequests');
    await waitForState('west-proxied', (s) => s.state === 'ConnectionFailed', 15_000);
    await new Promise((r) => setTimeout(r, 6000));
    proxy.switchTo('forward');
    const refused = proxy.log.filter((r) => r.at >= switchedAt);
    const byPath = new Map<string, number[]>();
    for (const r of refused) {
      const key = r.path.split('?')[0] ?? '';
      byPath.set(key, [...(byPath.get(key) ?? []), r.at]);
    }
    assert.ok(
      refused.some((r) => r.status === 429),
      'the proxy refused requests',
    );
    for (const [path, times] of byPath) {
      for (let i = 1; i < times.length; i++) {
        const gap = (times[i] ?? 0) - (times[i - 1] ?? 0);
        assert.ok(gap >= 5000, `${path}: a request ${gap} ms after a 429 with Retry-After: 5`);
      }
    }
    const s = await rccStatus('west-proxied');
    assert.equal(s.conditions?.find((c) => c.type === 'Ready')?.reason, 'TooManyRequests');
    assert.match(s.message ?? '', /429 Too Many Requests \(Retry-After 5s\)/);
    await waitForState('west-proxied', (x) => x.state === 'InSync', 30_000);
  });

  test('a watch line that is not JSON fails that watch, is reported, and the server carries on', async () => {
    proxy.switchTo('badWatchLine');
    const s = await waitForState(
      'west-proxied',
      (x) => x.state === 'ConnectionFailed' && /not JSON/.test(x.message ?? ''),
      15_000,
    );
    assert.equal(s.conditions?.find((c) => c.type === 'Ready')?.reason, 'BadResponse');
    assert.match(s.message ?? '', /the server sent a line that is not JSON \(<html>an error page/);
    assert.ok((await restartsMetric('west-proxied', 'pods', 'BadWatchLine')) > 0);
    assert.equal((await rccStatus('west')).state, 'InSync', 'other clusters are not affected');
    proxy.switchTo('forward');
    await waitForState('west-proxied', (x) => x.state === 'InSync', 30_000);
  });
});

describe('RCC churn and hand-made input', () => {
  test('a status without conditions (patched by hand) is rewritten; the server survives', async () => {
    await east.kubectlOk([
      'patch',
      'rcc',
      'west',
      '--subresource=status',
      '--type=merge',
      '-p',
      '{"status":{"conditions":null}}',
    ]);
    await waitForState('west', (s) => s.state === 'InSync' && (s.conditions?.length ?? 0) === 2, 15_000);
    assert.ok(fed?.isReady());
  });

  test('kubectl replace --force: InSync with every object within 30 s, and the status is the new object’s', async () => {
    const old = await rcc('west');
    const manifest = localJoinManifests({ clusterName: 'west', kubeconfig: kubeconfigs[kubeconfigInUse] ?? '' }).find(
      (m) => m.kind === 'RemoteClusterConfiguration',
    );
    const t0 = Date.now();
    await east.kubectlOk(['replace', '--force', '-f', '-'], JSON.stringify(manifest));
    const fresh = await eventually(
      async () => {
        const r = await rcc('west');
        assert.notEqual(r.metadata.uid, old.metadata.uid);
        assert.equal(r.status?.state, 'InSync', r.status?.message);
        assert.equal(r.status?.observedGeneration, r.metadata.generation);
        assert.deepEqual(westCounts(), expectedCounts);
        return r;
      },
      30_000,
      100,
    );
    console.error(`[faults] replace --force: InSync with every object after ${Date.now() - t0} ms`);
    assert.ok(Date.parse(fresh.status?.lastSyncTime ?? '') >= t0 - 1000, 'the sync time is the new one’s');
    // The old instance's cleanup must not run after the new one started: the objects stay.
    await new Promise((r) => setTimeout(r, 1500));
    assert.deepEqual(westCounts(), expectedCounts);
    assert.equal((await rccStatus('west')).state, 'InSync');
  });

  test('stopping the federation leaves the cache as it is', async () => {
    const f = fed;
    assert.ok(f);
    fed = undefined;
    await f.stop();
    const c = f.cache.counts('west');
    assert.deepEqual(
      { pods: c.WorkloadEndpoint, nodes: c.HostEndpoint, namespaces: c.Namespace, services: c.Service },
      expectedCounts,
    );
  });
});
