import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import { createLogger } from './logger.js';

function capture(): { stream: Writable; lines: () => Record<string, unknown>[] } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      chunks.push(chunk.toString());
      cb();
    },
  });
  return {
    stream,
    lines: () =>
      chunks
        .join('')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l)),
  };
}

test('writes JSON with the component and context, and never a token or kubeconfig', () => {
  const out = capture();
  const log = createLogger('test', 'info', out.stream).child({ cluster: 'west' });
  log.info({ token: 'sekret', secret: { kubeconfig: 'apiVersion: v1 sekret' } }, 'connected');
  const [line] = out.lines();
  assert.equal(line?.component, 'test');
  assert.equal(line?.cluster, 'west');
  assert.equal(line?.msg, 'connected');
  assert.doesNotMatch(JSON.stringify(line), /sekret/);
});
