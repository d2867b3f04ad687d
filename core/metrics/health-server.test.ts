import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Counter, Registry } from 'prom-client';
import { createLogger } from '../log/logger.js';
import { HealthChecks } from './health-checks.js';
import { startHealthServer } from './health-server.js';

test('the plain metrics port renders health as the API server does, and serves /metrics', async () => {
  let ready = false;
  const registry = new Registry();
  new Counter({ name: 'fedmesh_test_total', help: 'a counter', registers: [registry] }).inc();
  const server = await startHealthServer({
    host: '127.0.0.1',
    port: 0,
    registry,
    log: createLogger('test', 'error'),
    checks: new HealthChecks().addReadiness('rcc-informer-synced', () => (ready ? undefined : 'secret detail')),
  });
  const get = async (path: string, method = 'GET') => {
    const r = await fetch(`http://127.0.0.1:${server.port}${path}`, { method });
    return { status: r.status, body: await r.text(), type: r.headers.get('content-type') };
  };
  try {
    assert.deepEqual(await get('/healthz'), { status: 200, body: 'ok', type: 'text/plain; charset=utf-8' });
    const notReady = await get('/readyz');
    assert.equal(notReady.status, 500);
    assert.equal(notReady.body, '[+]ping ok\n[-]rcc-informer-synced failed: reason withheld\nreadyz check failed\n');
    assert.equal((await get('/readyz?exclude=rcc-informer-synced')).status, 200);
    assert.equal((await get('/readyz/rcc-informer-synced')).status, 500);
    ready = true;
    assert.equal((await get('/readyz/')).body, 'ok');
    assert.equal((await get('/livez?verbose')).body, '[+]ping ok\nlivez check passed\n');
    assert.equal((await get('/readyz/nope')).status, 404);
    assert.equal((await get('/readyz', 'POST')).status, 405);
    assert.match((await get('/metrics')).body, /fedmesh_test_total 1/);
  } finally {
    await server.close();
  }
});
