// The federation API through the real aggregation layer of a real kube-apiserver, with the real kubectl
// (the checklist IDs in the test names are explained in docs/api-server-checklist.md).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { request } from 'node:https';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { isStatus } from '../core/kube/rest-client.js';
import { issueCertificate, type KeyPair } from '../core/tls/certificates.js';
import { deployFedmesh } from './testbed/deploy.js';
import { eventually, startTestbed, type Testbed } from './testbed/harness.js';
import { stopProcess } from './testbed/processes.js';
import type { Scenario } from './testbed/scenario.js';

let tb: Testbed;
const westPods = 110;
const westNodes = 105;
const manyFederated = 100;

/** A remote cluster with a Service `shop/web` (labelled app=web, so federated Services pick it) and its pods. */
function webCluster(
  podCIDR: string,
  node: string,
  nodes: number,
  pods: number,
  labels: Record<string, string>,
): Scenario {
  return {
    podCIDR,
    nodes: [{ name: node, count: nodes }],
    services: [
      {
        namespace: 'shop',
        name: 'web',
        labels: { app: 'web' },
        selector: { app: 'web' },
        ports: [{ name: 'http', port: 80, targetPort: 8080 }],
      },
    ],
    pods: [{ namespace: 'shop', name: 'web', count: pods, labels, ports: [{ name: 'http', containerPort: 8080 }] }],
  };
}

before(async () => {
  tb = await startTestbed({ name: 'apiserver', clusters: ['east', 'west', 'north'] });
  await tb.cluster('west').seed(webCluster('10.2.0.0/16', 'wn', westNodes, westPods, { app: 'web' }));
  await tb.cluster('north').seed(webCluster('10.3.0.0/16', 'nn', 2, 5, { app: 'web', tier: 'edge' }));
  await tb.cluster('east').seed({
    services: [
      ...Array.from({ length: manyFederated }, (_, i) => ({
        namespace: 'many',
        name: `fed-${String(i).padStart(3, '0')}`,
        labels: { batch: 'many' },
        annotations: { 'federation.fedmesh.io/serviceSelector': "app == 'web'" },
        ports: [{ name: 'http', port: 80, targetPort: 8080 }],
      })),
      {
        namespace: 'shop',
        name: 'web-global',
        annotations: { 'federation.fedmesh.io/serviceSelector': "app == 'web'" },
        ports: [{ name: 'http', port: 80, targetPort: 8080 }],
      },
    ],
  });
  await deployFedmesh(tb.state, (m) => console.error(`[deploy] ${m}`));
  await eventually(async () => {
    const out = await east().kubectlOk(['get', 'remoteworkloads', '-A', '--no-headers']);
    assert.equal(out.trim().split('\n').length, westPods + 5);
  }, 90_000);
});
after(async () => {
  await tb?.down();
});

const east = () => tb.cluster('east');
const lines = (s: string) => s.trim().split('\n');

