import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { createCertificateAuthority, issueCertificate } from '../core/tls/certificates.js';
import { mergeCaBundle, splitPemBundle } from './ca-bundle.js';
import { fileServingCertificates, GeneratedServingCertificates, type ServingPair } from './serving-certificates.js';

const log = pino({ enabled: false });
const issuer = (pem: string) => new X509Certificate(pem).issuer;
const issuedBy = (leaf: string, ca: string) => new X509Certificate(leaf).checkIssued(new X509Certificate(ca));
const serial = (pem: string) => new X509Certificate(pem).serialNumber;

function generated(publish: (cas: readonly string[]) => Promise<boolean>) {
  const served: ServingPair[] = [];
  const published: string[][] = [];
  const certs = new GeneratedServingCertificates({
    dir: mkdtempSync(join(tmpdir(), 'fedmesh-certs-')),
    dnsNames: ['fedmesh-webhooks.fedmesh-system.svc'],
    ipAddresses: ['127.0.0.1'],
    certValidityMs: 30_000,
    caValidityMs: 100_000,
    log,
    registry: new Registry(),
    onChange: (p) => served.push(p),
    publishCaBundle: async (cas) => {
      published.push([...cas]);
      return publish(cas);
    },
  });
  return { certs, served, published };
}

test('the serving certificate is renewed when a third of its life is left, from the same CA', async () => {
  const { certs, served } = generated(async () => true);
  const t0 = Date.now();
  const first = certs.current().certPem;
  await certs.tick(t0 + 15_000);
  assert.equal(served.length, 0, 'half its life left: not yet');
  await certs.tick(t0 + 21_000);
  assert.equal(served.length, 1);
  assert.notEqual(serial(served[0]!.certPem), serial(first));
  assert.equal(issuer(served[0]!.certPem), issuer(first));
});

test('CA rotation: the new CA is published first, the switch waits for a successful publish and the grace period', async () => {
  let publishing = false;
  const { certs, served, published } = generated(async () => publishing);
  const t0 = Date.now();
  const oldCa = certs.caBundle()[0]!;
  await certs.tick(t0 + 51_000); // half of the CA's life left: a next CA is made and offered
  assert.equal(certs.caBundle().length, 2);
  assert.deepEqual(published.at(-1), certs.caBundle());
  await certs.tick(t0 + 70_000); // publishing fails: no switch, however long it takes
  assert.ok(served.every((p) => issuedBy(p.certPem, oldCa)));
  publishing = true;
  await certs.tick(t0 + 71_000); // published now; the grace period starts
  assert.ok(served.every((p) => issuedBy(p.certPem, oldCa)));
  await certs.tick(t0 + 71_000 + 10_001); // grace over: serve from the new CA, keep the old one in the bundle
  const last = served.at(-1)!;
  assert.ok(!issuedBy(last.certPem, oldCa));
  assert.ok(issuedBy(last.certPem, certs.caBundle()[0]!));
  assert.equal(certs.caBundle().length, 2);
  assert.ok(certs.caBundle().includes(oldCa));
  await certs.tick(t0 + 101_000); // the old CA expired: it leaves the bundle
  assert.ok(!certs.caBundle().includes(oldCa));
});

test('caBundle merge keeps other CAs, drops expired ones and duplicates', () => {
  const a = createCertificateAuthority('a', 1).certPem;
  const b = createCertificateAuthority('b', 1).certPem;
  const expired = createCertificateAuthority('old', -1).certPem;
  const merged = mergeCaBundle(`${a}${expired}`, [b, a], new Date());
  assert.deepEqual(
    splitPemBundle(merged).map((p) => new X509Certificate(p).subject),
    ['CN=a', 'CN=b'],
  );
});

test('certificates from files: a new readable pair is served, a half-written one is not', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'fedmesh-files-'));
  const ca = createCertificateAuthority('files', 1);
  const pair = () => issueCertificate(ca, { commonName: 'x', dnsNames: ['x'], usage: 'server', validDays: 1 });
  const certFile = join(dir, 'tls.crt');
  const keyFile = join(dir, 'tls.key');
  const p1 = pair();
  writeFileSync(certFile, p1.certPem);
  writeFileSync(keyFile, p1.keyPem);
  const served: ServingPair[] = [];
  const certs = fileServingCertificates({
    certFile,
    keyFile,
    log,
    registry: new Registry(),
    onChange: (p) => served.push(p),
    pollMs: 20,
  });
  try {
    const p2 = pair();
    writeFileSync(certFile, p2.certPem); // the key is still the old one: not a usable pair
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(served.length, 0);
    writeFileSync(keyFile, p2.keyPem);
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(served.length, 1);
    assert.equal(certs.current().certPem, p2.certPem);
  } finally {
    certs.stop();
  }
});
