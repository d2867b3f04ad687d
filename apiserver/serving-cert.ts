import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createCertificateAuthority, issueCertificate } from '../core/tls/certificates.js';

export interface ServingCert {
  readonly certPem: string;
  readonly keyPem: string;
  /** The CA to put in the APIService caBundle (undefined for certificates from files: the caller knows it). */
  readonly caPem: string | undefined;
  readonly source: 'files' | 'cert-dir' | 'generated';
}

/** The DNS names the aggregator and webhooks check: `<svc>.<ns>.svc` (AGG-04), plus the short forms. */
export function servingDnsNames(service: string, namespace: string): string[] {
  return [
    `${service}.${namespace}.svc`,
    `${service}.${namespace}.svc.cluster.local`,
    `${service}.${namespace}`,
    service,
    'localhost',
  ];
}

/**
 * The API server's serving certificate: from `--tls-cert-file`/`--tls-private-key-file`; else from `--cert-dir`
 * (generated there once, with its CA in ca.crt, and reused); else generated in memory. Generated ones are signed
 * by a CA of their own, so the APIService can pin it in caBundle instead of skipping verification.
 */
export function loadOrCreateServingCert(o: {
  certFile?: string;
  keyFile?: string;
  certDir?: string;
  dnsNames: readonly string[];
  ipAddresses?: readonly string[];
}): ServingCert {
  if (o.certFile || o.keyFile) {
    if (!o.certFile || !o.keyFile) throw new Error('--tls-cert-file and --tls-private-key-file go together: give both');
    return {
      certPem: readFileSync(o.certFile, 'utf8'),
      keyPem: readFileSync(o.keyFile, 'utf8'),
      caPem: undefined,
      source: 'files',
    };
  }
  const generate = () => {
    const ca = createCertificateAuthority('fedmesh-serving-ca');
    const leaf = issueCertificate(ca, {
      commonName: o.dnsNames[0] ?? 'fedmesh',
      dnsNames: o.dnsNames,
      ipAddresses: o.ipAddresses ?? ['127.0.0.1'],
      usage: 'server',
    });
    return { ca, leaf };
  };
  if (!o.certDir) {
    const { ca, leaf } = generate();
    return { certPem: leaf.certPem, keyPem: leaf.keyPem, caPem: ca.certPem, source: 'generated' };
  }
  const paths = { ca: join(o.certDir, 'ca.crt'), cert: join(o.certDir, 'tls.crt'), key: join(o.certDir, 'tls.key') };
  if (!(existsSync(paths.ca) && existsSync(paths.cert) && existsSync(paths.key))) {
    mkdirSync(o.certDir, { recursive: true, mode: 0o700 });
    const { ca, leaf } = generate();
    writeFileSync(paths.ca, ca.certPem);
    writeFileSync(paths.cert, leaf.certPem);
    writeFileSync(paths.key, leaf.keyPem, { mode: 0o600 });
  }
  return {
    certPem: readFileSync(paths.cert, 'utf8'),
    keyPem: readFileSync(paths.key, 'utf8'),
    caPem: readFileSync(paths.ca, 'utf8'),
    source: 'cert-dir',
  };
}
