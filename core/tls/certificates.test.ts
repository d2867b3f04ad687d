import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { once } from 'node:events';
import { createServer, request } from 'node:https';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { createCertificateAuthority, isSignedBy, issueCertificate, serialNumber } from './certificates.js';

test('a CA signs server and client certificates with the asked names and usages', () => {
  const ca = createCertificateAuthority('test-ca');
  const server = issueCertificate(ca, {
    commonName: 'api',
    dnsNames: ['api.ns.svc', 'localhost'],
    ipAddresses: ['127.0.0.1'],
    usage: 'server',
  });
  const client = issueCertificate(ca, { commonName: 'admin', organizations: ['system:masters'], usage: 'client' });
  assert.ok(isSignedBy(server.certPem, ca.certPem));
  assert.ok(isSignedBy(client.certPem, ca.certPem));
  assert.ok(new X509Certificate(ca.certPem).ca);
  const s = new X509Certificate(server.certPem);
  assert.match(s.subjectAltName ?? '', /DNS:api\.ns\.svc/);
  assert.match(s.subjectAltName ?? '', /IP Address:127\.0\.0\.1/);
  assert.equal(s.ca, false);
  assert.match(new X509Certificate(client.certPem).subject, /O=system:masters/);
  assert.ok(!isSignedBy(server.certPem, createCertificateAuthority('other').certPem));
});

test('a serving certificate without any SAN is refused', () => {
  const ca = createCertificateAuthority('test-ca');
  assert.throws(() => issueCertificate(ca, { commonName: 'x', usage: 'server' }), /needs at least one DNS name/);
});

test('the certificates work for mutual TLS in Node', async () => {
  const ca = createCertificateAuthority('mtls-ca');
  const server = issueCertificate(ca, { commonName: 's', ipAddresses: ['127.0.0.1'], usage: 'server' });
  const client = issueCertificate(ca, { commonName: 'alice', usage: 'client' });
  const srv = createServer(
    { cert: server.certPem, key: server.keyPem, ca: ca.certPem, requestCert: true, rejectUnauthorized: true },
    (req, res) => {
      const peer = (req.socket as import('node:tls').TLSSocket).getPeerCertificate();
      res.end(peer.subject.CN);
    },
  );
  srv.listen(0, '127.0.0.1');
  await once(srv, 'listening');
  try {
    const { port } = srv.address() as AddressInfo;
    const body = await new Promise<string>((resolve, reject) => {
      const r = request(
        { host: '127.0.0.1', port, ca: ca.certPem, cert: client.certPem, key: client.keyPem },
        (res) => {
          let d = '';
          res.on('data', (c) => {
            d += c;
          });
          res.on('end', () => resolve(d));
        },
      );
      r.on('error', reject);
      r.end();
    });
    assert.equal(body, 'alice');
  } finally {
    srv.close();
  }
});

test('serial numbers are positive and minimally encoded: Go refuses a leading zero byte (1 certificate in 128 before)', () => {
  for (let i = 0; i < 20_000; i++) {
    const hex = serialNumber();
    assert.match(hex, /^[0-9a-f]{32}$/);
    const first = Number.parseInt(hex.slice(0, 2), 16);
    assert.ok(first >= 0x01 && first <= 0x7f, `serial ${hex}`);
  }
});
