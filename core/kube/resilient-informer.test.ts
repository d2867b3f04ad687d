import assert from 'node:assert/strict';
import { createSecureServer, type Http2ServerResponse } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { KubeConfig } from '@kubernetes/client-node';
import { createCertificateAuthority, issueCertificate } from '../tls/certificates.js';
import { Gate } from './gate.js';
import { type InformerPhase, ListLimitError, ResilientInformer } from './resilient-informer.js';
import { KubeApiError, KubeRestClient, type WatchEvent } from './rest-client.js';

type Obj = { metadata: { name: string; resourceVersion: string }; v?: number };

/** A fake API server: scripted list answers and watch streams, one per call. */
function fakeClient(lists: (() => unknown)[], watches: ((emit: (e: WatchEvent) => void) => Promise<void>)[]) {
  const calls: string[] = [];
  const client = {
    async get(path: string) {
      calls.push(`GET ${path}`);
      const next = lists.shift();
      if (!next) return new Promise(() => {});
      return next();
    },
    async watch(path: string, onEvent: (e: WatchEvent) => void) {
      calls.push(`WATCH ${path}`);
      const next = watches.shift();
      if (!next) return new Promise(() => {});
      return next(onEvent);
    },
  };
  return { client: client as unknown as KubeRestClient, calls };
}

const item = (name: string, rv: string, v = 1): Obj => ({ metadata: { name, resourceVersion: rv }, v });

test('lists, watches, relists after 410 and retries a failed list with backoff', async () => {
  const seen: string[] = [];
  const phases: InformerPhase[] = [];
  let relisted: () => void = () => {};
  const done = new Promise<void>((r) => {
    relisted = r;
  });
  const { client, calls } = fakeClient(
    [
      () => ({ metadata: { resourceVersion: '10' }, items: [item('a', '5')] }),
      () => {
        throw Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
      },
      () => ({ metadata: { resourceVersion: '30' }, items: [item('a', '5'), item('b', '25')] }),
    ],
    [
      async (emit) => {
        emit({ type: 'ADDED', object: item('c', '11') });
        emit({ type: 'MODIFIED', object: item('c', '12', 2) });
        emit({ type: 'BOOKMARK', object: { metadata: { resourceVersion: '13' } } });
        emit({ type: 'DELETED', object: item('c', '14') });
      },
      async (emit) => {
        emit({ type: 'ERROR', object: { code: 410, message: 'too old' } });
      },
    ],
  );
  const informer = new ResilientInformer<number>({
    client,
    path: '/api/v1/pods',
    convert: (raw) => (raw as Obj).v,
    backoff: { initialMs: 1, maxMs: 5, jitter: 0 },
    handlers: {
      onList: (items) => {
        seen.push(`list ${[...items.keys()].join(',')}`);
        if (items.size === 2) relisted();
      },
      onUpsert: (k, v) => seen.push(`upsert ${k}=${v}`),
      onDelete: (k) => seen.push(`delete ${k}`),
      onPhase: (p) => phases.push(p),
    },
  });
  informer.start();
  await done;
  await informer.synced;
  await informer.stop();
  assert.deepEqual(seen, ['list a', 'upsert c=1', 'upsert c=2', 'delete c', 'list a,b']);
  assert.ok(phases.includes('failed'));
  assert.match(calls[1] ?? '', /resourceVersion=10/);
  assert.match(calls[2] ?? '', /resourceVersion=14/, 'the next watch resumes from the last event seen');
});

test('a 410 on a continue token restarts the list from the first page', async () => {
  const lists: string[] = [];
  const { client, calls } = fakeClient(
    [
      () => ({ metadata: { resourceVersion: '1', continue: 'tok' }, items: [item('a', '1')] }),
      () => {
        throw new KubeApiError('GET', '/x', 410, { reason: 'Expired' });
      },
      () => ({ metadata: { resourceVersion: '2' }, items: [item('b', '2')] }),
    ],
    [],
  );
  const informer = new ResilientInformer<number>({
    client,
    path: '/x',
    convert: (raw) => (raw as Obj).v,
    handlers: {
      onList: (items) => lists.push([...items.keys()].join(',')),
      onUpsert: () => {},
      onDelete: () => {},
      onPhase: () => {},
    },
  });
  informer.start();
  await informer.synced;
  await informer.stop();
  assert.deepEqual(lists, ['b'], 'no partial list is ever handed over');
  assert.match(calls[1] ?? '', /continue=tok/);
});

