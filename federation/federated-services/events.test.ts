import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Registry } from 'prom-client';
import type { KubeRestClient } from '../../core/kube/rest-client.js';
import type { Logger } from '../../core/log/logger.js';
import { TokenBuckets } from './event-rate-limit.js';
import { EventRecorder, type InvolvedObject, type Warning } from './events.js';
import { federatedServicesMetrics } from './metrics.js';

const nolog = { warn() {} } as unknown as Logger;
const involved = async (): Promise<InvolvedObject> => ({
  apiVersion: 'v1',
  kind: 'Service',
  namespace: 'shop',
  name: 'api',
  uid: 'u',
});
const conflict: Warning[] = [{ reason: 'PortProtocolConflict', message: 'port "http" is TCP here but UDP in west' }];

function recorder() {
  const posts: { reason: string }[] = [];
  const client = {
    create: async (_path: string, body: { reason: string }) => {
      posts.push(body);
      return {};
    },
  } as unknown as KubeRestClient;
  let now = 1_000_000;
  const registry = new Registry();
  const metrics = federatedServicesMetrics(registry);
  const rec = new EventRecorder(client, nolog, 'x', metrics, undefined, () => now);
  return { rec, posts, registry, advance: (ms: number) => (now += ms) };
}

test('a remote cluster flipping a warning 10,000 times writes at most the burst of Events, the rest counted', async () => {
  const { rec, posts, registry, advance } = recorder();
  for (let i = 0; i < 10_000; i++) await rec.report('shop/api', i % 2 ? conflict : [], involved);
  assert.equal(posts.length, 25);
  const suppressed = await registry.getSingleMetricAsString('fedmesh_federated_service_events_suppressed_total');
  assert.match(suppressed, /reason="PortProtocolConflict"} 4975/);
  // The last flip left the warning on, held back: it is written once a token is earned, while it lasts.
  await rec.report('shop/api', conflict, involved);
  assert.equal(posts.length, 25);
  advance(5 * 60_000);
  await rec.report('shop/api', conflict, involved);
  await rec.report('shop/api', conflict, involved);
  assert.equal(posts.length, 26, 'one more after 5 minutes, and the same warning only once');
});

test('the limit is per object and reason', async () => {
  const { rec, posts } = recorder();
  for (let i = 0; i < 100; i++) await rec.report('shop/api', i % 2 ? conflict : [], involved);
  for (let i = 0; i < 100; i++) await rec.report('shop/web', i % 2 ? conflict : [], involved);
  const other: Warning[] = [{ reason: 'PortNotMatched', message: 'port "grpc" matches nothing' }];
  for (let i = 0; i < 100; i++) await rec.report('shop/api', i % 2 ? other : [], involved);
  assert.equal(posts.length, 75);
});

test('token buckets forget idle keys and keep at most maxKeys', () => {
  const b = new TokenBuckets({ burst: 2, refillMs: 1000, maxKeys: 100 });
  for (let i = 0; i < 1000; i++) assert.equal(b.take(`k${i}`, 0), true);
  assert.equal(b.size, 100, 'the least recently used go past maxKeys');
  assert.equal(b.take('a', 0), true);
  assert.equal(b.take('a', 0), true);
  assert.equal(b.take('a', 0), false, 'the burst is spent');
  assert.equal(b.take('a', 999), false);
  assert.equal(b.take('a', 1000), true, 'one earned per refill period');
  b.take('z', 10_000); // every other key has refilled by now: forgotten
  assert.equal(b.size, 1);
});
