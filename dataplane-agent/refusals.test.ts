import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pino } from 'pino';
import { Counter, Registry } from 'prom-client';
import { RefusalReporter } from './refusals.js';
import { remoteNodeEntry, remoteWorkloadEndpoint } from './sources.js';

function setup() {
  const registry = new Registry();
  const counter = new Counter({
    name: 'fedmesh_agent_remote_objects_refused_total',
    help: 'refused',
    labelNames: ['resource'],
    registers: [registry],
  });
  const lines: Record<string, unknown>[] = [];
  const log = pino({}, { write: (l: string) => lines.push(JSON.parse(l) as Record<string, unknown>) });
  let now = 0;
  const reporter = new RefusalReporter(counter, log, { warningsPerWindow: 2, windowMs: 60_000, now: () => now });
  const count = async (resource: string) =>
    (await counter.get()).values.find((v) => v.labels.resource === resource)?.value;
  return { registry, lines, reporter, count, advance: (ms: number) => (now += ms) };
}

const workload = (name: string, ips: unknown) => ({
  metadata: { name, namespace: 'shop', labels: { 'fedmesh.io/cluster': 'east', secret: 'hunter2' } },
  spec: { cluster: 'east', podName: 'web-0', ips },
});

test('an invalid remote workload is dropped, counted and named in a warning that quotes none of its values', async () => {
  const { lines, reporter, count } = setup();
  assert.equal(await count('remoteworkloads'), 0, 'the counter shows 0 before any refusal');
  assert.equal(await count('remotenodes'), 0);
  const convert = reporter.convert('remoteworkloads', (raw) => remoteWorkloadEndpoint(raw, 'west'));
  assert.equal(convert(workload('east.web-0', '10.244.0.5')), undefined);
  assert.equal(await count('remoteworkloads'), 1);
  assert.equal(lines.length, 1);
  assert.equal(lines[0]?.level, 40);
  assert.equal(lines[0]?.resource, 'remoteworkloads');
  assert.equal(lines[0]?.object, 'shop/east.web-0');
  assert.match(String(lines[0]?.reason), /RemoteWorkload schema .*ips\/type: must be array/);
  assert.doesNotMatch(JSON.stringify(lines[0]), /hunter2|10\.244\.0\.5/);
  // A valid one passes through, uncounted.
  assert.equal((convert(workload('east.web-1', ['10.244.0.6'])) as { name?: string }).name, 'web-0');
  assert.equal(await count('remoteworkloads'), 1);
});

test('refusals are all counted but warned about a few per minute; the next warning says how many were not', async () => {
  const { lines, reporter, count, advance } = setup();
  const convert = reporter.convert('remotenodes', (raw) => remoteNodeEntry(raw, 'west'));
  for (let i = 0; i < 10; i++) {
    assert.equal(
      convert({ metadata: { name: `east.n${i}`.padEnd(400, 'x') }, spec: { cluster: 'west', nodeName: 'n' } }),
      undefined,
    );
  }
  assert.equal(await count('remotenodes'), 10);
  assert.equal(lines.length, 2);
  assert.equal(String(lines[0]?.object).length, 253, 'a long name is cut');
  assert.match(String(lines[0]?.reason), /RemoteNode schema .*name\/maxLength/);
  advance(60_000);
  convert({ metadata: { name: 'east.late' }, spec: { cluster: 'west', nodeName: 'n' } });
  assert.equal(lines.length, 3);
  assert.equal(lines[2]?.object, 'east.late');
  assert.equal(lines[2]?.reason, 'claims to be of this cluster (west)');
  assert.equal(lines[2]?.suppressed, 8);
  assert.match(String(lines[2]?.msg), /8 more refused without a warning/);
  assert.equal(await count('remotenodes'), 11);
});
