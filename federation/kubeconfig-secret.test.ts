import assert from 'node:assert/strict';
import fs from 'node:fs';
import { test } from 'node:test';
import fc from 'fast-check';
import yaml from 'js-yaml';
import { createCertificateAuthority, issueCertificate } from '../core/tls/certificates.js';
import { type KubeconfigResult, kubeconfigFromSecret } from './kubeconfig-secret.js';
import { accessKubeconfig } from './remote-access.js';

const ref = { name: 'west-access', namespace: 'fedmesh-system' };
const ca = createCertificateAuthority('west-ca');
const client = issueCertificate(ca, { commonName: 'fedmesh', usage: 'client' });
const b64 = (s: string) => Buffer.from(s).toString('base64');
const secretToken = 'sekret-token-value';
const good = accessKubeconfig({
  clusterName: 'west',
  server: 'https://127.0.0.1:6443',
  caPem: ca.certPem,
  token: secretToken,
});
type Doc = {
  clusters: { name?: string; cluster: Record<string, unknown> }[];
  users: { name?: string; user: Record<string, unknown> }[];
} & Record<string, unknown>;
const goodDoc = () => yaml.load(good) as Doc;
const check = (doc: unknown) =>
  kubeconfigFromSecret(ref, { kubeconfig: typeof doc === 'string' ? doc : yaml.dump(doc) });
const problem = (r: KubeconfigResult) => ('problem' in r ? r.problem : undefined);

/** Records every attempt to touch the file system while `fn` runs (client-node reads files through `fs.*`). */
function fileSystemCalls<T>(fn: () => T): { result: T; calls: string[] } {
  const calls: string[] = [];
  const names = ['readFileSync', 'openSync', 'accessSync', 'statSync', 'existsSync', 'readFile', 'open', 'stat'];
  const saved = new Map<string, unknown>();
  const target = fs as unknown as Record<string, unknown>;
  for (const n of names) {
    saved.set(n, target[n]);
    target[n] = (...args: unknown[]) => {
      calls.push(`${n}(${String(args[0])})`);
      throw new Error(`file system touched: ${n}`);
    };
  }
  try {
    return { result: fn(), calls };
  } finally {
    for (const [n, f] of saved) target[n] = f;
  }
}

test('access Secret: token-file is refused by name, without reading the file or quoting its path', () => {
  const doc = goodDoc();
  const user = doc.users[0]?.user ?? {};
  delete user.token;
  user['token-file'] = '/var/run/secrets/kubernetes.io/serviceaccount/token';
  const { result, calls } = fileSystemCalls(() => check(doc));
  assert.deepEqual(calls, []);
  const p = problem(result);
  assert.equal(p?.reason, 'BadKubeconfig');
  assert.match(p?.message ?? '', /users\[0\]\.user has field "token-file"/);
  assert.match(p?.message ?? '', /put the token itself in "token"/);
  assert.doesNotMatch(p?.message ?? '', /serviceaccount|\/var\/run/);
  // Also next to an inline token: the field alone is enough to refuse.
  user.token = secretToken;
  assert.match(problem(check(doc))?.message ?? '', /"token-file"/);
});

test('access Secret: every field outside the allow-list is refused, naming the field and never its value', () => {
  const cases: [string, 'user' | 'cluster' | 'top', unknown][] = [
    ['client-certificate', 'user', '/etc/kubernetes/pki/apiserver.crt'],
    ['client-key', 'user', '/etc/kubernetes/pki/apiserver.key'],
    ['tokenFile', 'user', '/etc/shadow'],
    ['exec', 'user', { command: '/bin/sh', args: ['-c', 'id'] }],
    ['auth-provider', 'user', { name: 'oidc', config: { 'id-token': 'x' } }],
    ['username', 'user', 'admin'],
    ['password', 'user', 'hunter2-secret'],
    ['as', 'user', 'system:admin'],
    ['certificate-authority', 'cluster', '/etc/ssl/private/ca.pem'],
    ['insecure-skip-tls-verify', 'cluster', true],
    ['proxy-url', 'cluster', 'http://attacker.example:3128'],
    ['tls-server-name', 'cluster', 'kubernetes.default'],
    ['extensions', 'top', [{ name: 'x', extension: {} }]],
  ];
  for (const [field, where, value] of cases) {
    const doc = goodDoc();
    const target = where === 'user' ? doc.users[0]?.user : where === 'cluster' ? doc.clusters[0]?.cluster : doc;
    assert.ok(target);
    target[field] = value;
    const { result, calls } = fileSystemCalls(() => check(doc));
    assert.deepEqual(calls, [], field);
    const p = problem(result);
    assert.equal(p?.reason, 'BadKubeconfig', field);
    assert.ok(p?.message.includes(`has field "${field}"`), `${field}: ${p?.message}`);
    const text = typeof value === 'string' ? value : JSON.stringify(value);
    assert.ok(!p?.message.includes(text), `${field}: value quoted in ${p?.message}`);
    assert.ok(!p?.message.includes(secretToken), field);
  }
});

