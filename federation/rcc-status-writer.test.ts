// A status write the local API server keeps refusing is retried with a growing wait, which state changes respect.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pino } from 'pino';
import type { KubeRestClient } from '../core/kube/rest-client.js';
import type { ClusterStatus } from './mesh-types.js';
import { RccStatusWriter } from './rcc-status-writer.js';

test('a refused status write backs off, and state changes meanwhile do not write sooner', async () => {
  let patches = 0;
  let refuse = true;
  const client = {
    async mergePatch() {
      patches++;
      if (refuse) throw new Error('500 InternalError: a webhook refused it');
      return {};
    },
  } as unknown as KubeRestClient;
  let state: ClusterStatus['state'] = 'InSync';
  const writer = new RccStatusWriter({
    name: 'west',
    client,
    log: pino({ enabled: false }),
    mayWrite: () => true,
    retryBackoff: { initialMs: 200, maxMs: 400, jitter: 0 },
    current: () => ({
      cluster: {
        cluster: 'west',
        local: false,
        state,
        reason: state,
        message: '',
        staleSince: null,
        withdrawn: false,
        lastSyncTime: null,
      },
      counts: { WorkloadEndpoint: 0, HostEndpoint: 0, Namespace: 0, Service: 0, EndpointSlice: 0 },
    }),
  });
  try {
    // A cluster flapping every 50 ms for 1.5 s: each change asks for an urgent write.
    for (let t = 0; t < 1500; t += 50) {
      state = state === 'InSync' ? 'ResyncInProgress' : 'InSync';
      writer.schedule(true);
      await new Promise((r) => setTimeout(r, 50));
    }
    // Tries at 0, 200, 600, 1000, 1400 ms; a write per change would be 30.
    assert.ok(patches >= 3 && patches <= 6, `${patches} writes in 1.5 s`);
    refuse = false;
    await new Promise((r) => setTimeout(r, 500)); // the pending retry succeeds
    const after = patches;
    state = state === 'InSync' ? 'ResyncInProgress' : 'InSync';
    writer.schedule(true);
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(patches, after + 1, 'after a success, a state change is written at once again');
  } finally {
    writer.stop();
  }
});
