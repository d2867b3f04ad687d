import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Registry } from 'prom-client';
import { DURATION_BATCH, webhookMetrics } from './review-metrics.js';

async function histogram(registry: Registry, webhook: string) {
  const text = await registry.getSingleMetricAsString('fedmesh_webhook_review_duration_seconds');
  const value = (suffix: string, extra = '') =>
    Number(
      new RegExp(
        `fedmesh_webhook_review_duration_seconds_${suffix}\\{${extra}webhook="${webhook}"\\} ([0-9.e-]+)`,
      ).exec(text)?.[1],
    );
  return { count: value('count'), sum: value('sum'), under1ms: value('bucket', 'le="0.001",') };
}

async function reviews(registry: Registry, webhook: string, outcome: string) {
  const text = await registry.getSingleMetricAsString('fedmesh_webhook_reviews_total');
  return Number(new RegExp(`\\{webhook="${webhook}",outcome="${outcome}"\\} (\\d+)`).exec(text)?.[1]);
}

test('a scrape sees every review counted and timed before it, fewer or more than a batch', async () => {
  const registry = new Registry();
  const series = webhookMetrics(registry).series.get('networkpolicies')!;
  assert.deepEqual(await histogram(registry, 'networkpolicies'), { count: 0, sum: 0, under1ms: 0 });
  assert.equal(await reviews(registry, 'services', 'error'), 0);

  for (let i = 0; i < 3; i++) series.time(0.000244140625);
  series.count('allowed');
  series.count('allowed');
  series.count('denied');
  assert.deepEqual(await histogram(registry, 'networkpolicies'), { count: 3, sum: 0.000732421875, under1ms: 3 });
  assert.equal(await reviews(registry, 'networkpolicies', 'allowed'), 2);
  assert.equal(await reviews(registry, 'networkpolicies', 'denied'), 1);

  // (Durations are powers of two: their sums are exact.) More than a batch: the first DURATION_BATCH go over on their own, the rest at the scrape; none twice.
  for (let i = 0; i < DURATION_BATCH + 5; i++) series.time(0.00390625);
  series.count('allowed');
  const h = await histogram(registry, 'networkpolicies');
  assert.equal(h.count, 3 + DURATION_BATCH + 5);
  assert.equal(h.under1ms, 3);
  assert.ok(Math.abs(h.sum - (0.000732421875 + 0.00390625 * (DURATION_BATCH + 5))) < 1e-9, String(h.sum));
  assert.equal(await reviews(registry, 'networkpolicies', 'allowed'), 3);
  // A second scrape with nothing new changes nothing.
  assert.equal((await histogram(registry, 'networkpolicies')).count, 3 + DURATION_BATCH + 5);
  assert.equal(await reviews(registry, 'networkpolicies', 'allowed'), 3);
});
