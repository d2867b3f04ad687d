import assert from 'node:assert/strict';
import { test } from 'node:test';
import { KubeConfig } from '@kubernetes/client-node';
import { renderKubeconfig } from './kubeconfig.js';

test('a rendered kubeconfig loads in client-node with its inline CA and credentials', () => {
  const kc = new KubeConfig();
  kc.loadFromString(
    renderKubeconfig({
      cluster: 'west',
      server: 'https://127.0.0.1:6443',
      caPem: 'CA',
      user: 'fedmesh',
      credentials: { token: 'abc' },
      context: 'fedmesh-west',
    }),
  );
  assert.equal(kc.getCurrentContext(), 'fedmesh-west');
  assert.equal(kc.getCurrentCluster()?.server, 'https://127.0.0.1:6443');
  assert.equal(Buffer.from(kc.getCurrentCluster()?.caData ?? '', 'base64').toString(), 'CA');
  assert.equal(kc.getCurrentUser()?.token, 'abc');
  const cert = new KubeConfig();
  cert.loadFromString(
    renderKubeconfig({
      cluster: 'e',
      server: 'https://x',
      caPem: 'CA',
      user: 'admin',
      credentials: { certPem: 'C', keyPem: 'K' },
    }),
  );
  assert.equal(Buffer.from(cert.getCurrentUser()?.certData ?? '', 'base64').toString(), 'C');
  assert.equal(Buffer.from(cert.getCurrentUser()?.keyData ?? '', 'base64').toString(), 'K');
  assert.equal(cert.getCurrentContext(), 'e');
});
