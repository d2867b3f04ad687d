import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { renderKubeconfig } from '../../core/kube/kubeconfig.js';
import {
  createCertificateAuthority,
  createSigningKey,
  issueCertificate,
  type KeyPair,
} from '../../core/tls/certificates.js';

/** Paths of one testbed cluster's certificates and keys (each cluster has its own CAs: no shared trust). */
export interface ClusterPki {
  readonly dir: string;
  readonly caCert: string;
  readonly caKey: string;
  readonly frontProxyCaCert: string;
  /** Kept so that tests can forge front-proxy certificates (a wrong CN) against a real server. */
  readonly frontProxyCaKey: string;
  readonly apiserverCert: string;
  readonly apiserverKey: string;
  readonly frontProxyClientCert: string;
  readonly frontProxyClientKey: string;
  readonly saPublicKey: string;
  readonly saPrivateKey: string;
  readonly admin: KeyPair;
  readonly controllerManager: KeyPair;
  readonly ca: KeyPair;
}

function write(dir: string, name: string, content: string): string {
  const p = join(dir, name);
  writeFileSync(p, content, { mode: 0o600 });
  return p;
}

/** The front-proxy client's common name: the only name the cluster's aggregation layer accepts. */
export const frontProxyClientName = 'front-proxy-client';

export function createClusterPki(dir: string, cluster: string): ClusterPki {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const ca = createCertificateAuthority(`fedmesh-testbed-${cluster}-ca`);
  const frontProxyCa = createCertificateAuthority(`fedmesh-testbed-${cluster}-front-proxy-ca`);
  const apiserver = issueCertificate(ca, {
    commonName: 'kube-apiserver',
    dnsNames: ['localhost', 'kubernetes', 'kubernetes.default', 'kubernetes.default.svc'],
    ipAddresses: ['127.0.0.1'],
    usage: 'server',
  });
  const admin = issueCertificate(ca, {
    commonName: `${cluster}-admin`,
    organizations: ['system:masters'],
    usage: 'client',
  });
  const controllerManager = issueCertificate(ca, { commonName: 'system:kube-controller-manager', usage: 'client' });
  const frontProxyClient = issueCertificate(frontProxyCa, { commonName: frontProxyClientName, usage: 'client' });
  const sa = createSigningKey();
  return {
    dir,
    ca,
    caCert: write(dir, 'ca.crt', ca.certPem),
    caKey: write(dir, 'ca.key', ca.keyPem),
    frontProxyCaCert: write(dir, 'front-proxy-ca.crt', frontProxyCa.certPem),
    frontProxyCaKey: write(dir, 'front-proxy-ca.key', frontProxyCa.keyPem),
    apiserverCert: write(dir, 'apiserver.crt', apiserver.certPem),
    apiserverKey: write(dir, 'apiserver.key', apiserver.keyPem),
    frontProxyClientCert: write(dir, 'front-proxy-client.crt', frontProxyClient.certPem),
    frontProxyClientKey: write(dir, 'front-proxy-client.key', frontProxyClient.keyPem),
    saPublicKey: write(dir, 'sa.pub', sa.publicPem),
    saPrivateKey: write(dir, 'sa.key', sa.privatePem),
    admin,
    controllerManager,
  };
}

/** The admin (or component) kubeconfig of a testbed cluster, with its client certificate inline. */
export function kubeconfigYaml(opts: {
  cluster: string;
  server: string;
  caPem: string;
  user: string;
  client: KeyPair;
}): string {
  return renderKubeconfig({
    cluster: opts.cluster,
    server: opts.server,
    caPem: opts.caPem,
    user: opts.user,
    credentials: { certPem: opts.client.certPem, keyPem: opts.client.keyPem },
  });
}
