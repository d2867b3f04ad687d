import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { checkListPage, parseWatchLine } from './watch-event.js';

test('watch lines: events pass, anything else is a problem that says what it is', () => {
  const ok = parseWatchLine('{"type":"ADDED","object":{"metadata":{"name":"a","resourceVersion":"3"}}}');
  assert.ok('event' in ok && ok.event.type === 'ADDED');
  const notJson = parseWatchLine('<html><body>502 Bad Gateway</body></html>');
  assert.ok('problem' in notJson);
  assert.match(notJson.problem, /not JSON \(<html><body>502 Bad Gateway/);
  const long = parseWatchLine(`x${'y'.repeat(5000)}`);
  assert.ok('problem' in long && long.problem.length < 200, 'a long line is not quoted whole');
  for (const bad of [
    'null',
    '[]',
    '"s"',
    '{"type":"ADDED"}',
    '{"type":"X","object":{}}',
    '{"type":"ADDED","object":[]}',
  ]) {
    assert.ok('problem' in parseWatchLine(bad), bad);
  }
  assert.ok('problem' in parseWatchLine('{"type":"ADDED","object":{"metadata":{"resourceVersion":7}}}'));
});

test('fuzz: no line makes the parser throw; what it accepts has a known type and an object', () => {
  const line = fc.oneof(
    fc.string(),
    fc.jsonValue().map((v) => JSON.stringify(v)),
    fc
      .record({
        type: fc.oneof(fc.constantFrom('ADDED', 'MODIFIED', 'DELETED', 'BOOKMARK', 'ERROR'), fc.string()),
        object: fc.jsonValue(),
      })
      .map((v) => JSON.stringify(v)),
  );
  fc.assert(
    fc.property(line, (l) => {
      const r = parseWatchLine(l);
      if ('event' in r) {
        assert.ok(['ADDED', 'MODIFIED', 'DELETED', 'BOOKMARK', 'ERROR'].includes(r.event.type));
        assert.ok(typeof r.event.object === 'object' && r.event.object !== null && !Array.isArray(r.event.object));
      } else assert.ok(r.problem.length > 0);
    }),
    { numRuns: 2000 },
  );
});

test('list pages: items must be objects', () => {
  assert.ok('page' in checkListPage({ metadata: { resourceVersion: '1' }, items: [{}] }));
  assert.ok('page' in checkListPage({ items: null }));
  assert.ok('problem' in checkListPage('<html>'));
  assert.ok('problem' in checkListPage({ items: 'abc' }));
  assert.ok('problem' in checkListPage({ items: [1] }));
  assert.ok('problem' in checkListPage({ metadata: { continue: 5 } }));
});
