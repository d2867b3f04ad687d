import assert from 'node:assert/strict';
import { test } from 'node:test';
import { hostChartArgs } from './chart-install.js';

const base = { clusterName: 'east', namespace: 'fedmesh-system', apiPort: 40123, caBundleFile: '/tmp/ca.crt' };

test('the testbed installs the chart for processes on the host, pinned to their port and CA', () => {
  const args = hostChartArgs('charts/fedmesh', base);
  assert.deepEqual(args.slice(0, 7), [
    'upgrade',
    '--install',
    'fedmesh',
    'charts/fedmesh',
    '--namespace',
    'fedmesh-system',
    '--create-namespace',
  ]);
  const sets = args.filter((_, i) => args[i - 1] === '--set');
  assert.ok(sets.includes('cluster.name=east'));
  assert.ok(sets.includes('externalProcessHost=127.0.0.1'));
  assert.ok(sets.includes('server.service.port=40123'));
  assert.ok(sets.includes('tls.mode=provided'));
  assert.ok(args.includes('tls.provided.caBundle=/tmp/ca.crt'));
});

test('without a webhooks process the webhook configuration is left out (it would refuse every policy write)', () => {
  const without = hostChartArgs('c', base);
  assert.ok(without.includes('webhooks.enabled=false'));
  assert.ok(without.includes('tests.webhooks=false'));
  const withPort = hostChartArgs('c', { ...base, webhooksPort: 40124 });
  assert.ok(withPort.includes('webhooks.service.port=40124'));
  assert.ok(!withPort.includes('webhooks.enabled=false'));
});
