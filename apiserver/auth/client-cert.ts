import { X509Certificate } from 'node:crypto';
import forge from 'node-forge';

const clientAuthOid = '1.3.6.1.5.5.7.3.2';

/** Splits a PEM bundle into certificates. */
export function parseCertBundle(pem: string): X509Certificate[] {
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  return blocks.map((b) => new X509Certificate(b));
}

export const unknownAuthority = 'certificate signed by unknown authority';

export type CertCheck = { readonly ok: true } | { readonly ok: false; readonly why: string };

/**
 * Verifies a client certificate against CA certificates, as Go's x509 verifier with client-auth usage does for
 * a leaf signed directly by a CA: issuer and signature, validity period, and the clientAuth extended key usage.
 */
export function verifyClientCert(leaf: X509Certificate, cas: readonly X509Certificate[], now = new Date()): CertCheck {
  const issuer = cas.find((ca) => leaf.checkIssued(ca) && leaf.verify(ca.publicKey));
  if (!issuer) return { ok: false, why: unknownAuthority };
  if (now < new Date(leaf.validFrom) || now > new Date(leaf.validTo)) {
    return { ok: false, why: 'certificate has expired or is not yet valid' };
  }
  const eku = leaf.keyUsage; // extended key usages; undefined when the extension is absent (any usage)
  if (eku && !eku.includes(clientAuthOid)) return { ok: false, why: 'certificate specifies an incompatible key usage' };
  return { ok: true };
}

/**
 * The subject's CN and O values (user name and groups of an x509 client), read from the certificate's attributes
 * as Go's pkix.Name does: the last CN wins, every O is a group, in order. Node's `subject` string is OpenSSL's
 * escaped rendering (`\,`, `\0A`, `+`), not the values.
 */
export function subjectOf(cert: X509Certificate): { commonName: string; organizations: string[] } {
  let commonName = '';
  const organizations: string[] = [];
  for (const a of subjectAttributes(cert)) {
    if (typeof a.value !== 'string') continue;
    if (a.type === oidCommonName) commonName = a.value;
    else if (a.type === oidOrganization) organizations.push(a.value);
  }
  return { commonName, organizations };
}

const oidCommonName = '2.5.4.3';
const oidOrganization = '2.5.4.10';

/** The subject's attributes in DER order (every RDN, every attribute of a multi-valued RDN). */
function subjectAttributes(cert: X509Certificate): { type: string; value: string | undefined }[] {
  const der = forge.asn1.fromDer(forge.util.createBuffer(cert.raw.toString('binary')));
  const tbs = (der.value as forge.asn1.Asn1[])[0];
  const fields = (tbs?.value ?? []) as forge.asn1.Asn1[];
  // TBSCertificate: [0] version (explicit, optional), serial, signature, issuer, validity, subject, …
  const offset = fields[0]?.tagClass === forge.asn1.Class.CONTEXT_SPECIFIC ? 1 : 0;
  const subject = fields[offset + 4];
  const out: { type: string; value: string | undefined }[] = [];
  for (const rdn of (subject?.value ?? []) as forge.asn1.Asn1[]) {
    for (const atv of (rdn.value ?? []) as forge.asn1.Asn1[]) {
      const [oid, value] = atv.value as forge.asn1.Asn1[];
      if (!oid || !value || typeof oid.value !== 'string') continue;
      out.push({ type: forge.asn1.derToOid(oid.value), value: directoryString(value) });
    }
  }
  return out;
}

/** The text of a DirectoryString-like value; undefined for what is not a string (Go skips those too). */
function directoryString(v: forge.asn1.Asn1): string | undefined {
  if (typeof v.value !== 'string') return undefined;
  const bytes = Buffer.from(v.value, 'binary');
  const t61String = 20;
  if ((v.type as number) === t61String) return bytes.toString('latin1');
  switch (v.type) {
    case forge.asn1.Type.UTF8:
      return bytes.toString('utf8');
    case forge.asn1.Type.PRINTABLESTRING:
    case forge.asn1.Type.IA5STRING:
      return bytes.toString('latin1');
    case forge.asn1.Type.BMPSTRING:
      return bytes.length % 2 === 0 ? Buffer.from(bytes).swap16().toString('utf16le') : undefined;
    default:
      return undefined;
  }
}
