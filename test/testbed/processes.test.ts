import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createServer, type Server } from 'node:net';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { freePort, PORTS_PER_SLOT, SLOT_PORTS_FROM } from './processes.js';

const processesModule = fileURLToPath(new URL('./processes.js', import.meta.url));

test('freePort never hands out one port twice in a process', async () => {
  const ports = [];
  for (let i = 0; i < 300; i++) ports.push(await freePort());
  assert.equal(new Set(ports).size, ports.length);
});

test("with a slot, ports come from the slot's own range, skip taken ones, and children do not inherit the slot", async () => {
  const from = SLOT_PORTS_FROM + 5 * PORTS_PER_SLOT;
  // Someone else holds the first port of slot 5.
  const holder: Server = createServer();
  await new Promise<void>((r) => holder.listen(from, '127.0.0.1', r));
  try {
    const script = `
      const { freePort } = await import(${JSON.stringify(processesModule)});
      const ports = [];
      for (let i = 0; i < 5; i++) ports.push(await freePort());
      console.log(JSON.stringify({ ports, inherited: process.env.FEDMESH_PORT_SLOT ?? null }));`;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
      env: { ...process.env, FEDMESH_PORT_SLOT: '5' },
      encoding: 'utf8',
    });
    assert.equal(r.status, 0, r.stderr);
    const out = JSON.parse(r.stdout) as { ports: number[]; inherited: string | null };
    assert.deepEqual(out.ports, [from + 1, from + 2, from + 3, from + 4, from + 5]);
    assert.equal(out.inherited, null);
  } finally {
    holder.close();
  }
});
