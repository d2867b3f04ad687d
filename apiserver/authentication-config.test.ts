import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { KubeRestClient } from '../core/kube/rest-client.js';
import { createLogger } from '../core/log/logger.js';
import { createCertificateAuthority } from '../core/tls/certificates.js';
import { AuthenticationConfigSource } from './authentication-config.js';

test('AUTHN-01/02: trust is read from the ConfigMap, fails closed until then, and reloads when it changes', async () => {
  const first = createCertificateAuthority('fp-1');
  const second = createCertificateAuthority('fp-2');
  let cm: unknown = new Error('connection refused');
  const kube = {
    get: async () => {
      if (cm instanceof Error) throw cm;
      return cm;
    },
  } as unknown as KubeRestClient;
  const offered: string[][] = [];
  const src = new AuthenticationConfigSource(kube, createLogger('t', 'error'), (_c, pems) => offered.push(pems));
  await src.refresh();
  assert.equal(src.loaded().ok, false);
  assert.match(src.loaded().message, /cannot read kube-system\/extension-apiserver-authentication: connection refused/);
  assert.equal(src.current().requestHeader, undefined, 'no front proxy is trusted before the first read');

  const data = (ca: string) => ({
    'requestheader-client-ca-file': ca,
    'requestheader-allowed-names': '["front-proxy-client"]',
    'requestheader-username-headers': '["X-Remote-User"]',
    'requestheader-group-headers': '["X-Remote-Group"]',
    'requestheader-extra-headers-prefix': '["X-Remote-Extra-"]',
  });
  cm = { metadata: { resourceVersion: '1' }, data: data(first.certPem) };
  await src.refresh();
  assert.ok(src.loaded().ok);
  assert.equal(src.current().requestHeader?.clientCAs[0]?.subject, 'CN=fp-1');
  assert.deepEqual(src.current().requestHeader?.allowedNames, ['front-proxy-client']);
  assert.deepEqual(src.current().requestHeader?.uidHeaders, [], 'uid headers only when the cluster lists them');

  cm = { metadata: { resourceVersion: '2' }, data: data(second.certPem) };
  await src.refresh();
  assert.equal(src.current().requestHeader?.clientCAs[0]?.subject, 'CN=fp-2', 'a rotated CA applies without a restart');
  assert.deepEqual(offered, [[first.certPem], [second.certPem]]);
});