test('access Secret: users {} and [null] and other shapes get a reason, never an exception', () => {
  const shapes: [string, unknown, RegExp][] = [
    ['users: {}', { ...goodDoc(), users: {} }, /users must be a list/],
    ['users: [null]', { ...goodDoc(), users: [null] }, /users\[0\] must be a mapping/],
    ['clusters: [null]', { ...goodDoc(), clusters: [null] }, /clusters\[0\] must be a mapping/],
    ['contexts: 7', { ...goodDoc(), contexts: 7 }, /contexts must be a list/],
    ['user: null', { ...goodDoc(), users: [{ name: 'u', user: null }] }, /users\[0\]\.user must be a mapping/],
    [
      'no server',
      { ...goodDoc(), clusters: [{ name: 'west', cluster: {} }] },
      /clusters\[0\]\.cluster has no "server"/,
    ],
    ['no clusters', { ...goodDoc(), clusters: undefined }, /has no "clusters"/],
    ['a list', [1, 2], /is not a YAML mapping/],
    ['a string', 'just text', /is not a YAML mapping/],
  ];
  for (const [what, doc, message] of shapes) {
    const p = problem(check(typeof doc === 'string' ? JSON.stringify(doc) : doc));
    assert.equal(p?.reason, 'BadKubeconfig', what);
    assert.match(p?.message ?? '', message, what);
  }
});

test('access Secret: references, server and credentials are checked before use', () => {
  const withServer = (server: string) => {
    const d = goodDoc();
    (d.clusters[0] as { cluster: Record<string, unknown> }).cluster.server = server;
    return d;
  };
  assert.match(problem(check(withServer('http://10.0.0.1:6443')))?.message ?? '', /server must be an https:\/\/ URL/);
  assert.match(problem(check(withServer('https://u:pw@h:6443')))?.message ?? '', /must not carry credentials/);
  assert.match(problem(check(withServer('https://h:6443/prefix')))?.message ?? '', /without a path/);
  const d = goodDoc();
  d['current-context'] = 'elsewhere';
  assert.match(problem(check(d))?.message ?? '', /current-context names no entry of contexts/);
  const noCreds = goodDoc();
  noCreds.users = [{ name: 'fedmesh-remote-access', user: {} }] as Doc['users'];
  assert.match(problem(check(noCreds))?.message ?? '', /has no credentials/);
  const certOnly = goodDoc();
  certOnly.users = [
    { name: 'fedmesh-remote-access', user: { 'client-certificate-data': b64(client.certPem) } },
  ] as Doc['users'];
  assert.match(problem(check(certOnly))?.message ?? '', /"client-certificate-data" without "client-key-data"/);
  const badCa = goodDoc();
  (badCa.clusters[0] as { cluster: Record<string, unknown> }).cluster['certificate-authority-data'] = b64('CA');
  assert.match(problem(check(badCa))?.message ?? '', /certificate-authority-data is not base64-encoded PEM/);
  const spaced = goodDoc();
  (spaced.users[0] as { user: Record<string, unknown> }).user.token = `${secretToken}\r\nX-Injected: 1`;
  const sp = problem(check(spaced));
  assert.match(sp?.message ?? '', /token holds characters a bearer token cannot/);
  assert.ok(!sp?.message.includes(secretToken));
});

test('access Secret: certificate data full of BEGIN lines without END is refused at once, not rescanned per line', () => {
  const d = goodDoc();
  const cluster = d.clusters[0]?.cluster;
  assert.ok(cluster);
  // 25,000 BEGIN lines (930 KiB encoded): a lazy regular expression rescanning from each took about 10 s here.
  cluster['certificate-authority-data'] = b64('-----BEGIN CERTIFICATE-----\n'.repeat(25_000));
  const text = yaml.dump(d);
  const started = Date.now();
  const p = problem(check(text));
  const ms = Date.now() - started;
  assert.match(p?.message ?? '', /certificate-authority-data is not base64-encoded PEM certificates/);
  assert.ok(ms < 2000, `took ${ms} ms`);
});

