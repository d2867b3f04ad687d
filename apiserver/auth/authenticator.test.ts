import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { test } from 'node:test';
import forge from 'node-forge';
import { createCertificateAuthority, issueCertificate, type KeyPair } from '../../core/tls/certificates.js';
import {
  type AuthenticationConfig,
  authenticate,
  clearIdentityHeaders,
  type RequestHeaders,
  requestHeaderConfigFrom,
} from './authenticator.js';
import { parseCertBundle, subjectOf } from './client-cert.js';

const frontProxyCa = createCertificateAuthority('front-proxy-ca');
const clusterCa = createCertificateAuthority('cluster-ca');
const cfg: AuthenticationConfig = requestHeaderConfigFrom(
  {
    'requestheader-client-ca-file': frontProxyCa.certPem,
    'requestheader-allowed-names': '["front-proxy-client"]',
    'requestheader-username-headers': '["X-Remote-User"]',
    'requestheader-uid-headers': '["X-Remote-Uid"]',
    'requestheader-group-headers': '["X-Remote-Group"]',
    'requestheader-extra-headers-prefix': '["X-Remote-Extra-"]',
    'client-ca-file': clusterCa.certPem,
  },
  parseCertBundle,
);
const cert = (
  ca: typeof frontProxyCa,
  cn: string,
  usage: 'client' | 'server' = 'client',
  orgs: string[] = [],
  validDays?: number,
) =>
  new X509Certificate(
    issueCertificate(ca, {
      commonName: cn,
      organizations: orgs,
      usage,
      ...(usage === 'server' ? { ipAddresses: ['127.0.0.1'] } : {}),
      ...(validDays === undefined ? {} : { validDays }),
    }).certPem,
  );

/** A client certificate with exactly these subject attributes, in this order (to test how they are read). */
function certWithSubject(ca: KeyPair, attrs: { shortName: string; value: string }[]): X509Certificate {
  const caCert = forge.pki.certificateFromPem(ca.certPem);
  const keys = forge.pki.rsa.generateKeyPair(1024);
  const c = forge.pki.createCertificate();
  c.publicKey = keys.publicKey;
  c.serialNumber = '0a';
  c.validity.notBefore = new Date(Date.now() - 60_000);
  c.validity.notAfter = new Date(Date.now() + 3600_000);
  c.setSubject(attrs);
  c.setIssuer(caCert.subject.attributes);
  c.setExtensions([{ name: 'extKeyUsage', clientAuth: true }]);
  c.sign(forge.pki.privateKeyFromPem(ca.keyPem), forge.md.sha256.create());
  return new X509Certificate(forge.pki.certificateToPem(c));
}
const noTokens = async () => undefined;
const forged: RequestHeaders = { 'x-remote-user': ['admin'], 'x-remote-group': ['system:masters'] };

test('AUTHN-03: the front proxy asserts user, uid, groups and %-decoded extras', async () => {
  const r = await authenticate(
    cert(frontProxyCa, 'front-proxy-client'),
    {
      'x-remote-user': ['alice'],
      'x-remote-uid': ['u-1'],
      'x-remote-group': ['devs', 'ops'],
      'x-remote-extra-acme.com%2fproject': ['p1'],
    },
    cfg,
    noTokens,
  );
  assert.equal(r.outcome, 'authenticated');
  assert.ok(r.outcome === 'authenticated');
  assert.equal(r.method, 'front-proxy');
  assert.deepEqual(r.user, {
    username: 'alice',
    uid: 'u-1',
    groups: ['devs', 'ops', 'system:authenticated'],
    extra: { 'acme.com/project': ['p1'] },
  });
});

test('SEC-01: forged identity headers are never trusted', async () => {
  // (a) no certificate: anonymous, headers ignored
  const a = await authenticate(undefined, forged, cfg, noTokens);
  assert.equal(a.outcome, 'anonymous');
  // (b) a cluster-CA client: the certificate's own identity, headers ignored
  const b = await authenticate(cert(clusterCa, 'bob', 'client', ['team']), forged, cfg, noTokens);
  assert.ok(b.outcome === 'authenticated' && b.method === 'x509' && b.user.username === 'bob');
  assert.ok(b.outcome === 'authenticated' && !b.user.groups.includes('system:masters'));
  // (c) a front-proxy-CA certificate whose CN is not allowed
  const c = await authenticate(cert(frontProxyCa, 'mallory'), forged, cfg, noTokens);
  assert.equal(c.outcome, 'failed');
  // (d) a certificate without clientAuth usage
  const d = await authenticate(cert(frontProxyCa, 'front-proxy-client', 'server'), forged, cfg, noTokens);
  assert.equal(d.outcome, 'failed');
  // a certificate from an unknown CA
  const e = await authenticate(cert(createCertificateAuthority('evil'), 'front-proxy-client'), forged, cfg, noTokens);
  assert.equal(e.outcome, 'failed');
});

