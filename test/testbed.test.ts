// The testbed is real: real kube-apiservers, kube-controller-manager, kubectl and aggregation, two clusters.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { KubeConfig } from '@kubernetes/client-node';
import { isStatus } from '../core/kube/rest-client.js';
import { createCertificateAuthority, issueCertificate } from '../core/tls/certificates.js';
import { eventually, startTestbed, type Testbed } from './testbed/harness.js';

let tb: Testbed;

before(async () => {
  tb = await startTestbed({ name: 'testbed', clusters: ['east', 'west'] });
});
after(async () => {
  await tb?.down();
});

async function listen(server: Server): Promise<number> {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return (server.address() as AddressInfo).port;
}

function readBody(req: import('node:http').IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let d = '';
    req.on('data', (c: Buffer) => {
      d += c.toString();
    });
    req.on('end', () => resolve(d));
    req.on('error', reject);
  });
}

describe('clusters', () => {
  test('kubectl of the servers version gets and applies against each cluster', async () => {
    for (const name of ['east', 'west']) {
      const c = tb.cluster(name);
      const version = JSON.parse(await c.kubectlOk(['version', '-o', 'json'])) as {
        serverVersion: { gitVersion: string };
        clientVersion: { gitVersion: string };
      };
      assert.match(version.serverVersion.gitVersion, /^v1\.3[67]\.\d+$/, 'the version is stamped, not v0.0.0-master');
      assert.equal(version.clientVersion.gitVersion, version.serverVersion.gitVersion);
      const manifest = `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: hello, namespace: default}\ndata: {cluster: ${name}}\n`;
      assert.match(await c.kubectlOk(['apply', '-f', '-'], manifest), /configmap\/hello created/);
      assert.equal(await c.kubectlOk(['get', 'configmap', 'hello', '-o', 'jsonpath={.data.cluster}']), name);
    }
  });

  test('two clusters are isolated: separate objects, and one cluster refuses the other one’s admin', async () => {
    const east = tb.cluster('east');
    const west = tb.cluster('west');
    await east.kubectlOk(['create', 'namespace', 'only-in-east']);
    const r = await west.kubectl(['get', 'namespace', 'only-in-east']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /NotFound|not found/);

    const eastUser = new KubeConfig();
    eastUser.loadFromFile(east.kubeconfig);
    const user = eastUser.getCurrentUser();
    const cert = Buffer.from(user?.certData ?? '', 'base64').toString();
    const key = Buffer.from(user?.keyData ?? '', 'base64').toString();
    const westWithEastAdmin = west.client.withCredentials({ cert, key });
    await assert.rejects(westWithEastAdmin.get('/api/v1/namespaces'), (err: unknown) => isStatus(err, 401));
    westWithEastAdmin.close();
  });

  test('a CRD is installed, enforced by its schema, and used', async () => {
    const c = tb.cluster('east');
    await c.kubectlOk(
      ['apply', '-f', '-'],
      JSON.stringify({
        apiVersion: 'apiextensions.k8s.io/v1',
        kind: 'CustomResourceDefinition',
        metadata: { name: 'widgets.e2e.fedmesh.io' },
        spec: {
          group: 'e2e.fedmesh.io',
          scope: 'Namespaced',
          names: { plural: 'widgets', singular: 'widget', kind: 'Widget', shortNames: ['wdg'] },
          versions: [
            {
              name: 'v1',
              served: true,
              storage: true,
              schema: {
                openAPIV3Schema: {
                  type: 'object',
                  properties: {
                    spec: {
                      type: 'object',
                      required: ['size'],
                      properties: { size: { type: 'integer', minimum: 1 } },
                    },
                  },
                },
              },
            },
          ],
        },
      }),
    );
    await c.kubectlOk(['wait', '--for=condition=Established', 'crd/widgets.e2e.fedmesh.io', '--timeout=60s']);
    await eventually(() =>
      c.kubectlOk(
        ['apply', '-f', '-'],
        'apiVersion: e2e.fedmesh.io/v1\nkind: Widget\nmetadata: {name: w1, namespace: default}\nspec: {size: 3}\n',
      ),
    );
    assert.equal(await c.kubectlOk(['get', 'wdg', 'w1', '-o', 'jsonpath={.spec.size}']), '3');
    const bad = await c.kubectl(
      ['apply', '-f', '-'],
      'apiVersion: e2e.fedmesh.io/v1\nkind: Widget\nmetadata: {name: w2, namespace: default}\nspec: {size: 0}\n',
    );
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /spec\.size/);
  });
});

