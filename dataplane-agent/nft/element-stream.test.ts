import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ToolResult } from '../exec.js';
import { ElementStream } from './element-stream.js';

/** A stand-in for starting nft: records each text, answers when told. */
function fakeNft() {
  const started: { text: string; beside: boolean; answer: (r: ToolResult) => void }[] = [];
  let running = 0;
  let most = 0;
  const start = (text: string, beside: boolean) =>
    new Promise<ToolResult>((resolve) => {
      running++;
      most = Math.max(most, running);
      started.push({
        text,
        beside,
        answer: (r) => {
          running--;
          resolve(r);
        },
      });
    });
  const ok = { code: 0, stdout: '', stderr: '' };
  /** Answers every transaction started and not answered yet, until none is left (the stream starts more). */
  const answerAll = async (r: ToolResult = ok) => {
    for (let i = 0; i < 100; i++) {
      const open = started.filter((s) => !('done' in s));
      if (open.length === 0) await new Promise((res) => setImmediate(res));
      for (const s of open) {
        Object.assign(s, { done: true });
        s.answer(r);
      }
      await new Promise((res) => setImmediate(res));
    }
  };
  const elementsOf = (text: string) => /\{ (.*) \}/.exec(text)?.[1]?.split(', ') ?? [];
  return { started, start, answerAll, elementsOf, most: () => most };
}

test('elements go out in chunks as they come, at most N at once while the producer runs, the rest at the close', async () => {
  const nft = fakeNft();
  const stream = new ElementStream('peers', nft.start, { chunkElements: 2, concurrency: 2 });
  for (let i = 1; i <= 9; i++) stream.add(`10.0.0.${i} . 0x00000001`);
  // Synchronously, with no answer yet: two chunks started, the rest waits.
  assert.equal(nft.started.length, 2);
  assert.match(
    nft.started[0]!.text,
    /^add element inet fedmesh peers \{ 10\.0\.0\.1 \. 0x00000001, 10\.0\.0\.2 \. 0x00000001 \}\n$/,
  );
  const closed = stream.close();
  assert.equal(closed.count, 9);
  assert.deepEqual(closed.removed, []);
  stream.add('10.0.0.99 . 0x00000001'); // after the close: the next delta's, never the stream's
  await nft.answerAll();
  assert.deepEqual(await closed.done, { chunks: 5 });
  assert.equal(nft.most(), 2, 'never more than two at once');
  assert.deepEqual(
    nft.started.map((s) => s.beside),
    [true, true, false, false, false],
    'beside the calculation (at a lower priority) only while it runs',
  );
  const sent = nft.started.flatMap((s) => nft.elementsOf(s.text));
  assert.deepEqual(sent.sort(), Array.from({ length: 9 }, (_, i) => `10.0.0.${i + 1} . 0x00000001`).sort());
});

test('an element is sent once: removed after it was sent, it is deleted at the close; added again, it stays', async () => {
  const nft = fakeNft();
  const stream = new ElementStream('peers', nft.start, { chunkElements: 2, concurrency: 4 });
  stream.add('a');
  stream.add('b'); // sent
  stream.remove('a');
  stream.add('c');
  stream.remove('c'); // queued, then removed: sent at the close and deleted after it
  stream.remove('b');
  stream.add('b'); // back: still there, not sent again
  const closed = stream.close();
  assert.equal(closed.count, 1);
  assert.deepEqual([...closed.removed].sort(), ['a', 'c']);
  await nft.answerAll();
  await closed.done;
  assert.deepEqual(
    nft.started.flatMap((s) => nft.elementsOf(s.text)),
    ['a', 'b', 'c'],
    'every element once, and removals are never sent during the stream',
  );
});

test('a refused chunk fails the close, after every chunk already started has ended, and no chunk starts after it', async () => {
  const nft = fakeNft();
  const stream = new ElementStream('peers', nft.start, { chunkElements: 1, concurrency: 2 });
  for (const el of ['a', 'b', 'c', 'd']) stream.add(el);
  const closed = stream.close();
  let settled = false;
  const mark = () => {
    settled = true;
  };
  closed.done.then(mark, mark);
  nft.started[0]!.answer({ code: 1, stdout: '', stderr: 'Error: Could not process rule: Invalid argument\n' });
  await new Promise((r) => setImmediate(r));
  assert.equal(settled, false, 'the second chunk is still running');
  nft.started[1]!.answer({ code: 0, stdout: '', stderr: '' });
  await assert.rejects(
    closed.done,
    /loading set peers while it was computed, chunk 1: nft -f refused it: Error: Could not process rule/,
  );
  assert.equal(nft.started.length, 2, 'nothing started after the refusal');
});
