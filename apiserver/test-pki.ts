// Certificates and front-proxy trust for the API server's in-process tests (not used by the server itself).
import { createCertificateAuthority, issueCertificate } from '../core/tls/certificates.js';
import { requestHeaderConfigFrom } from './auth/authenticator.js';
import { parseCertBundle } from './auth/client-cert.js';

export const servingCa = createCertificateAuthority('serving-ca');
export const serving = issueCertificate(servingCa, { commonName: 'api', ipAddresses: ['127.0.0.1'], usage: 'server' });
export const frontProxyCa = createCertificateAuthority('front-proxy-ca');
export const proxyClient = issueCertificate(frontProxyCa, { commonName: 'front-proxy-client', usage: 'client' });
/** kubeadm's values for kube-system/extension-apiserver-authentication. */
export const authCfg = requestHeaderConfigFrom(
  {
    'requestheader-client-ca-file': frontProxyCa.certPem,
    'requestheader-allowed-names': '["front-proxy-client"]',
    'requestheader-username-headers': '["X-Remote-User"]',
    'requestheader-group-headers': '["X-Remote-Group"]',
    'requestheader-extra-headers-prefix': '["X-Remote-Extra-"]',
  },
  parseCertBundle,
);