describe('kube-controller-manager', () => {
  test('EndpointSlices are filled from seeded pods', async () => {
    const c = tb.cluster('west');
    await c.seed({
      nodes: [{ name: 'wnode', count: 2 }],
      podCIDR: '10.20.0.0/16',
      services: [
        {
          namespace: 'shop',
          name: 'web',
          selector: { app: 'web' },
          ports: [{ name: 'http', port: 80, targetPort: 8080 }],
        },
      ],
      pods: [
        {
          namespace: 'shop',
          name: 'web',
          count: 3,
          labels: { app: 'web' },
          ports: [{ name: 'http', containerPort: 8080 }],
        },
        { namespace: 'shop', name: 'other', labels: { app: 'other' } },
        { namespace: 'shop', name: 'notready', labels: { app: 'web' }, ready: false },
      ],
    });
    const slices = await eventually(async () => {
      const list = await c.client.get<{
        items: {
          endpoints: { addresses: string[]; conditions: { ready: boolean }; nodeName: string }[];
          ports: { name: string; port: number }[];
        }[];
      }>('/apis/discovery.k8s.io/v1/namespaces/shop/endpointslices?labelSelector=kubernetes.io%2Fservice-name%3Dweb');
      const eps = list.items.flatMap((s) => s.endpoints ?? []);
      assert.equal(eps.length, 4, `endpoints so far: ${JSON.stringify(eps)}`);
      return list.items;
    }, 60_000);
    const eps = slices.flatMap((s) => s.endpoints);
    const ready = eps.filter((e) => e.conditions.ready).flatMap((e) => e.addresses);
    assert.deepEqual(ready.sort(), ['10.20.0.1', '10.20.0.2', '10.20.1.1']);
    assert.deepEqual(
      eps.filter((e) => !e.conditions.ready).map((e) => e.addresses[0]),
      ['10.20.0.3'],
    );
    assert.deepEqual([...new Set(eps.map((e) => e.nodeName))].sort(), ['wnode-0', 'wnode-1']);
    assert.deepEqual(slices[0]?.ports, [{ name: 'http', port: 8080, protocol: 'TCP' }]);
  });

  test('service-account tokens are issued and authenticate', async () => {
    const c = tb.cluster('east');
    await c.kubectlOk(['create', 'namespace', 'tokens']);
    await eventually(() => c.kubectlOk(['get', 'serviceaccount', 'default', '-n', 'tokens']));
    const token = (await c.kubectlOk(['create', 'token', 'default', '-n', 'tokens'])).trim();
    const asSa = c.client.withCredentials({ token });
    const review = await asSa.create<{ status: { userInfo: { username: string } } }>(
      '/apis/authentication.k8s.io/v1/selfsubjectreviews',
      { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' },
    );
    assert.equal(review.status.userInfo.username, 'system:serviceaccount:tokens:default');
    asSa.close();
    // The root CA ConfigMap is published by kube-controller-manager too.
    await eventually(() => c.kubectlOk(['get', 'configmap', 'kube-root-ca.crt', '-n', 'tokens']));
  });

  test('garbage collection follows ownerReferences', async () => {
    const c = tb.cluster('east');
    const owner = await c.client.create<{ metadata: { uid: string } }>('/api/v1/namespaces/default/configmaps', {
      metadata: { name: 'gc-owner' },
    });
    await c.client.create('/api/v1/namespaces/default/configmaps', {
      metadata: {
        name: 'gc-dependent',
        ownerReferences: [{ apiVersion: 'v1', kind: 'ConfigMap', name: 'gc-owner', uid: owner.metadata.uid }],
      },
    });
    await c.client.delete('/api/v1/namespaces/default/configmaps/gc-owner');
    await eventually(async () => {
      await assert.rejects(c.client.get('/api/v1/namespaces/default/configmaps/gc-dependent'), (e: unknown) =>
        isStatus(e, 404),
      );
    }, 60_000);
  });

  test('a namespace with bound pods, services and custom resources is deleted completely', async () => {
    const c = tb.cluster('west');
    await c.seed({
      nodes: [{ name: 'gone-node', podCIDR: '10.30.0.0/24' }],
      services: [{ namespace: 'doomed', name: 'svc', selector: { app: 'x' }, ports: [{ port: 80 }] }],
      pods: [{ namespace: 'doomed', name: 'p', count: 5, labels: { app: 'x' } }],
    });
    await c.kubectlOk(['create', 'configmap', 'cm', '-n', 'doomed']);
    await c.kubectlOk(['delete', 'namespace', 'doomed', '--wait=true', '--timeout=90s']);
    await assert.rejects(c.client.get('/api/v1/namespaces/doomed'), (e: unknown) => isStatus(e, 404));
    const pods = await c.client.get<{ items: unknown[] }>('/api/v1/namespaces/doomed/pods');
    assert.equal(pods.items.length, 0);
  });
});

describe('admission webhooks and the aggregation layer reach host processes', () => {
  test('a validating webhook registered with clientConfig.url denies a request', async () => {
    const c = tb.cluster('east');
    const ca = createCertificateAuthority('e2e-webhook-ca');
    const serving = issueCertificate(ca, { commonName: 'webhook', ipAddresses: ['127.0.0.1'], usage: 'server' });
    let calls = 0;
    const server = createServer({ cert: serving.certPem, key: serving.keyPem }, async (req, res) => {
      calls += 1;
      const review = JSON.parse(await readBody(req)) as {
        request: { uid: string; object: { metadata: { labels?: Record<string, string> } } };
      };
      const deny = review.request.object.metadata.labels?.forbidden === 'yes';
      res.setHeader('Content-Type', 'application/json');
      res.end(
        JSON.stringify({
          apiVersion: 'admission.k8s.io/v1',
          kind: 'AdmissionReview',
          response: {
            uid: review.request.uid,
            allowed: !deny,
            ...(deny ? { status: { code: 403, message: 'label forbidden=yes is not allowed here' } } : {}),
          },
        }),
      );
    });
    const port = await listen(server);
    try {
      await c.kubectlOk(['create', 'namespace', 'guarded']);
      await c.kubectlOk(['label', 'namespace', 'guarded', 'e2e-webhook=on']);
      await c.client.create('/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations', {
        metadata: { name: 'e2e-deny' },
        webhooks: [
          {
            name: 'deny.e2e.fedmesh.io',
            clientConfig: {
              url: `https://127.0.0.1:${port}/validate`,
              caBundle: Buffer.from(ca.certPem).toString('base64'),
            },
            rules: [{ apiGroups: [''], apiVersions: ['v1'], operations: ['CREATE'], resources: ['configmaps'] }],
            namespaceSelector: { matchLabels: { 'e2e-webhook': 'on' } },
            failurePolicy: 'Fail',
            sideEffects: 'None',
            admissionReviewVersions: ['v1'],
            timeoutSeconds: 5,
          },
        ],
      });
      const labelled = `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: bad, namespace: guarded, labels: {forbidden: "yes"}}\n`;
      const r = await eventually(async () => {
        const res = await c.kubectl(['apply', '-f', '-'], labelled);
        assert.notEqual(res.code, 0);
        return res;
      });
      assert.match(r.stderr, /denied the request: label forbidden=yes is not allowed here/);
      await c.kubectlOk(['create', 'configmap', 'good', '-n', 'guarded']);
      assert.ok(calls >= 2, `the webhook saw ${calls} requests`);
    } finally {
      server.close();
      server.closeAllConnections();
      await c.client
        .delete('/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations/e2e-deny')
        .catch(() => {});
    }
  });

  test('an APIService backed by an ExternalName Service to 127.0.0.1 serves a group through the aggregator', async () => {
    const c = tb.cluster('west');
    const ca = createCertificateAuthority('e2e-aggregated-ca');
    const serving = issueCertificate(ca, {
      commonName: 'e2e-api',
      dnsNames: ['e2e-api.e2e-agg.svc'],
      usage: 'server',
    });
    // The front-proxy CA that the aggregator's client certificate chains to, as an extension server reads it.
    const auth = await c.client.get<{ data: Record<string, string> }>(
      '/api/v1/namespaces/kube-system/configmaps/extension-apiserver-authentication',
    );
    const frontProxyCa = auth.data['requestheader-client-ca-file'];
    assert.ok(frontProxyCa, 'extension-apiserver-authentication has the requestheader CA');
    const seenUsers: string[] = [];
    const server = createServer(
      { cert: serving.certPem, key: serving.keyPem, ca: frontProxyCa, requestCert: true, rejectUnauthorized: true },
      (req, res) => {
        const peer = (req.socket as import('node:tls').TLSSocket).getPeerCertificate();
        seenUsers.push(`${peer.subject?.CN}:${String(req.headers['x-remote-user'] ?? '')}`);
        res.setHeader('Content-Type', 'application/json');
        const path = (req.url ?? '').split('?')[0];
        if (path === '/apis/e2e.fedmesh.io/v1') {
          res.end(
            JSON.stringify({
              kind: 'APIResourceList',
              apiVersion: 'v1',
              groupVersion: 'e2e.fedmesh.io/v1',
              resources: [
                { name: 'pings', singularName: 'ping', namespaced: false, kind: 'Ping', verbs: ['get', 'list'] },
              ],
            }),
          );
        } else if (path === '/apis/e2e.fedmesh.io/v1/pings') {
          res.end(
            JSON.stringify({
              kind: 'PingList',
              apiVersion: 'e2e.fedmesh.io/v1',
              metadata: { resourceVersion: '1' },
              items: [{ kind: 'Ping', apiVersion: 'e2e.fedmesh.io/v1', metadata: { name: 'pong' } }],
            }),
          );
        } else {
          res.statusCode = 404;
          res.end(
            JSON.stringify({ kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'NotFound', code: 404 }),
          );
        }
      },
    );
    const port = await listen(server);
    try {
      await c.kubectlOk(
        ['apply', '-f', '-'],
        [
          'apiVersion: v1\nkind: Namespace\nmetadata: {name: e2e-agg}',
          'apiVersion: v1\nkind: Service\nmetadata: {name: e2e-api, namespace: e2e-agg}\nspec: {type: ExternalName, externalName: 127.0.0.1}',
          `apiVersion: apiregistration.k8s.io/v1\nkind: APIService\nmetadata: {name: v1.e2e.fedmesh.io}\nspec:\n  group: e2e.fedmesh.io\n  version: v1\n  groupPriorityMinimum: 1000\n  versionPriority: 15\n  service: {namespace: e2e-agg, name: e2e-api, port: ${port}}\n  caBundle: ${Buffer.from(ca.certPem).toString('base64')}`,
        ].join('\n---\n'),
      );
      await c.kubectlOk(['wait', '--for=condition=Available', 'apiservice/v1.e2e.fedmesh.io', '--timeout=60s']);
      const raw = JSON.parse(await c.kubectlOk(['get', '--raw', '/apis/e2e.fedmesh.io/v1/pings'])) as {
        items: { metadata: { name: string } }[];
      };
      assert.deepEqual(
        raw.items.map((i) => i.metadata.name),
        ['pong'],
      );
      assert.equal(
        (await eventually(() => c.kubectlOk(['get', 'pings', '-o', 'name']))).trim(),
        'ping.e2e.fedmesh.io/pong',
      );
      // The aggregator proxied with its front-proxy certificate and the caller's identity in X-Remote-User.
      assert.ok(seenUsers.includes('front-proxy-client:west-admin'), `seen: ${seenUsers.join(', ')}`);
    } finally {
      server.close();
      server.closeAllConnections();
      await c.client.delete('/apis/apiregistration.k8s.io/v1/apiservices/v1.e2e.fedmesh.io').catch(() => {});
    }
  });
});

test('the kubeconfigs written by up are the admin of each cluster', () => {
  for (const c of tb.clusters.values()) {
    const text = readFileSync(c.kubeconfig, 'utf8');
    assert.match(text, new RegExp(`current-context: ${c.name}`));
    assert.ok(c.kubeconfig.endsWith(`${c.name}.kubeconfig`));
  }
});
