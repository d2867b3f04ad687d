import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createCertificateAuthority } from '../core/tls/certificates.js';
import { kubeconfigFromSecret } from './kubeconfig-secret.js';
import { parseRccSpec } from './rcc-spec.js';
import { accessKubeconfig } from './remote-access.js';

const ref = { name: 's', namespace: 'ns' };
const good = accessKubeconfig({
  clusterName: 'west',
  server: 'https://127.0.0.1:6443',
  caPem: createCertificateAuthority('west-ca').certPem,
  token: 'sekret',
});

test('RCC spec: defaults, and errors that say what is wrong', () => {
  const r = parseRccSpec({ metadata: { name: 'west' }, spec: { clusterAccessSecret: ref } }, 'east');
  assert.ok('spec' in r);
  assert.deepEqual(r.spec.staleEndpoints, { mode: 'Retain', ttlMs: 300_000 });
  const self = parseRccSpec({ metadata: { name: 'east' }, spec: { clusterAccessSecret: ref } }, 'east');
  assert.ok('error' in self && /own remote/.test(self.error));
  const dotted = parseRccSpec({ metadata: { name: 'a.b' }, spec: { clusterAccessSecret: ref } }, 'east');
  assert.ok('error' in dotted && /DNS-1123/.test(dotted.error));
});

test('cluster access secrets: missing, no key, bad YAML, file references and exec are refused without quoting', () => {
  const reason = (r: ReturnType<typeof kubeconfigFromSecret>) => ('problem' in r ? r.problem.reason : 'ok');
  assert.equal(reason(kubeconfigFromSecret(ref, undefined)), 'SecretNotFound');
  assert.equal(reason(kubeconfigFromSecret(ref, { kubeconfig: undefined })), 'SecretKeyMissing');
  const bad = kubeconfigFromSecret(ref, { kubeconfig: 'token: sekret\n  : [' });
  assert.equal(reason(bad), 'BadKubeconfig');
  assert.ok('problem' in bad && !bad.problem.message.includes('sekret'));
  const exec = good.replace('    token: sekret', '    exec: {command: /bin/sh}');
  const refused = kubeconfigFromSecret(ref, { kubeconfig: exec });
  assert.match(
    'problem' in refused ? refused.problem.message : '',
    /has field "exec", which an access Secret may not use/,
  );
  const http = good.replace('https://', 'http://');
  assert.equal(reason(kubeconfigFromSecret(ref, { kubeconfig: http })), 'BadKubeconfig');
  assert.equal(reason(kubeconfigFromSecret(ref, { kubeconfig: good })), 'ok');
});