// Against a real HTTP/2 server (a fake Kubernetes is fine in a unit test): whatever a refusing server answers,
// the informer's requests stay bounded by its backoff.
const tlsCa = createCertificateAuthority('informer-test-ca');
const tlsCert = issueCertificate(tlsCa, { commonName: 'informer', ipAddresses: ['127.0.0.1'], usage: 'server' });

async function refusingServer(
  answerWatch: (res: Http2ServerResponse) => void,
): Promise<{ client: KubeRestClient; requests: { at: number; watch: boolean }[]; close: () => void }> {
  const requests: { at: number; watch: boolean }[] = [];
  const server = createSecureServer({ cert: tlsCert.certPem, key: tlsCert.keyPem }, (req, res) => {
    const watch = (req.url ?? '').includes('watch=1');
    requests.push({ at: Date.now(), watch });
    if (!watch) {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ metadata: { resourceVersion: '5' }, items: [item('a', '5')] }));
      return;
    }
    answerWatch(res);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [
      { name: 'm', server: `https://127.0.0.1:${port}`, caData: Buffer.from(tlsCa.certPem).toString('base64') },
    ],
    users: [{ name: 'u', token: 't' }],
    contexts: [{ name: 'c', cluster: 'm', user: 'u' }],
    currentContext: 'c',
  });
  const client = await KubeRestClient.fromKubeConfig(kc, 4, { http2: true });
  return {
    client,
    requests,
    close: () => {
      client.close();
      server.close();
    },
  };
}

const refuse = (code: number) => (res: Http2ServerResponse) =>
  res.writeHead(code, { 'content-type': 'application/json' }).end(JSON.stringify({ kind: 'Status', code }));
const line = (v: unknown) => `${JSON.stringify(v)}\n`;