test('SEC-01 (e): an expired certificate is refused, front proxy and direct client alike', async () => {
  const proxy = await authenticate(cert(frontProxyCa, 'front-proxy-client', 'client', [], -1), forged, cfg, noTokens);
  assert.ok(proxy.outcome === 'failed' && /expired/.test(proxy.why), JSON.stringify(proxy));
  const direct = await authenticate(cert(clusterCa, 'bob', 'client', [], -1), {}, cfg, noTokens);
  assert.ok(direct.outcome === 'failed' && /expired/.test(direct.why), JSON.stringify(direct));
});

test('AUTHN-03: one group per header line, never split on commas; duplicate lines all count', async () => {
  const proxy = cert(frontProxyCa, 'front-proxy-client');
  const r = await authenticate(
    proxy,
    {
      'x-remote-user': ['CN=alice\\,x,OU=people'],
      'x-remote-group': ['team-a,system:masters', 'CN=ops\\,eu,OU=groups', ''],
      'x-remote-extra-scopes': ['read,write', 'admin'],
    },
    cfg,
    noTokens,
  );
  assert.ok(r.outcome === 'authenticated');
  assert.equal(r.user.username, 'CN=alice\\,x,OU=people');
  assert.deepEqual(r.user.groups, ['team-a,system:masters', 'CN=ops\\,eu,OU=groups', 'system:authenticated']);
  assert.deepEqual(r.user.extra, { scopes: ['read,write', 'admin'] });
  // Two user header lines: the first one is the user (Go's Header.Get).
  const two = await authenticate(proxy, { 'x-remote-user': ['first', 'second'] }, cfg, noTokens);
  assert.ok(two.outcome === 'authenticated' && two.user.username === 'first');
});

test('AUTHN-03: extra keys such as __proto__ and constructor are keys like any other, not a failure', async () => {
  const r = await authenticate(
    cert(frontProxyCa, 'front-proxy-client'),
    {
      'x-remote-user': ['alice'],
      'x-remote-extra-__proto__': ['a'],
      'x-remote-extra-constructor': ['b'],
      'x-remote-extra-%5f%5fproto%5f%5f': ['c'],
    },
    cfg,
    noTokens,
  );
  assert.ok(r.outcome === 'authenticated');
  assert.deepEqual(Object.entries(r.user.extra), [
    ['__proto__', ['a', 'c']],
    ['constructor', ['b']],
  ]);
  // The SubjectAccessReview gets them as sent.
  assert.equal(JSON.stringify(r.user.extra), '{"__proto__":["a","c"],"constructor":["b"]}');
});

test('AUTHN-03 step 5: every identity header, extras included, is removed once read', () => {
  const headers: Record<string, string | string[]> = {
    authorization: 'Bearer x',
    'x-remote-user': 'a',
    'x-remote-uid': 'u',
    'x-remote-group': 'g',
    'x-remote-extra-scopes': 's',
    accept: 'application/json',
  };
  clearIdentityHeaders(headers, cfg.requestHeader);
  assert.deepEqual(Object.keys(headers), ['accept']);
});

test('x509 clients as Go reads them: subject attributes, last CN wins, no CN names nobody', async () => {
  const twoCns = certWithSubject(clusterCa, [
    { shortName: 'O', value: 'devs' },
    { shortName: 'CN', value: 'first' },
    { shortName: 'CN', value: 'second' },
  ]);
  assert.deepEqual(subjectOf(twoCns), { commonName: 'second', organizations: ['devs'] });
  // OpenSSL's subject string escapes these (`\,`, `\0A`); the user name is the attribute's value.
  const odd = certWithSubject(clusterCa, [
    { shortName: 'CN', value: 'alice, O=system:masters\nO=x' },
    { shortName: 'O', value: 'a+b' },
  ]);
  const r = await authenticate(odd, {}, cfg, noTokens);
  assert.ok(r.outcome === 'authenticated' && r.method === 'x509');
  assert.equal(r.user.username, 'alice, O=system:masters\nO=x');
  assert.deepEqual(r.user.groups, ['a+b', 'system:authenticated']);
  // No CN: not a user called "" — the request goes on as if without a certificate (Go's CommonNameUserConversion).
  const noCn = certWithSubject(clusterCa, [{ shortName: 'O', value: 'system:masters' }]);
  const anon = await authenticate(noCn, {}, cfg, noTokens);
  assert.equal(anon.outcome, 'anonymous');
  const review = async () => ({ username: 'sa', groups: [], extra: {} });
  const tok = await authenticate(noCn, { authorization: ['Bearer t'] }, cfg, review);
  assert.ok(tok.outcome === 'authenticated' && tok.method === 'token' && tok.user.username === 'sa');
});

test('AUTHN-07: bearer tokens go to TokenReview; a rejected token is a failure, not anonymous', async () => {
  const review = async (t: string) => (t === 'good' ? { username: 'sa', groups: ['g'], extra: {} } : undefined);
  const ok = await authenticate(undefined, { authorization: ['Bearer good'] }, cfg, review);
  assert.ok(
    ok.outcome === 'authenticated' && ok.user.username === 'sa' && ok.user.groups.includes('system:authenticated'),
  );
  assert.equal((await authenticate(undefined, { authorization: ['Bearer bad'] }, cfg, review)).outcome, 'failed');
  assert.equal((await authenticate(undefined, { authorization: ['Basic x'] }, cfg, review)).outcome, 'failed');
});
