import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runFuzz } from './fuzz-bodies.js';
import { newAgent, post, startTestServer } from './test-support.js';

// A few thousand mutated AdmissionReviews against the real express+https server (bench/webhook-fuzz.ts runs 100k).
test('mutated AdmissionReviews: no crash, no 5xx, every AdmissionReview answered with its uid, bounded memory', async () => {
  const { server, ca } = await startTestServer();
  const agent = newAgent(ca, 16);
  try {
    const stats = await runFuzz({
      seed: 12,
      count: 3000,
      concurrency: 16,
      send: (c) => post(agent, server.port, c.path, c.body),
    });
    assert.deepEqual(stats.violations.slice(0, 10), []);
    assert.ok((stats.byStatus['200'] ?? 0) > 500, JSON.stringify(stats.byStatus));
    assert.ok((stats.byStatus['400'] ?? 0) > 500, JSON.stringify(stats.byStatus));
    assert.ok(stats.rssGrowthMiB < 400, `RSS grew ${stats.rssGrowthMiB.toFixed(0)} MiB`);
    // Still serving normally afterwards.
    const r = await post(agent, server.port, '/validate/networkpolicies', '{}');
    assert.equal(r.status, 400);
  } finally {
    agent.destroy();
    await server.close();
  }
});
