import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Counter, Histogram, Registry } from 'prom-client';
import { TalliedCounter, TalliedHistogram } from './tallied-metrics.js';

const BUCKETS = [0.0005, 0.001, 0.002, 0.005, 0.01, 0.05, 0.25, 1];

// The same observations through prom-client's own labelled series and through the tallied ones must read the same:
// the text a scrape gets and the JSON.
function pair() {
  const stock = new Registry();
  const tallied = new Registry();
  const config = { name: 'x_total', help: 'h', labelNames: ['webhook', 'outcome'] as const };
  const hConfig = { name: 'd_seconds', help: 'h2', labelNames: ['webhook'] as const, buckets: BUCKETS };
  const c1 = new Counter({ ...config, registers: [stock] });
  const h1 = new Histogram({ ...hConfig, registers: [stock] });
  const c2 = new TalliedCounter({ ...config, registers: [tallied] });
  const h2 = new TalliedHistogram({ ...hConfig, registers: [tallied] });
  const counters: { stock: { inc(): void }; tallied: { inc(): void } }[] = [];
  const histograms: { stock: { observe(v: number): void }; tallied: { observe(v: number): void } }[] = [];
  for (const webhook of ['networkpolicies', 'services']) {
    for (const outcome of ['allowed', 'denied']) {
      c1.inc({ webhook, outcome }, 0);
      counters.push({ stock: c1.labels(webhook, outcome), tallied: c2.series({ webhook, outcome }) });
    }
    h1.zero({ webhook });
    histograms.push({ stock: h1.labels(webhook), tallied: h2.series({ webhook }) });
  }
  return { stock, tallied, counters, histograms, c1, c2, h1, h2 };
}

async function assertSame(p: ReturnType<typeof pair>) {
  assert.equal(await p.tallied.metrics(), await p.stock.metrics());
  assert.deepEqual(await p.tallied.getMetricsAsJSON(), await p.stock.getMetricsAsJSON());
}

test('tallied counter and histogram read exactly as prom-client series fed the same', async () => {
  const p = pair();
  await assertSame(p); // all series at 0
  const values = [0.0001, 0.0005, 0.00051, 0.003, 0.2, 0.9999, 1, 1.5, 7, 0.0123456789, 0];
  for (let i = 0; i < 200; i++) {
    p.counters[(i * 7) % p.counters.length]!.stock.inc();
    p.counters[(i * 7) % p.counters.length]!.tallied.inc();
    const v = values[i % values.length]! * (1 + i / 1000);
    p.histograms[i % 3 === 0 ? 1 : 0]!.stock.observe(v);
    p.histograms[i % 3 === 0 ? 1 : 0]!.tallied.observe(v);
    if (i % 50 === 0) await assertSame(p); // reading in between changes nothing
  }
  await assertSame(p);
  assert.match(await p.tallied.metrics(), /x_total\{webhook="networkpolicies",outcome="allowed"\} \d+/);
  assert.match(await p.tallied.metrics(), /d_seconds_bucket\{le="0\.0005",webhook="networkpolicies"\} \d+/);
});

test('tallied series: reset empties them as it empties prom-client series; counting goes on after', async () => {
  const p = pair();
  p.counters[0]!.stock.inc();
  p.counters[0]!.tallied.inc();
  p.histograms[0]!.stock.observe(0.003);
  p.histograms[0]!.tallied.observe(0.003);
  p.c1.reset();
  p.c2.reset();
  p.h1.reset();
  p.h2.reset();
  await assertSame(p);
  p.counters[1]!.stock.inc();
  p.counters[1]!.tallied.inc();
  p.histograms[1]!.stock.observe(0.02);
  p.histograms[1]!.tallied.observe(0.02);
  await assertSame(p);
  assert.throws(() => p.histograms[0]!.tallied.observe(Number.NaN), TypeError);
});