test('access Secret: YAML aliases (self-reference, billion laughs) are refused at once', () => {
  const self = `${good}\nloop: &loop [*loop]\n`;
  assert.match(problem(check(self))?.message ?? '', /has field "loop"/);
  const levels = Array.from({ length: 9 }, (_, i) => `l${i + 1}: &l${i + 1} [${Array(10).fill(`*l${i}`).join(',')}]`);
  const laughs = ['l0: &l0 lol', ...levels, `apiVersion: v1`, `users: *l9`].join('\n');
  const started = Date.now();
  assert.equal(problem(check(laughs))?.reason, 'BadKubeconfig');
  assert.ok(Date.now() - started < 1000);
});

test('access Secret: an inline token or client certificate gives the client configuration', () => {
  const r = check(good);
  assert.ok('kubeConfig' in r);
  assert.equal(r.kubeConfig.getCurrentCluster()?.server, 'https://127.0.0.1:6443');
  assert.equal(r.kubeConfig.getCurrentUser()?.token, secretToken);
  const cert = goodDoc();
  cert.users = [
    {
      name: 'fedmesh-remote-access',
      user: { 'client-certificate-data': b64(client.certPem), 'client-key-data': b64(client.keyPem) },
    },
  ] as Doc['users'];
  const c = check({ ...cert, preferences: {} });
  assert.ok('kubeConfig' in c, JSON.stringify(problem(c)));
  assert.equal(c.kubeConfig.getCurrentUser()?.certData, b64(client.certPem));
});

// Field names an attacker or a careless admin would write, and values that look like paths and secrets.
const keyArb = fc.oneof(
  fc.constantFrom(
    'apiVersion',
    'kind',
    'clusters',
    'users',
    'contexts',
    'current-context',
    'preferences',
    'name',
    'cluster',
    'user',
    'context',
    'server',
    'certificate-authority-data',
    'certificate-authority',
    'token',
    'token-file',
    'tokenFile',
    'client-certificate',
    'client-key',
    'client-certificate-data',
    'client-key-data',
    'exec',
    'auth-provider',
    'insecure-skip-tls-verify',
    'proxy-url',
    'username',
    'password',
    'namespace',
    '__proto__',
    'constructor',
  ),
  fc.string({ maxLength: 12 }),
);
const leafArb = fc.oneof(
  fc.constantFrom('/etc/passwd', '/var/run/secrets/kubernetes.io/serviceaccount/token', 'https://127.0.0.1:1', 'west'),
  fc.constantFrom(b64(ca.certPem), secretToken, 'https://evil.example/', ''),
  fc.string({ maxLength: 20 }),
  fc.integer(),
  fc.boolean(),
  fc.constant(null),
);
const docArb = fc.letrec((tie) => ({
  value: fc.oneof({ depthSize: 'small', withCrossShrink: true }, leafArb, tie('list'), tie('map')),
  list: fc.array(tie('value'), { maxLength: 4 }),
  map: fc.dictionary(keyArb, tie('value'), { maxKeys: 6 }),
})).map;

test('fuzz: any kubeconfig Secret gives a configuration or a clear reason; no exception, no file read, no secret', () => {
  const base = goodDoc();
  const mutated = fc
    .tuple(fc.constantFrom('users', 'clusters', 'contexts', 'current-context', 'extra'), docArb)
    .map(([key, value]) => ({ ...base, [key]: value }));
  fc.assert(
    fc.property(fc.oneof(docArb, mutated, fc.string({ maxLength: 200 })), (doc) => {
      const text = typeof doc === 'string' ? doc : yaml.dump(doc, { skipInvalid: true });
      const { result, calls } = fileSystemCalls(() => kubeconfigFromSecret(ref, { kubeconfig: text }));
      assert.deepEqual(calls, []);
      const p = problem(result);
      if (p) {
        assert.ok(['BadKubeconfig', 'SecretKeyMissing'].includes(p.reason), p.reason);
        assert.ok(p.message.length > 20 && p.message.length < 400, p.message);
        assert.ok(!p.message.includes(secretToken) && !p.message.includes('/etc/passwd'), p.message);
      } else {
        assert.ok('kubeConfig' in result && result.kubeConfig.getCurrentCluster()?.server.startsWith('https://'));
      }
    }),
    { numRuns: 2000 },
  );
});