describe('kubectl through the aggregator (DISC, TBL, LIST, WATCH, OAPI)', () => {
  test('DISC-01/03: api-resources shows the three kinds with short names and the fedmesh category', async () => {
    const out = await east().kubectlOk(['api-resources', '--api-group=federation.fedmesh.io', '-o', 'wide']);
    assert.match(
      out,
      /federatedendpoints\s+fep\s+federation\.fedmesh\.io\/v1alpha1\s+true\s+FederatedEndpoint\s+get,list,watch\s+fedmesh/,
    );
    assert.match(out, /remotenodes\s+rno\s+federation\.fedmesh\.io\/v1alpha1\s+false\s+RemoteNode/);
    assert.match(out, /remoteworkloads\s+rwl\s+federation\.fedmesh\.io\/v1alpha1\s+true\s+RemoteWorkload/);
    const all = await east().kubectlOk(['get', 'fedmesh', '-A']);
    assert.match(all, /remoteworkload\.federation\.fedmesh\.io\/west\.web-0/);
    assert.match(all, /federatedendpoint\.federation\.fedmesh\.io\/web-global/);
    assert.match(all, /remotenode\.federation\.fedmesh\.io\/north\.nn-1/);
  });

  test('TBL-01/02: get -A and -o wide print server-side columns', async () => {
    const out = lines(await east().kubectlOk(['get', 'remoteworkloads', '-A']));
    assert.match(out[0] ?? '', /^NAMESPACE\s+NAME\s+CLUSTER\s+READY\s+IP\s+NODE\s+AGE$/);
    assert.ok(
      out.some((l) => /^shop\s+west\.web-0\s+west\s+True\s+10\.2\.\d+\.\d+\s+wn-0\s+\S+$/.test(l)),
      out.slice(0, 3).join('\n'),
    );
    const wide = lines(await east().kubectlOk(['get', 'rwl', '-n', 'shop', '-o', 'wide']));
    assert.match(wide[0] ?? '', /^NAME\s+CLUSTER\s+READY\s+IP\s+NODE\s+POD\s+SERVICE ACCOUNT\s+STALE\s+AGE$/);
    const nodes = lines(await east().kubectlOk(['get', 'remotenodes']));
    assert.match(nodes[0] ?? '', /^NAME\s+CLUSTER\s+READY\s+INTERNAL-IP\s+POD-CIDRS\s+AGE$/);
    assert.equal(nodes.length, 1 + westNodes + 2);
    const fep = lines(await east().kubectlOk(['get', 'federatedendpoints', '-n', 'shop', '-o', 'wide']));
    assert.match(
      fep[1] ?? '',
      /^web-global\s+app == "web"\s+115\s+115\s+north,west\s+north\/web,west\/web\s+<none>\s+\S+$/,
    );
  });

  test('-o yaml, -l on the virtual cluster label, --field-selector', async () => {
    const y = await east().kubectlOk(['get', 'rwl', 'west.web-1', '-n', 'shop', '-o', 'yaml']);
    assert.match(y, /kind: RemoteWorkload/);
    assert.match(y, /fedmesh\.io\/cluster: west/);
    assert.match(y, /podName: web-1/);
    // AGE is the pod's: its creationTimestamp in west, not when fedmesh first saw it.
    const podCreated = await tb
      .cluster('west')
      .kubectlOk(['get', 'pod', 'web-1', '-n', 'shop', '-o', 'jsonpath={.metadata.creationTimestamp}']);
    const server = tb.state.processes.find((p) => p.cluster === 'east' && p.component === 'fedmesh-server');
    assert.ok(
      server && Date.parse(podCreated) < Date.parse(server.startedAt) - 1000,
      'the pod is older than the server',
    );
    assert.match(y, new RegExp(`creationTimestamp: "${podCreated.trim()}"`));
    const north = lines(await east().kubectlOk(['get', 'rwl', '-A', '-l', 'fedmesh.io/cluster=north', '--no-headers']));
    assert.equal(north.length, 5);
    const edge = lines(
      await east().kubectlOk(['get', 'rwl', '-A', '-l', 'tier=edge,fedmesh.io/cluster in (north)', '-o', 'name']),
    );
    assert.equal(edge.length, 5);
    const byNode = lines(
      await east().kubectlOk(['get', 'rwl', '-A', '--field-selector', 'spec.nodeName=nn-0', '-o', 'name']),
    );
    assert.ok(byNode.length >= 2 && byNode.every((l) => l.includes('north.')));
    const byCluster = lines(
      await east().kubectlOk(['get', 'rno', '--field-selector', 'spec.cluster=west', '-o', 'name']),
    );
    assert.equal(byCluster.length, westNodes);
    assert.ok(byCluster.every((n) => n.startsWith('remotenode.federation.fedmesh.io/west.wn-')));
    const bad = await east().kubectl(['get', 'rwl', '-A', '--field-selector', 'status.phase=Running']);
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /"status\.phase" is not a known field selector/);
  });

  test('LIST-03: --chunk-size=10 pages through 100+ objects', async () => {
    const r = await east().kubectl(['get', 'rwl', '-A', '--chunk-size=10', '--no-headers', '-v=6']);
    assert.equal(r.code, 0, r.stderr);
    // kubectl logs each request at -v=6: pages of 10, each after the first with a continue token.
    const pages = r.stderr.split('\n').filter((l) => l.includes('"Response"') && /remoteworkloads\?.*limit=10/.test(l));
    assert.ok(pages.length >= 12, `${pages.length} page requests`);
    assert.ok(pages.slice(1).every((l) => l.includes('continue=')));
    const rows = lines(r.stdout).filter((l) => l.startsWith('shop'));
    assert.equal(rows.length, westPods + 5);
    assert.equal(new Set(rows.map((r) => r.split(/\s+/)[1])).size, westPods + 5);
  });

  test('WATCH-01/02: get -w prints remote changes as they happen', async () => {
    const child = spawn(tb.kubectlPath, ['get', 'rwl', '-n', 'shop', '-w', '--no-headers'], {
      env: { ...process.env, KUBECONFIG: east().kubeconfig },
    });
    let out = '';
    child.stdout.on('data', (c: Buffer) => {
      out += c.toString();
    });
    try {
      await eventually(async () => assert.ok(lines(out).length >= westPods + 5), 20_000);
      await tb
        .cluster('west')
        .client.mergePatch('/api/v1/namespaces/shop/pods/web-7', { metadata: { labels: { watched: 'yes' } } });
      await tb.cluster('west').seed({
        nodes: [{ name: 'wn', count: 3 }],
        podCIDR: '10.2.0.0/16',
        pods: [{ namespace: 'shop', name: 'late', node: 'wn-0', ip: '10.2.0.200', labels: { app: 'web' } }],
      });
      await eventually(async () => assert.match(out, /west\.late\s+west\s+True\s+10\.2\.0\.200/), 20_000);
    } finally {
      child.kill();
    }
  });

  test('federatedendpoints and remotenodes: -o wide, -o yaml, -l, --field-selector, --chunk-size=10 over 100+', async () => {
    const c = east();
    for (const [res, scope, total, wideHeader] of [
      [
        'federatedendpoints',
        ['-n', 'many'],
        manyFederated,
        /^NAME\s+SELECTOR\s+ENDPOINTS\s+READY\s+CLUSTERS\s+SERVICES\s+STALE\s+AGE$/,
      ],
      ['remotenodes', [], westNodes + 2, /^NAME\s+CLUSTER\s+READY\s+INTERNAL-IP\s+POD-CIDRS\s+VTEP\s+STALE\s+AGE$/],
    ] as const) {
      const wide = lines(await c.kubectlOk(['get', res, ...scope, '-o', 'wide']));
      assert.match(wide[0] ?? '', wideHeader);
      assert.equal(wide.length, total + 1);
      const r = await c.kubectl(['get', res, ...scope, '--chunk-size=10', '-o', 'name', '-v=6']);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(new Set(lines(r.stdout)).size, total);
      // Pages of 10: every page after the first carries the continue token of the one before.
      const responses = r.stderr.split('\n').filter((l) => l.includes('"Response"'));
      const continued = responses.filter((l) => l.includes('continue=')).length;
      assert.equal(continued, Math.ceil(total / 10) - 1, `${res}: ${continued} continued pages`);
    }
    const y = await c.kubectlOk(['get', 'fep', 'web-global', '-n', 'shop', '-o', 'yaml']);
    assert.match(y, /kind: FederatedEndpoint/);
    assert.match(y, /serviceSelector: app == "web"/);
    assert.match(y, /cluster: north/);
    const many = lines(
      await c.kubectlOk([
        'get',
        'fep',
        '-n',
        'many',
        '-l',
        'batch=many',
        '--field-selector',
        'metadata.name=fed-007',
        '-o',
        'name',
      ]),
    );
    assert.deepEqual(many, ['federatedendpoint.federation.fedmesh.io/fed-007']);
    const northNodes = lines(await c.kubectlOk(['get', 'rno', '-l', 'fedmesh.io/cluster=north', '-o', 'name']));
    assert.deepEqual(northNodes, [
      'remotenode.federation.fedmesh.io/north.nn-0',
      'remotenode.federation.fedmesh.io/north.nn-1',
    ]);
    const ry = await c.kubectlOk(['get', 'rno', 'north.nn-1', '-o', 'yaml']);
    assert.match(ry, /kind: RemoteNode/);
    assert.match(ry, /podCIDRs:\n\s+- 10\.3\.1\.0\/24/);
  });

  test('-w on federatedendpoints and remotenodes follows remote changes', async () => {
    const watch = (args: string[]) => {
      const child = spawn(tb.kubectlPath, ['get', ...args, '-w', '--no-headers'], {
        env: { ...process.env, KUBECONFIG: east().kubeconfig },
      });
      const out = { text: '' };
      child.stdout.on('data', (d: Buffer) => {
        out.text += d.toString();
      });
      return { child, out };
    };
    const fep = watch(['fep', 'web-global', '-n', 'shop']);
    const rno = watch(['rno']);
    try {
      const before = await eventually(async () => {
        const m = /web-global\s+app == "web"\s+(\d+)\s/.exec(fep.out.text);
        assert.ok(m, fep.out.text);
        return Number(m[1]);
      }, 20_000);
      // One more backing pod in north: the federated endpoints grow by one.
      await tb.cluster('north').seed({
        podCIDR: '10.3.0.0/16',
        nodes: [{ name: 'nn', count: 2 }],
        pods: [{ namespace: 'shop', name: 'extra', node: 'nn-0', ip: '10.3.0.99', labels: { app: 'web' } }],
      });
      await eventually(
        async () => assert.match(fep.out.text, new RegExp(`web-global\\s+app == "web"\\s+${before + 1}\\s`)),
        30_000,
      );
      // A new node in north appears as a RemoteNode event.
      await tb.cluster('north').seed({ podCIDR: '10.3.0.0/16', nodes: [{ name: 'nn', count: 3 }] });
      await eventually(async () => assert.match(rno.out.text, /north\.nn-2\s+north\s+True/), 30_000);
    } finally {
      fep.child.kill();
      rno.child.kill();
    }
  });

  test('describe and explain work for all three kinds', async () => {
    const d = await east().kubectlOk(['describe', 'rwl', 'west.web-2', '-n', 'shop']);
    assert.match(d, /Name:\s+west\.web-2/);
    assert.match(d, /Cluster:\s+west/);
    const fep = await east().kubectlOk(['describe', 'fep', 'web-global', '-n', 'shop']);
    assert.match(fep, /Service Selector:\s+app == "web"/);
    const rno = await east().kubectlOk(['describe', 'rno', 'north.nn-0']);
    assert.match(rno, /Pod CID Rs:|Pod CIDRs:/);
    for (const [res, field] of [
      ['remoteworkloads.spec', 'nodeName'],
      ['federatedendpoints.endpoints', 'cluster'],
      ['remotenodes.spec.podCIDRs', 'pod CIDRs'],
    ] as const) {
      const e = await eventually(() => east().kubectlOk(['explain', res]), 60_000);
      assert.match(e, new RegExp(field));
    }
  });
});

