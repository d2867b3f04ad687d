import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runCommand } from './run-command.js';

test('a command that exits without reading its input gives its exit code, never an EPIPE error', async () => {
  // 4 MiB: more than a pipe holds, so the write is still going when the command has exited.
  const input = 'x'.repeat(4 * 1024 * 1024);
  for (let i = 0; i < 5; i++) {
    const r = await runCommand('sh', ['-c', 'exit 3'], { input });
    assert.equal(r.code, 3);
  }
});
