import { generateKeyPairSync, randomBytes, X509Certificate } from 'node:crypto';
import forge from 'node-forge';

/** A certificate and its private key, both PEM. */
export interface KeyPair {
  readonly certPem: string;
  readonly keyPem: string;
}

export type CertUsage = 'server' | 'client' | 'server-and-client';

export interface CertRequest {
  readonly commonName: string;
  /** Organizations (O=): Kubernetes reads them as the groups of a client certificate. */
  readonly organizations?: readonly string[];
  /** DNS names and IP addresses for subjectAltName; Go refuses serving certificates without SANs. */
  readonly dnsNames?: readonly string[];
  readonly ipAddresses?: readonly string[];
  readonly usage: CertUsage;
  readonly validDays?: number;
}

// Keys come from Node's native crypto (fast); node-forge only assembles and signs the certificates.
function newRsaKey(): { privatePem: string; publicKey: forge.pki.rsa.PublicKey; privateKey: forge.pki.rsa.PrivateKey } {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const privatePem = privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();
  const forgeKey = forge.pki.privateKeyFromPem(privatePem);
  return { privatePem, privateKey: forgeKey, publicKey: forge.pki.setRsaPublicKey(forgeKey.n, forgeKey.e) };
}

/**
 * A positive 128-bit serial whose first byte is 0x01-0x7f: the top bit clear so DER does not read it as negative,
 * and never 0x00, which forge would encode as a non-minimal INTEGER that Go refuses ("x509: malformed serial
 * number": a kube-apiserver given such a certificate does not start).
 */
export function serialNumber(): string {
  const bytes = randomBytes(16);
  bytes[0] = (bytes[0] ?? 0) & 0x7f || 0x01;
  return bytes.toString('hex');
}

function validity(cert: forge.pki.Certificate, days: number): void {
  const now = Date.now();
  cert.validity.notBefore = new Date(now - 5 * 60 * 1000); // tolerate small clock skew
  cert.validity.notAfter = new Date(now + days * 24 * 3600 * 1000);
}

function subject(commonName: string, organizations: readonly string[] = []): forge.pki.CertificateField[] {
  return [...organizations.map((o) => ({ shortName: 'O', value: o })), { shortName: 'CN', value: commonName }];
}

/** A self-signed certificate authority. */
export function createCertificateAuthority(commonName: string, validDays = 3650): KeyPair {
  const key = newRsaKey();
  const cert = forge.pki.createCertificate();
  cert.publicKey = key.publicKey;
  cert.serialNumber = serialNumber();
  validity(cert, validDays);
  cert.setSubject(subject(commonName));
  cert.setIssuer(subject(commonName));
  cert.setExtensions([
    { name: 'basicConstraints', cA: true, critical: true },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, digitalSignature: true, critical: true },
    { name: 'subjectKeyIdentifier' },
  ]);
  cert.sign(key.privateKey, forge.md.sha256.create());
  return { certPem: forge.pki.certificateToPem(cert), keyPem: key.privatePem };
}

/** A leaf certificate signed by `ca`. */
export function issueCertificate(ca: KeyPair, req: CertRequest): KeyPair {
  const caCert = forge.pki.certificateFromPem(ca.certPem);
  const caKey = forge.pki.privateKeyFromPem(ca.keyPem);
  const key = newRsaKey();
  const cert = forge.pki.createCertificate();
  cert.publicKey = key.publicKey;
  cert.serialNumber = serialNumber();
  validity(cert, req.validDays ?? 825);
  cert.setSubject(subject(req.commonName, req.organizations));
  cert.setIssuer(caCert.subject.attributes);
  const altNames = [
    ...(req.dnsNames ?? []).map((value) => ({ type: 2, value })),
    ...(req.ipAddresses ?? []).map((ip) => ({ type: 7, ip })),
  ];
  if (req.usage !== 'client' && altNames.length === 0) {
    throw new Error(`serving certificate "${req.commonName}" needs at least one DNS name or IP address`);
  }
  cert.setExtensions([
    { name: 'basicConstraints', cA: false },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    {
      name: 'extKeyUsage',
      serverAuth: req.usage !== 'client',
      clientAuth: req.usage !== 'server',
    },
    ...(altNames.length > 0 ? [{ name: 'subjectAltName', altNames }] : []),
    { name: 'authorityKeyIdentifier', keyIdentifier: caCert.generateSubjectKeyIdentifier().getBytes() },
  ]);
  cert.sign(caKey, forge.md.sha256.create());
  return { certPem: forge.pki.certificateToPem(cert), keyPem: key.privatePem };
}

/** An RSA key pair as PEM (public key in SPKI form), e.g. for service-account token signing. */
export function createSigningKey(): { publicPem: string; privatePem: string } {
  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return {
    publicPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    privatePem: privateKey.export({ type: 'pkcs1', format: 'pem' }).toString(),
  };
}

/** True when `leafPem` was signed by `caPem` and is valid now. */
export function isSignedBy(leafPem: string, caPem: string, now = new Date()): boolean {
  const leaf = new X509Certificate(leafPem);
  const ca = new X509Certificate(caPem);
  return (
    leaf.checkIssued(ca) &&
    leaf.verify(ca.publicKey) &&
    new Date(leaf.validFrom) <= now &&
    now <= new Date(leaf.validTo)
  );
}
