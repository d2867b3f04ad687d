import { X509Certificate } from 'node:crypto';

const clientAuthOid = '1.3.6.1.5.5.7.3.2';

/** Splits a PEM bundle into certificates. */
export function parseCertBundle(pem: string): X509Certificate[] {
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  return blocks.map((b) => new X509Certificate(b));
}

export type CertCheck = { readonly ok: true } | { readonly ok: false; readonly why: string };

/**
 * Verifies a client certificate against CA certificates, as Go's x509 verifier with client-auth usage does for
 * a leaf signed directly by a CA: issuer and signature, validity period, and the clientAuth extended key usage.
 */
export function verifyClientCert(leaf: X509Certificate, cas: readonly X509Certificate[], now = new Date()): CertCheck {
  const issuer = cas.find((ca) => leaf.checkIssued(ca) && leaf.verify(ca.publicKey));
  if (!issuer) return { ok: false, why: 'certificate signed by unknown authority' };
  if (now < new Date(leaf.validFrom) || now > new Date(leaf.validTo)) {
    return { ok: false, why: 'certificate has expired or is not yet valid' };
  }
  const eku = leaf.keyUsage; // extended key usages; undefined when the extension is absent (any usage)
  if (eku && !eku.includes(clientAuthOid)) return { ok: false, why: 'certificate specifies an incompatible key usage' };
  return { ok: true };
}

/** The subject's CN and O values (user name and groups of an x509 client). */
export function subjectOf(cert: X509Certificate): { commonName: string; organizations: string[] } {
  const lines = cert.subject.split('\n');
  const commonName = lines.find((l) => l.startsWith('CN='))?.slice(3) ?? '';
  const organizations = lines.filter((l) => l.startsWith('O=')).map((l) => l.slice(2));
  return { commonName, organizations };
}
