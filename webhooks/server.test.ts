import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer } from 'node:http';
import { type AddressInfo, connect } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { connect as tlsConnect } from 'node:tls';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import type { KeyPair } from '../core/tls/certificates.js';
import { BodyBudget } from './body-budget.js';
import { webhookMetrics } from './review-metrics.js';
import type { WebhookServer } from './server.js';
import { KEEP_ALIVE_MS, MAX_BODY_BYTES, MAX_BODY_BYTES_IN_FLIGHT, MAX_CONNECTIONS, webhookApp } from './server.js';
import {
  FNP,
  fixedContext,
  NP,
  newAgent,
  post,
  RCC,
  realisticNetworkPolicy,
  review,
  SERVICE,
  startTestServer,
} from './test-support.js';

let server: WebhookServer;
let ca: KeyPair;
let registry: Registry;
let agent: ReturnType<typeof newAgent>;
const json = (s: string) =>
  JSON.parse(s) as {
    response?: { uid: string; allowed: boolean; status?: { code: number; message: string }; warnings?: string[] };
    message?: string;
    code?: number;
  };

before(async () => {
  ({ server, ca, registry } = await startTestServer(
    fixedContext({
      secretExists: async (_ns, name) => {
        if (name === 'explode') throw new Error('boom');
        return { exists: name !== 'missing' };
      },
    }),
  ));
  agent = newAgent(ca);
});
after(async () => {
  agent.destroy();
  await server.close();
});