test('a server that refuses every watch, whatever it answers, sees requests only as fast as the backoff', async () => {
  const cases: Record<string, (res: Http2ServerResponse) => void> = {
    '401': refuse(401),
    '403': refuse(403),
    '404': refuse(404),
    '429 without Retry-After': refuse(429),
    '500': refuse(500),
    '503': refuse(503),
    '410 on every watch': refuse(410),
    'ERROR event 410 at once': (res) =>
      res.writeHead(200).end(line({ type: 'ERROR', object: { kind: 'Status', code: 410 } })),
    'ERROR event 500': (res) => res.writeHead(200).end(line({ type: 'ERROR', object: { kind: 'Status', code: 500 } })),
    'accepted and closed at once': (res) => res.writeHead(200).end(),
    'a line that is not JSON': (res) => res.writeHead(200).end('<html>proxy error</html>\n'),
    'an object the consumer cannot take': (res) =>
      res.writeHead(200).end(line({ type: 'ADDED', object: { metadata: { name: 'poison', resourceVersion: '6' } } })),
  };
  const windowMs = 600;
  // 40, 80, 160, 160, … ms: at most 6 tries in the window, each a watch (or a list and a watch after a 410).
  const backoff = { initialMs: 40, maxMs: 160, jitter: 0, resetAfterMs: 60_000 };
  const results = await Promise.all(
    Object.entries(cases).map(async ([name, answer]) => {
      const s = await refusingServer(answer);
      const failures: string[] = [];
      const informer = new ResilientInformer<number>({
        client: s.client,
        path: '/api/v1/pods',
        convert: (raw) => {
          if ((raw as Obj).metadata.name === 'poison') throw new TypeError('cannot read properties of undefined');
          return 1;
        },
        backoff,
        handlers: {
          onList: () => {},
          onUpsert: () => {},
          onDelete: () => {},
          onPhase: (p, f) => {
            if (p === 'failed') failures.push(f?.verb ?? '');
          },
        },
      });
      informer.start();
      // The window starts with the first request (TLS handshakes are slow on a loaded machine).
      for (let i = 0; i < 500 && s.requests.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
      const first = s.requests[0]?.at ?? Date.now();
      await new Promise((r) => setTimeout(r, windowMs));
      // Retries go on: a third request comes (a stalled machine may take longer than the window to send it).
      for (let i = 0; i < 1000 && s.requests.length < 3; i++) await new Promise((r) => setTimeout(r, 10));
      await informer.stop();
      s.close();
      const inWindow = s.requests.filter((r) => r.at <= first + windowMs).length;
      return { name, requests: inWindow, total: s.requests.length, failures: failures.length };
    }),
  );
  for (const r of results) {
    assert.ok(r.requests <= 14, `${r.name}: ${r.requests} requests in ${windowMs} ms`);
    assert.ok(r.total >= 3, `${r.name}: it keeps trying (${r.total})`);
  }
  const refused = results.filter((r) => !r.name.includes('410'));
  for (const r of refused) assert.ok(r.failures > 0, `${r.name}: reported as a failure`);
});

test('a 429 with Retry-After: the next request waits for it, and a working list does not shorten the backoff', async () => {
  const s = await refusingServer((res) =>
    res.writeHead(429, { 'content-type': 'application/json', 'retry-after': '1' }).end('{"kind":"Status"}'),
  );
  const informer = new ResilientInformer<number>({
    client: s.client,
    path: '/api/v1/pods',
    convert: () => 1,
    backoff: { initialMs: 10, maxMs: 100, jitter: 0 },
    handlers: { onList: () => {}, onUpsert: () => {}, onDelete: () => {}, onPhase: () => {} },
  });
  informer.start();
  await new Promise((r) => setTimeout(r, 1500));
  await informer.stop();
  s.close();
  const watches = s.requests.filter((r) => r.watch);
  assert.equal(s.requests.filter((r) => !r.watch).length, 1, 'a refused watch resumes from its version: no relist');
  assert.equal(watches.length, 2, 'one watch, then one more after the Retry-After');
  const gap = (watches[1]?.at ?? 0) - (watches[0]?.at ?? 0);
  assert.ok(gap >= 990, `the second watch came ${gap} ms after the 429`);
});

test('an informer stopped while it waits for the list gate never lists', async () => {
  const gate = new Gate(1);
  let release: () => void = () => {};
  const holder = gate.run(() => new Promise<void>((r) => (release = r)));
  const { client, calls } = fakeClient([() => ({ metadata: { resourceVersion: '1' }, items: [] })], []);
  const informer = new ResilientInformer<number>({
    client,
    path: '/x',
    convert: () => 1,
    listGate: gate,
    handlers: { onList: () => {}, onUpsert: () => {}, onDelete: () => {}, onPhase: () => {} },
  });
  informer.start();
  await new Promise((r) => setTimeout(r, 10));
  const stopped = informer.stop();
  release();
  await holder;
  await stopped;
  await new Promise((r) => setTimeout(r, 10));
  assert.deepEqual(calls, []);
});

/** An informer on `client` that reports its phases and lists. */
function watching(client: KubeRestClient, extra: Partial<ConstructorParameters<typeof ResilientInformer<number>>[0]>) {
  const phases: { phase: InformerPhase; error?: unknown }[] = [];
  let lists = 0;
  const informer = new ResilientInformer<number>({
    client,
    path: '/x',
    convert: () => 1,
    backoff: { initialMs: 60_000, maxMs: 60_000, jitter: 0 },
    handlers: {
      onList: () => lists++,
      onUpsert: () => {},
      onDelete: () => {},
      onPhase: (phase, failure) => phases.push({ phase, error: failure?.error }),
    },
    ...extra,
  });
  return { informer, phases, lists: () => lists };
}

test('a list past its deadline, its item bound, or with a repeated continue token fails, and shows why', async () => {
  const page = (n: number, cont: string) => ({
    metadata: { resourceVersion: '1', continue: cont },
    items: Array.from({ length: n }, (_, i) => item(`${cont}-${i}`, '1')),
  });
  let pages = 0;
  const endless = fakeClient(
    Array.from({ length: 1000 }, () => () => page(1, `t${++pages}`)),
    [],
  );
  // A server that never ends its pages, one with too many objects, and one that repeats a token.
  const cases = [
    { client: endless.client, extra: { listDeadlineMs: 300 }, limit: 'time', text: /not complete after 300 ms/ },
    {
      client: fakeClient([() => page(50, 'a'), () => page(50, 'b')], []).client,
      extra: { maxListItems: 80 },
      limit: 'items',
      text: /more than 80 objects/,
    },
    {
      client: fakeClient([() => page(1, 'same'), () => page(1, 'same')], []).client,
      extra: {},
      limit: 'continue',
      text: /same continue token/,
    },
  ] as const;
  for (const c of cases) {
    const { informer, phases, lists } = watching(c.client, c.extra);
    informer.start();
    await new Promise((r) => setTimeout(r, 600));
    await informer.stop();
    const failed = phases.find((p) => p.phase === 'failed');
    assert.ok(failed?.error instanceof ListLimitError, `${c.limit}: ${String(failed?.error)}`);
    assert.equal(failed.error.limit, c.limit);
    assert.match(failed.error.message, c.text);
    assert.equal(lists(), 0, 'nothing of it is handed over');
  }
});

test('a list that never completes gives its gate slot back at its deadline; other lists go on', async () => {
  const gate = new Gate(1);
  const hanging = fakeClient([], []); // every get hangs
  const slow = watching(hanging.client, { listGate: gate, listDeadlineMs: 200 });
  const fine = watching(fakeClient([() => ({ metadata: { resourceVersion: '1' }, items: [] })], []).client, {
    listGate: gate,
  });
  slow.informer.start();
  await new Promise((r) => setTimeout(r, 20));
  fine.informer.start();
  await new Promise((r) => setTimeout(r, 500));
  await Promise.all([slow.informer.stop(), fine.informer.stop()]);
  assert.equal(fine.lists(), 1, 'the other list got the slot');
  assert.ok(slow.phases.some((p) => p.phase === 'failed' && p.error instanceof ListLimitError));
});

test('servers that expire or end everything at once are retried with backoff, not as fast as they answer', async () => {
  const expired = () => {
    throw new KubeApiError('GET', '/x', 410, { reason: 'Expired' });
  };
  const ok = (cont = '') => ({ metadata: { resourceVersion: '5', continue: cont }, items: [item('a', '5')] });
  const forever = <T>(f: T) => Array.from({ length: 10_000 }, () => f);
  const scenarios = {
    // Every continue token expires: the list starts over once, then fails.
    'continue expired': fakeClient(
      forever(() => ok('next')).flatMap((f) => [f, expired]),
      [],
    ),
    // A bookmark moves the version on, then the watch expires: relisted, again and again.
    'bookmark then 410': fakeClient(
      forever(() => ok()),
      forever(async (emit: (e: WatchEvent) => void) => {
        emit({ type: 'BOOKMARK', object: { metadata: { resourceVersion: '9' } } });
        emit({ type: 'ERROR', object: { code: 410, message: 'too old' } });
      }),
    ),
    // One event, then the watch ends at once.
    'one event and out': fakeClient(
      forever(() => ok()),
      forever(async (emit: (e: WatchEvent) => void) => emit({ type: 'ADDED', object: item('b', '6') })),
    ),
  };
  for (const [name, { client, calls }] of Object.entries(scenarios)) {
    const { informer } = watching(client, { backoff: { initialMs: 200, maxMs: 200, jitter: 0 } });
    informer.start();
    await new Promise((r) => setTimeout(r, 1000));
    await informer.stop();
    // A cycle of up to 4 requests per 200 ms wait; before, thousands.
    assert.ok(calls.length <= 30, `${name}: ${calls.length} requests in 1 s`);
  }
});
