import assert from 'node:assert/strict';
import { getPriority } from 'node:os';
import { test } from 'node:test';
import { runTool } from './exec.js';

// Field 19 of /proc/<pid>/stat is the niceness; the tool waits a moment so that it reads it after the change.
const niceOfSelf = ['-c', 'sleep 0.3; cut -d" " -f19 /proc/$$/stat'];

test("a tool can be started at a lower priority than the agent; by default it keeps the agent's", async () => {
  const own = getPriority();
  const niced = await runTool('sh', niceOfSelf, '', { niceness: Math.min(19, own + 10) });
  assert.equal(niced.code, 0, niced.stderr);
  assert.equal(Number(niced.stdout.trim()), Math.min(19, own + 10));
  const plain = await runTool('sh', niceOfSelf);
  assert.equal(Number(plain.stdout.trim()), own);
});
