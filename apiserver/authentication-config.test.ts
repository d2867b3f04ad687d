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

test('AUTHN-02: allowed names and headers change live; a removed or broken ConfigMap keeps the last trust, as Go does', async () => {
  const ca = createCertificateAuthority('fp');
  let answer: unknown;
  const kube = {
    get: async () => {
      if (answer instanceof Error) throw answer;
      return answer;
    },
  } as unknown as KubeRestClient;
  const src = new AuthenticationConfigSource(kube, createLogger('t', 'error'), () => {});
  const data = (names: string, user: string) => ({
    'requestheader-client-ca-file': ca.certPem,
    'requestheader-allowed-names': names,
    'requestheader-username-headers': user,
    'requestheader-group-headers': '["X-Remote-Group"]',
  });
  answer = { metadata: { resourceVersion: '1' }, data: data('["front-proxy-client"]', '["X-Remote-User"]') };
  await src.refresh();
  answer = { metadata: { resourceVersion: '2' }, data: data('["aggregator"]', '["X-Forwarded-User"]') };
  await src.refresh();
  assert.deepEqual(src.current().requestHeader?.allowedNames, ['aggregator']);
  assert.deepEqual(src.current().requestHeader?.usernameHeaders, ['X-Forwarded-User']);
  // Removed: kube-apiserver recreates it; meanwhile the last trust holds (Go's controller keeps its last bundle).
  answer = Object.assign(new Error('GET …/extension-apiserver-authentication: 404 NotFound'), { statusCode: 404 });
  await src.refresh();
  assert.deepEqual(src.current().requestHeader?.allowedNames, ['aggregator']);
  assert.ok(src.loaded().ok);
  // A value that is not a JSON list is refused whole: nothing half-applied.
  answer = { metadata: { resourceVersion: '3' }, data: data('front-proxy-client', '["X-Remote-User"]') };
  await src.refresh();
  assert.deepEqual(src.current().requestHeader?.usernameHeaders, ['X-Forwarded-User']);
  answer = { metadata: { resourceVersion: '4' }, data: data('"front-proxy-client"', '["X-Remote-User"]') };
  await src.refresh();
  assert.deepEqual(src.current().requestHeader?.allowedNames, ['aggregator'], 'a JSON string is not a list');
  answer = { metadata: { resourceVersion: '5' }, data: data('["front-proxy-client"]', '["X-Remote-User"]') };
  await src.refresh();
  assert.deepEqual(src.current().requestHeader?.allowedNames, ['front-proxy-client']);
});
