import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { test } from 'node:test';
import { createCertificateAuthority, issueCertificate } from '../../core/tls/certificates.js';
import { type AuthenticationConfig, authenticate, requestHeaderConfigFrom } from './authenticator.js';
import { parseCertBundle } from './client-cert.js';

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
const cert = (ca: typeof frontProxyCa, cn: string, usage: 'client' | 'server' = 'client', orgs: string[] = []) =>
  new X509Certificate(
    issueCertificate(ca, {
      commonName: cn,
      organizations: orgs,
      usage,
      ...(usage === 'server' ? { ipAddresses: ['127.0.0.1'] } : {}),
    }).certPem,
  );
const noTokens = async () => undefined;
const forged = { 'x-remote-user': 'admin', 'x-remote-group': 'system:masters' };

test('AUTHN-03: the front proxy asserts user, uid, groups and %-decoded extras', async () => {
  const r = await authenticate(
    cert(frontProxyCa, 'front-proxy-client'),
    {
      'x-remote-user': 'alice',
      'x-remote-uid': 'u-1',
      'x-remote-group': 'devs, ops',
      'x-remote-extra-acme.com%2fproject': 'p1',
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

test('AUTHN-07: bearer tokens go to TokenReview; a rejected token is a failure, not anonymous', async () => {
  const review = async (t: string) => (t === 'good' ? { username: 'sa', groups: ['g'], extra: {} } : undefined);
  const ok = await authenticate(undefined, { authorization: 'Bearer good' }, cfg, review);
  assert.ok(
    ok.outcome === 'authenticated' && ok.user.username === 'sa' && ok.user.groups.includes('system:authenticated'),
  );
  assert.equal((await authenticate(undefined, { authorization: 'Bearer bad' }, cfg, review)).outcome, 'failed');
  assert.equal((await authenticate(undefined, { authorization: 'Basic x' }, cfg, review)).outcome, 'failed');
});