describe('webhook server', () => {
  test('a valid NetworkPolicy is allowed; the uid is echoed', async () => {
    const r = await post(
      agent,
      server.port,
      '/validate/networkpolicies',
      review(NP, realisticNetworkPolicy(1), 'abc-123'),
    );
    assert.equal(r.status, 200);
    const body = json(r.body);
    assert.deepEqual(body.response, { uid: 'abc-123', allowed: true });
    assert.equal((body as { apiVersion?: string }).apiVersion, 'admission.k8s.io/v1');
  });

  test('an invalid FNP is denied with field path, position and caret; warnings are one line each', async () => {
    const fnp = {
      metadata: { name: 'p', namespace: 'shop' },
      spec: {
        ingress: [
          { action: 'Allow', source: { selector: "fedmesh.io/cluster != 'west'" } },
          { action: 'Allow', source: { selector: "app == 'web' &&" } },
        ],
      },
    };
    const body = json(
      (await post(agent, server.port, '/validate/federatednetworkpolicies', review(FNP, fnp, 'u2'))).body,
    );
    assert.equal(body.response?.uid, 'u2');
    assert.equal(body.response?.allowed, false);
    assert.equal(body.response?.status?.code, 403);
    assert.equal(
      body.response?.status?.message,
      [
        'FederatedNetworkPolicy "shop/p" is invalid:',
        "* spec.ingress[1].source.selector: invalid selector at position 15: expected a label, has(…), all(), global(), '!' or '(', found end of selector",
        "    app == 'web' &&",
        '                   ^',
      ].join('\n'),
    );
    assert.equal(body.response?.warnings?.length, 1);
    assert.doesNotMatch(body.response?.warnings?.[0] ?? '', /\n/);
    assert.match(
      body.response?.warnings?.[0] ?? '',
      /^spec\.ingress\[0\]\.source\.selector: .*every other remote cluster/,
    );
  });

  test('a peer naming a cluster no RCC has is allowed with a warning', async () => {
    const fnp = {
      metadata: { name: 'p' },
      spec: { ingress: [{ action: 'Allow', source: { selector: "fedmesh.io/cluster == 'wset'" } }] },
    };
    const body = json((await post(agent, server.port, '/validate/federatednetworkpolicies', review(FNP, fnp))).body);
    assert.equal(body.response?.allowed, true);
    assert.match(body.response?.warnings?.[0] ?? '', /no RemoteClusterConfiguration "wset" exists/);
  });

  test('RCC: a missing Secret warns; the local cluster name is refused', async () => {
    const rcc = (name: string, secret: string) => ({
      metadata: { name },
      spec: { clusterAccessSecret: { name: secret, namespace: 'fedmesh-system' } },
    });
    const missing = json(
      (await post(agent, server.port, '/validate/remoteclusterconfigurations', review(RCC, rcc('west', 'missing'))))
        .body,
    );
    assert.equal(missing.response?.allowed, true);
    assert.match(missing.response?.warnings?.[0] ?? '', /Secret fedmesh-system\/missing does not exist/);
    const own = json(
      (await post(agent, server.port, '/validate/remoteclusterconfigurations', review(RCC, rcc('east', 's')))).body,
    );
    assert.equal(own.response?.allowed, false);
    assert.match(
      own.response?.status?.message ?? '',
      /metadata\.name: Invalid value: "east": this is the local cluster's own name/,
    );
  });

  test('federated Service: spec.selector and unnamed ports are refused; plain Services pass', async () => {
    const svc = {
      metadata: { name: 's', annotations: { 'federation.fedmesh.io/serviceSelector': "app == 'web'" } },
      spec: { selector: { app: 'web' }, ports: [{ port: 80 }] },
    };
    const body = json((await post(agent, server.port, '/validate/services', review(SERVICE, svc))).body);
    assert.equal(body.response?.allowed, false);
    assert.match(body.response?.status?.message ?? '', /\* spec\.selector: Forbidden/);
    assert.match(body.response?.status?.message ?? '', /\* spec\.ports\[0\]\.name: Required value/);
    const plain = json(
      (
        await post(
          agent,
          server.port,
          '/validate/services',
          review(SERVICE, { metadata: { name: 'p' }, spec: { selector: { a: 'b' } } }),
        )
      ).body,
    );
    assert.equal(plain.response?.allowed, true);
  });

  test('not JSON, not an AdmissionReview: 400 with a message', async () => {
    for (const bad of [
      '',
      '{',
      'null',
      '[]',
      '{"kind":"Pod"}',
      JSON.stringify({ apiVersion: 'admission.k8s.io/v1beta1', kind: 'AdmissionReview', request: { uid: 'x' } }),
    ]) {
      const r = await post(agent, server.port, '/validate/networkpolicies', bad);
      assert.equal(r.status, 400, bad);
      assert.match(json(r.body).message ?? '', /not JSON|not an admission\.k8s\.io\/v1 AdmissionReview/, bad);
    }
  });

  test('an AdmissionReview with a uid but a malformed request is denied, echoing the uid', async () => {
    const r = await post(agent, server.port, '/validate/networkpolicies', {
      apiVersion: 'admission.k8s.io/v1',
      kind: 'AdmissionReview',
      request: { uid: 'u-bad', operation: 'EXPLODE' },
    });
    assert.equal(r.status, 200);
    assert.equal(json(r.body).response?.uid, 'u-bad');
    assert.equal(json(r.body).response?.allowed, false);
  });

  test('an object of the wrong shape is denied with its field path, never a crash', async () => {
    const np = { metadata: { name: 'n' }, spec: { ingress: [{ from: 'everyone' }] } };
    const body = json((await post(agent, server.port, '/validate/networkpolicies', review(NP, np))).body);
    assert.equal(body.response?.allowed, false);
    assert.match(body.response?.status?.message ?? '', /\* spec\.ingress\[0\]\.from: Invalid value: must be array/);
  });

  test('a validator that throws denies (fail closed), and the server goes on', async () => {
    const rcc = {
      metadata: { name: 'west' },
      spec: { clusterAccessSecret: { name: 'explode', namespace: 'fedmesh-system' } },
    };
    const body = json(
      (await post(agent, server.port, '/validate/remoteclusterconfigurations', review(RCC, rcc, 'u-x'))).body,
    );
    assert.equal(body.response?.uid, 'u-x');
    assert.equal(body.response?.allowed, false);
    assert.match(body.response?.status?.message ?? '', /internal error/);
    const again = await post(agent, server.port, '/validate/networkpolicies', review(NP, realisticNetworkPolicy(2)));
    assert.equal(json(again.body).response?.allowed, true);
  });

  test('a review for another resource than the path is denied (misconfiguration shows)', async () => {
    const body = json(
      (await post(agent, server.port, '/validate/services', review(NP, realisticNetworkPolicy(3)))).body,
    );
    assert.equal(body.response?.allowed, false);
    assert.match(body.response?.status?.message ?? '', /validates services, not networkpolicies\.networking\.k8s\.io/);
  });

  test('DELETE is allowed without looking at the object', async () => {
    const r = review(FNP, null, 'del');
    const body = json(
      (
        await post(agent, server.port, '/validate/federatednetworkpolicies', {
          ...r,
          request: { ...r.request, operation: 'DELETE' },
        })
      ).body,
    );
    assert.deepEqual(body.response, { uid: 'del', allowed: true });
  });

  test('too large a body is 413, too large headers 431; unknown paths 404; GET 405; bad escapes 400; never 5xx', async () => {
    const big = await post(agent, server.port, '/validate/networkpolicies', `"${'x'.repeat(9 * 1024 * 1024)}"`);
    assert.equal(big.status, 413);
    assert.equal((await post(agent, server.port, '/nope', '{}')).status, 404);
    assert.equal((await post(agent, server.port, '/validate/pods', '{}')).status, 404);
    const get = await fetchStatus(server.port, '/validate/networkpolicies');
    assert.equal(get, 405);
    assert.equal((await post(agent, server.port, '/validate/%E0%A4%A', '{}')).status, 400, 'malformed escape');
    const headers = await post(newAgent(ca, 1), server.port, '/validate/networkpolicies', '{}', {
      'X-Big': 'x'.repeat(20_000),
    });
    assert.equal(headers.status, 431);
  });

  test('paths: /validate/ in any case and a percent-encoded name reach the webhook; the name itself is exact', async () => {
    for (const path of [
      '/VALIDATE/networkpolicies',
      '/Validate/networkpolicies/',
      '/validate/network%70olicies',
      '/validate/%6eetworkpolicies?timeout=10s',
    ]) {
      const r = await post(agent, server.port, path, review(NP, realisticNetworkPolicy(6), 'p-1'));
      assert.equal(r.status, 200, path);
      assert.deepEqual(json(r.body).response, { uid: 'p-1', allowed: true }, path);
    }
    for (const path of ['/validate/NetworkPolicies', '/validate/NETWORKPOLICIES/', '/VALIDATE/network%50olicies']) {
      const r = await post(agent, server.port, path, review(NP, realisticNetworkPolicy(6), 'p-2'));
      assert.equal(r.status, 404, path);
      assert.match(
        json(r.body).message ?? '',
        /^no webhook at \/.*; the paths are \/validate\/\{networkpolicies,/,
        path,
      );
    }
    const fnp = await post(agent, server.port, '/validate/FederatedNetworkPolicies', '{}');
    assert.equal(fnp.status, 404);
    assert.equal((await post(agent, server.port, '/validate/services/extra', '{}')).status, 404);
  });

  test("kube-apiserver's ?timeout= query and a trailing slash reach the webhook", async () => {
    for (const path of ['/validate/networkpolicies?timeout=10s', '/validate/networkpolicies/']) {
      const r = await post(agent, server.port, path, review(NP, realisticNetworkPolicy(6), 'q-1'));
      assert.equal(r.status, 200, path);
      assert.deepEqual(json(r.body).response, { uid: 'q-1', allowed: true }, path);
    }
  });

  test('reviews are counted by webhook and outcome; every series exists from the start', async () => {
    const before = await registry.getSingleMetricAsString('fedmesh_webhook_reviews_total');
    assert.match(before, /fedmesh_webhook_reviews_total\{webhook="services",outcome="error"\} 0/);
    const count = async (outcome: string) =>
      Number(
        new RegExp(`fedmesh_webhook_reviews_total\\{webhook="networkpolicies",outcome="${outcome}"\\} (\\d+)`).exec(
          await registry.getSingleMetricAsString('fedmesh_webhook_reviews_total'),
        )?.[1],
      );
    const allowed = await count('allowed');
    const malformed = await count('malformed');
    await post(agent, server.port, '/validate/networkpolicies', review(NP, realisticNetworkPolicy(7)));
    await post(agent, server.port, '/validate/networkpolicies', {
      apiVersion: 'admission.k8s.io/v1',
      kind: 'AdmissionReview',
      request: { uid: 'm-1' },
    });
    assert.equal(await count('allowed'), allowed + 1);
    assert.equal(await count('malformed'), malformed + 1);
    const duration = await registry.getSingleMetricAsString('fedmesh_webhook_review_duration_seconds');
    assert.match(duration, /fedmesh_webhook_review_duration_seconds_count\{webhook="networkpolicies"\} [1-9]/);
    for (const webhook of ['federatednetworkpolicies', 'remoteclusterconfigurations', 'services']) {
      assert.match(duration, new RegExp(`fedmesh_webhook_review_duration_seconds_count\\{webhook="${webhook}"\\} \\d`));
    }
  });

  test("requests arrive with the express app's prototypes (express's per-request prototype swap is a no-op)", async () => {
    const seen: boolean[] = [];
    const probe = (req: object, res: object) => {
      seen.push(Object.hasOwn(Object.getPrototypeOf(req), 'app') && Object.hasOwn(Object.getPrototypeOf(res), 'app'));
    };
    server.server.prependListener('request', probe);
    try {
      const r = await post(agent, server.port, '/validate/networkpolicies', review(NP, realisticNetworkPolicy(8)));
      assert.equal(r.status, 200);
    } finally {
      server.server.removeListener('request', probe);
    }
    assert.deepEqual(seen, [true]);
  });

  test('bodies held at once have a total: over it, 429 with Retry-After and a Status; connections are capped', async () => {
    assert.equal(server.server.maxConnections, MAX_CONNECTIONS);
    const metrics = new Registry();
    const app = webhookApp(fixedContext(), pino({ enabled: false }), webhookMetrics(metrics), new BodyBudget(10_000));
    const plain = createServer(app).listen(0, '127.0.0.1');
    await once(plain, 'listening');
    const { port } = plain.address() as AddressInfo;
    const send = async (length: number, sent: number) => {
      const socket = connect(port, '127.0.0.1');
      await once(socket, 'connect');
      socket.write(`POST /validate/networkpolicies HTTP/1.1\r\nHost: x\r\nContent-Length: ${length}\r\n\r\n`);
      socket.write('x'.repeat(sent));
      let text = '';
      socket.on('data', (c) => {
        text += c;
      });
      return { socket, text: () => text };
    };
    try {
      const slow = await send(7_000, 6_000); // most of a body in, the rest still to come
      const over = await send(7_000, 7_000);
      await new Promise((r) => setTimeout(r, 200));
      assert.match(over.text(), /^HTTP\/1.1 429/);
      assert.match(over.text(), /retry-after: 1/i);
      assert.match(over.text(), /"reason":"TooManyRequests"/);
      assert.match(over.text(), /request bodies already; retry shortly/);
      assert.match(await metrics.metrics(), /fedmesh_webhook_bad_requests_total\{code="429"\} 1/);
      for (const s of [slow, over]) s.socket.destroy();
    } finally {
      plain.close();
    }
  });

  test('a client that declares a body and sends none holds nothing: reviews go on; one over the limit gets 413 at once', async () => {
    const silent = async (length: number) => {
      const socket = tlsConnect({ port: server.port, host: '127.0.0.1', ca: ca.certPem, servername: 'localhost' });
      await once(socket, 'secureConnect');
      socket.write(`POST /validate/networkpolicies HTTP/1.1\r\nHost: x\r\nContent-Length: ${length}\r\n\r\n`);
      let text = '';
      socket.on('data', (c) => {
        text += c;
      });
      const closed = once(socket, 'close');
      return { socket, text: () => text, closed };
    };
    // Eight connections that each declare the largest body the server takes, and one that declares the whole
    // total: before, each reserved what it declared, and every review got 429 until the request timeout.
    const held = await Promise.all(Array.from({ length: 8 }, () => silent(MAX_BODY_BYTES)));
    const huge = await silent(MAX_BODY_BYTES_IN_FLIGHT);
    const started = Date.now();
    const ok = await post(agent, server.port, '/validate/networkpolicies', review(NP, realisticNetworkPolicy(1)));
    assert.equal(ok.status, 200);
    assert.ok(Date.now() - started < 1_000);
    // The one over the limit is answered at once, without its body, and its connection closed.
    await huge.closed;
    assert.match(huge.text(), /^HTTP\/1.1 413/);
    assert.match(huge.text(), /the body is larger than 8388608 bytes/);
    assert.ok(Date.now() - started < 2_000);
    for (const h of held) h.socket.destroy();
  });

  test('slow clients are cut: a handshake never begun, a body never finished (408)', async () => {
    const quick = await startTestServer(fixedContext(), {
      handshakeMs: 300,
      headersMs: 500,
      requestMs: 500,
      checkEveryMs: 100,
    });
    try {
      const started = Date.now();
      // Plain TCP, no TLS: one of the 1000 connections held until the handshake timeout (Node's own: 120 s).
      const idle = connect(quick.server.port, '127.0.0.1');
      await once(idle, 'connect');
      const stalled = tlsConnect({
        port: quick.server.port,
        host: '127.0.0.1',
        ca: quick.ca.certPem,
        servername: 'localhost',
      });
      await once(stalled, 'secureConnect');
      stalled.write('POST /validate/networkpolicies HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n{"apiVersion"');
      let answer = '';
      stalled.on('data', (c) => {
        answer += c;
      });
      await Promise.all([once(idle, 'close'), once(stalled, 'close')]);
      assert.ok(Date.now() - started < 3_000, `cut after ${Date.now() - started} ms`);
      assert.match(answer, /^HTTP\/1.1 408/);
    } finally {
      await quick.server.close();
    }
  });

  test('answers are JSON of their exact length (reviews and Status alike); a Status says nosniff', async () => {
    for (const [path, body, code] of [
      ['/validate/networkpolicies', JSON.stringify(review(NP, realisticNetworkPolicy(9), 'ü-1')), 200],
      ['/validate/networkpolicies', '{', 400],
      ['/validate/pods', '{}', 404],
    ] as const) {
      const r = await rawPost(server.port, path, body);
      assert.equal(r.status, code, path);
      assert.equal(r.headers['content-type'], 'application/json; charset=utf-8', path);
      assert.equal(Number(r.headers['content-length']), r.body.length, path);
      assert.equal(r.headers['x-content-type-options'], code === 200 ? undefined : 'nosniff', path);
      const answer = JSON.parse(r.body.toString('utf8')) as { response?: { uid: string }; kind?: string };
      if (code === 200) assert.equal(answer.response?.uid, 'ü-1');
      else assert.equal(answer.kind, 'Status');
    }
  });

  test('keep-alive outlasts kube-apiserver idle connections: the socket is reused after an idle gap', async () => {
    assert.ok(server.server.keepAliveTimeout >= 90_000, `keepAliveTimeout ${server.server.keepAliveTimeout}`);
    assert.equal(server.server.keepAliveTimeout, KEEP_ALIVE_MS);
    const solo = newAgent(ca, 1);
    try {
      const first = await post(solo, server.port, '/validate/networkpolicies', review(NP, realisticNetworkPolicy(4)));
      assert.equal(first.status, 200);
      // Node's default keep-alive (5 s) would have closed the socket by now.
      await new Promise((r) => setTimeout(r, 5_500));
      const second = await post(solo, server.port, '/validate/networkpolicies', review(NP, realisticNetworkPolicy(5)));
      assert.equal(second.status, 200);
      assert.equal(second.reusedSocket, true);
    } finally {
      solo.destroy();
    }
  });
});

async function rawPost(
  port: number,
  path: string,
  body: string,
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: Buffer }> {
  const { request } = await import('node:https');
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port, path, method: 'POST', ca: ca.certPem, servername: 'localhost' },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }),
        );
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

async function fetchStatus(port: number, path: string): Promise<number> {
  const { request } = await import('node:https');
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port, path, method: 'GET', ca: ca.certPem, servername: 'localhost' },
      (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      },
    );
    req.on('error', reject);
    req.end();
  });
}