/** A direct HTTPS call to the fedmesh server of east, bypassing kube-apiserver. */
function direct(
  path: string,
  creds: { client?: KeyPair; token?: string; headers?: Record<string, string> },
): Promise<{ status: number; body: string }> {
  const proc = tb.state.processes.find((p) => p.cluster === 'east' && p.component === 'fedmesh-server');
  const port = Number(
    proc?.argv
      .find((a) => a.startsWith('--api-bind-address='))
      ?.split(':')
      .pop(),
  );
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path,
        rejectUnauthorized: false,
        ...(creds.client ? { cert: creds.client.certPem, key: creds.client.keyPem } : {}),
        headers: { ...(creds.token ? { Authorization: `Bearer ${creds.token}` } : {}), ...(creds.headers ?? {}) },
      },
      (res) => {
        let body = '';
        res.on('data', (c: Buffer) => {
          body += c.toString();
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

describe('security (AUTHN, AUTHZ, SEC)', () => {
  const path = '/apis/federation.fedmesh.io/v1alpha1/remoteworkloads?limit=1';
  const forged = { 'X-Remote-User': 'admin', 'X-Remote-Group': 'system:masters' };

  test('SEC-01a: no client certificate → 401, forged headers ignored', async () => {
    const r = await direct(path, { headers: forged });
    assert.equal(r.status, 401);
    assert.equal((JSON.parse(r.body) as { reason: string }).reason, 'Unauthorized');
  });

  test('SEC-01: a certificate not from the requestheader CA with X-Remote-User → 401', async () => {
    const clusterCa = readFileSync(join(tb.dir, 'pki', 'east', 'ca.crt'), 'utf8');
    const otherCa = { certPem: clusterCa, keyPem: readFileSync(join(tb.dir, 'pki', 'east', 'ca.key'), 'utf8') };
    // Signed by east's cluster CA, not the front-proxy CA: a valid x509 user at most, never a proxy.
    const cert = issueCertificate(otherCa, { commonName: 'front-proxy-client', usage: 'client' });
    const r = await direct(path, { client: cert, headers: forged });
    assert.notEqual(r.status, 200);
    const unknown = issueCertificate(
      {
        certPem: readFileSync(join(tb.dir, 'pki', 'west', 'front-proxy-ca.crt'), 'utf8'),
        keyPem: readFileSync(join(tb.dir, 'pki', 'west', 'front-proxy-ca.key'), 'utf8'),
      },
      { commonName: 'front-proxy-client', usage: 'client' },
    );
    assert.equal(
      (await direct(path, { client: unknown, headers: forged })).status,
      401,
      'another cluster front-proxy CA',
    );
  });

  test('SEC-01c: a requestheader-CA certificate with a CN outside the allowed names → 401', async () => {
    const ca = {
      certPem: readFileSync(join(tb.dir, 'pki', 'east', 'front-proxy-ca.crt'), 'utf8'),
      keyPem: readFileSync(join(tb.dir, 'pki', 'east', 'front-proxy-ca.key'), 'utf8'),
    };
    const r = await direct(path, {
      client: issueCertificate(ca, { commonName: 'mallory', usage: 'client' }),
      headers: forged,
    });
    assert.equal(r.status, 401);
    const ok = await direct(path, {
      client: issueCertificate(ca, { commonName: 'front-proxy-client', usage: 'client' }),
      headers: forged,
    });
    assert.equal(ok.status, 200, 'the allowed CN is trusted (control)');
  });

  test('AUTHZ: no RBAC → 403 through the aggregator and with a bearer token; with the ClusterRole → 200', async () => {
    const c = east();
    const denied = await c.kubectl(['get', 'rwl', '-A', '--as=alice']);
    assert.notEqual(denied.code, 0);
    assert.match(
      denied.stderr,
      /forbidden: User "alice" cannot list resource "remoteworkloads" in API group "federation\.fedmesh\.io"/,
    );
    await c.kubectlOk(['create', 'namespace', 'robots']);
    await c.kubectlOk(['create', 'serviceaccount', 'reader', '-n', 'robots']);
    const token = (await c.kubectlOk(['create', 'token', 'reader', '-n', 'robots'])).trim();
    const byToken = await direct(path, { token });
    assert.equal(byToken.status, 403);
    assert.match(
      JSON.parse(byToken.body).message,
      /User "system:serviceaccount:robots:reader" cannot list resource "remoteworkloads"/,
    );
    await c.kubectlOk([
      'create',
      'clusterrolebinding',
      'alice-reads',
      '--clusterrole=fedmesh:federation-reader',
      '--user=alice',
      '--serviceaccount=robots:reader',
    ]);
    await eventually(async () => {
      assert.match(await c.kubectlOk(['get', 'rwl', '-n', 'shop', '--as=alice', '-o', 'name']), /west\.web-0/);
      assert.equal((await direct(path, { token })).status, 200);
    }, 30_000);
  });
});

describe('remote outages (HLTH, DISC-08, LIST-06)', () => {
  test('west down: lists still answer from the cache, marked stale, with a Warning naming the cluster', async () => {
    const west = tb.state.processes.find((p) => p.cluster === 'west' && p.component === 'kube-apiserver');
    assert.ok(west);
    await stopProcess(west);
    const r = await eventually(async () => {
      const res = await east().kubectl(['get', 'rwl', '-n', 'shop', '-l', 'fedmesh.io/cluster=west', '-o', 'wide']);
      assert.equal(res.code, 0, res.stderr);
      assert.match(res.stderr, /Warning: cluster "west" is ConnectionFailed/);
      return res;
    }, 30_000);
    const rows = lines(r.stdout).slice(1);
    assert.ok(rows.length >= westPods, 'Retain: the objects stay');
    assert.ok(
      rows.every((l) => /\d{4}-\d\d-\d\dT/.test(l)),
      'every west row says since when it is stale',
    );
  });

  test('all remotes down: discovery and readyz stay healthy; namespace deletion is not blocked', async () => {
    const north = tb.state.processes.find((p) => p.cluster === 'north' && p.component === 'kube-apiserver');
    assert.ok(north);
    await stopProcess(north);
    const c = east();
    await eventually(async () => {
      const res = await c.kubectl(['get', 'rwl', '-A', '-l', 'fedmesh.io/cluster=north', '--no-headers']);
      assert.match(res.stderr, /cluster "north" is ConnectionFailed/);
    }, 30_000);
    const resources = await c.kubectlOk(['api-resources', '--api-group=federation.fedmesh.io']);
    assert.match(resources, /remoteworkloads/);
    const apisvc = JSON.parse(
      await c.kubectlOk(['get', 'apiservice', 'v1alpha1.federation.fedmesh.io', '-o', 'json']),
    ) as {
      status: { conditions: { type: string; status: string }[] };
    };
    assert.deepEqual(apisvc.status.conditions.find((x) => x.type === 'Available')?.status, 'True');
    const ready = await c.kubectlOk(['get', '--raw', '/apis/federation.fedmesh.io/v1alpha1']);
    assert.match(ready, /APIResourceList/);
    await c.kubectlOk(['create', 'namespace', 'unrelated']);
    await c.kubectlOk(['create', 'configmap', 'x', '-n', 'unrelated']);
    await c.kubectlOk(['delete', 'namespace', 'unrelated', '--wait=true', '--timeout=60s']);
    await assert.rejects(c.client.get('/api/v1/namespaces/unrelated'), (e: unknown) => isStatus(e, 404));
    const readyz = await direct('/readyz?verbose', {});
    assert.equal(readyz.status, 200, readyz.body);
  });
});
