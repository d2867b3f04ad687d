import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  emptyProgrammed,
  renderDelta,
  renderFull,
  renderPrefillChunks,
  renderPrefillDeclarations,
  setsToPrefill,
} from './render.js';
import { emptyChanges, emptyState } from './state.js';

test('a full sync flushes and refills what exists, creates what is missing, deletes leftovers last', () => {
  const desired = emptyState();
  desired.sets.set('peer-a', { declaration: 'type ipv4_addr;', elements: new Set(['10.0.0.1']) });
  desired.maps.set('ingress-eps', {
    declaration: 'type ipv4_addr : verdict;',
    elements: new Map([['10.0.0.2', 'jump prof-x']]),
  });
  desired.chains.set('forward', {
    hook: 'type filter hook forward priority filter; policy accept;',
    rules: ['ip daddr vmap @ingress-eps'],
  });
  desired.chains.set('prof-x', { rules: ['ip saddr @peer-a return', 'drop'] });
  const { text } = renderFull(desired, {
    table: true,
    sets: new Set(['peer-a', 'peer-stale']),
    maps: new Set(['ingress-eps']),
    chains: new Set(['forward', 'prof-stale']),
  });
  const lines = text.trim().split('\n');
  const at = (s: string) => lines.findIndex((l) => l.startsWith(s));
  assert.equal(lines[0], 'add table inet fedmesh');
  assert.ok(at('flush chain inet fedmesh prof-stale') < at('delete chain inet fedmesh prof-stale'));
  assert.ok(at('add chain inet fedmesh prof-x') < at('add element inet fedmesh ingress-eps'), 'a jump needs its chain');
  assert.ok(at('add element inet fedmesh ingress-eps') < at('add rule inet fedmesh forward'), 'a rule needs its map');
  assert.ok(at('add set inet fedmesh peer-a') < at('flush set inet fedmesh peer-a'));
  assert.equal(lines.at(-1), 'delete set inet fedmesh peer-stale');
});

test('a full sync empties every chain, set and map it writes, also one the read-back did not see', () => {
  // A delta that committed after the read-back (nft was slow to die) created prof-new: appending to it would put
  // that delta's rules (an older policy's return, say) before the new ones.
  const desired = emptyState();
  desired.sets.set('peer-a', { declaration: 'type ipv4_addr;', elements: new Set(['10.0.0.1']) });
  desired.maps.set('ingress-eps', { declaration: 'type ipv4_addr : verdict;', elements: new Map() });
  desired.chains.set('prof-new', { rules: ['drop'] });
  const { text } = renderFull(desired, { table: true, sets: new Set(), maps: new Set(), chains: new Set() });
  const lines = text.trim().split('\n');
  for (const [declare, flush] of [
    ['add chain inet fedmesh prof-new', 'flush chain inet fedmesh prof-new'],
    ['add set inet fedmesh peer-a', 'flush set inet fedmesh peer-a'],
    ['add map inet fedmesh ingress-eps', 'flush map inet fedmesh ingress-eps'],
  ] as const) {
    const d = lines.findIndex((l) => l.startsWith(declare));
    const f = lines.indexOf(flush);
    assert.ok(d >= 0 && f > d, `${declare} then ${flush}`);
  }
  assert.ok(lines.indexOf('flush chain inet fedmesh prof-new') < lines.indexOf('add rule inet fedmesh prof-new drop'));
});

test('a delta: set elements, then rules, then map elements, then chain and set deletions; commit only on success', () => {
  const desired = emptyState();
  desired.sets.set('peer-a', { declaration: 'type ipv4_addr;', elements: new Set(['10.0.0.3']) });
  desired.maps.set('ingress-eps', { declaration: 'type ipv4_addr : verdict;', elements: new Map() });
  const programmed = emptyProgrammed();
  programmed.sets.set('peer-a', 'type ipv4_addr;');
  programmed.sets.set('peer-old', 'type ipv4_addr;');
  programmed.maps.set('ingress-eps', new Map([['10.0.0.2', 'jump prof-x']]));
  programmed.chains.add('prof-x');
  const changes = emptyChanges();
  changes.sets.set('peer-a', { added: new Set(['10.0.0.3']), removed: new Set(['10.0.0.1']) });
  changes.sets.set('peer-old', { added: new Set(), removed: new Set() });
  changes.maps.set('ingress-eps', new Set(['10.0.0.2']));
  changes.chains.add('prof-x');
  const { text, commit } = renderDelta(desired, changes, programmed);
  assert.deepEqual(text.trim().split('\n'), [
    'delete element inet fedmesh peer-a { 10.0.0.1 }',
    'add element inet fedmesh peer-a { 10.0.0.3 }',
    'delete element inet fedmesh ingress-eps { 10.0.0.2 }',
    'flush chain inet fedmesh prof-x',
    'delete chain inet fedmesh prof-x',
    'delete set inet fedmesh peer-old',
  ]);
  assert.ok(programmed.chains.has('prof-x'), 'nothing is recorded before nft succeeded');
  commit();
  assert.ok(!programmed.chains.has('prof-x'));
  assert.ok(!programmed.sets.has('peer-old'));
  assert.equal(programmed.maps.get('ingress-eps')?.size, 0);
  assert.equal(renderDelta(desired, emptyChanges(), programmed).text, '');
});

test('an object of a wanted name and another shape is deleted, once nothing references it, and made anew', () => {
  const desired = emptyState();
  desired.sets.set('peers', { declaration: 'type ipv4_addr . mark;', elements: new Set(['10.0.0.1 . 0x00000001']) });
  desired.maps.set('ingress-eps', { declaration: 'type ipv4_addr : verdict;', elements: new Map() });
  desired.chains.set('forward', {
    hook: 'type filter hook forward priority filter; policy accept;',
    rules: ['ip daddr vmap @ingress-eps'],
  });
  desired.chains.set('prof-x', { rules: ['ip saddr . 0x00000001 @peers return', 'drop'] });
  const existing = {
    table: true,
    sets: new Set(['peers']),
    maps: new Set(['ingress-eps']),
    chains: new Set(['forward', 'prof-x']),
    // Left by hand or by another version: forward without its hook, peers of another key type.
    shapes: new Map([
      ['set peers', 'ipv4_addr . inet_service'],
      ['map ingress-eps', 'ipv4_addr : verdict'],
      ['chain forward', 'regular'],
      ['chain prof-x', 'regular'],
    ]),
  };
  const lines = renderFull(desired, existing).text.trim().split('\n');
  const at = (s: string) => lines.indexOf(s);
  assert.ok(at('delete chain inet fedmesh forward') > at('flush chain inet fedmesh forward'));
  assert.ok(at('delete chain inet fedmesh forward') > at('flush map inet fedmesh ingress-eps'));
  assert.ok(at('delete set inet fedmesh peers') > at('flush chain inet fedmesh prof-x'));
  assert.ok(
    at('add chain inet fedmesh forward { type filter hook forward priority filter; policy accept; }') >
      at('delete chain inet fedmesh forward'),
  );
  assert.ok(at('add set inet fedmesh peers { type ipv4_addr . mark; }') > at('delete set inet fedmesh peers'));
  assert.equal(at('delete chain inet fedmesh prof-x'), -1, 'a chain of the right shape is kept');
  assert.equal(at('delete map inet fedmesh ingress-eps'), -1);
  // The same table with the right shapes: nothing is deleted.
  existing.shapes.set('set peers', 'ipv4_addr . mark');
  existing.shapes.set('chain forward', 'filter hook forward policy accept');
  assert.ok(!renderFull(desired, existing).text.includes('delete '));
});

const noTable = { table: false, sets: new Set<string>(), maps: new Set<string>(), chains: new Set<string>() };
const tagged = (n: number, tag: number) =>
  Array.from({ length: n }, (_, i) => `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255} . 0x0000000${tag}`);

/** peers and big: large; small: below the threshold; ranges: large, but an interval set. */
function largeState() {
  const desired = emptyState();
  desired.sets.set('peers', { declaration: 'type ipv4_addr . mark;', elements: new Set(tagged(10_000, 1)) });
  desired.sets.set('small', { declaration: 'type ipv4_addr . mark;', elements: new Set(tagged(999, 2)) });
  desired.sets.set('big', { declaration: 'type ipv4_addr . mark;', elements: new Set(tagged(5_000, 3)) });
  desired.sets.set('ranges', {
    declaration: 'type ipv4_addr . mark; flags interval;',
    elements: new Set(tagged(5_000, 4)),
  });
  desired.chains.set('prof-x', { rules: ['ip saddr . (meta mark & 0x00000000 | 0x00000001) @peers return', 'drop'] });
  return desired;
}

test('a full sync loads the large plain sets the kernel lacks ahead: not small ones, interval ones or existing ones', () => {
  const desired = largeState();
  assert.deepEqual(setsToPrefill(desired, noTable, 1_000), ['peers', 'big']);
  const existing = { table: true, sets: new Set(['peers']), maps: new Set(['big']), chains: new Set<string>() };
  assert.deepEqual(setsToPrefill(desired, existing, 1_000), [], 'a set or map of that name is in the kernel');
  assert.deepEqual(setsToPrefill(desired, noTable, 20_000), [], 'none is large enough');
  assert.deepEqual(
    renderPrefillDeclarations(desired, ['peers', 'big']),
    'add table inet fedmesh\ncreate set inet fedmesh peers { type ipv4_addr . mark; }\ncreate set inet fedmesh big { type ipv4_addr . mark; }\n',
  );
});

test('prefill chunks hold every element of the set once, in slices of at most the chunk size, at least two', () => {
  const desired = largeState();
  const chunks = renderPrefillChunks(desired, ['peers', 'big'], 3_000);
  const bySet = new Map<string, string[][]>();
  for (const { set, text } of chunks) {
    const elements: string[] = [];
    for (const line of text.trim().split('\n')) {
      const m = /^add element inet fedmesh (\S+) \{ (.*) \}$/.exec(line);
      assert.ok(m, `only element lines: ${line.slice(0, 80)}`);
      assert.equal(m[1], set);
      elements.push(...m[2]!.split(', '));
    }
    bySet.set(set, [...(bySet.get(set) ?? []), elements]);
  }
  const peers = bySet.get('peers')!;
  assert.deepEqual(
    peers.map((c) => c.length),
    [2_500, 2_500, 2_500, 2_500],
    '10k elements in 4 equal slices of <= 3k',
  );
  assert.deepEqual(peers.flat().sort(), tagged(10_000, 1).sort(), 'each element once');
  assert.deepEqual(
    bySet.get('big')!.map((c) => c.length),
    [2_500, 2_500],
  );
  assert.deepEqual(
    renderPrefillChunks(desired, ['big'], 10_000).map((c) => c.text.split(', ').length),
    [2_500, 2_500],
    'a set within one chunk is still cut in two',
  );
});

test('the full transaction declares prefilled sets but neither flushes nor refills them; the others as always', () => {
  const desired = largeState();
  const { text, programmed } = renderFull(desired, noTable, new Set(['peers', 'big']));
  const lines = text.trim().split('\n');
  for (const name of ['peers', 'big']) {
    assert.ok(lines.includes(`add set inet fedmesh ${name} { type ipv4_addr . mark; }`), `${name} declared`);
    assert.ok(!lines.includes(`flush set inet fedmesh ${name}`), `${name} not flushed`);
    assert.ok(!lines.some((l) => l.startsWith(`add element inet fedmesh ${name} `)), `${name} not refilled`);
    assert.equal(programmed.sets.get(name), 'type ipv4_addr . mark;');
  }
  for (const name of ['small', 'ranges']) {
    assert.ok(lines.includes(`flush set inet fedmesh ${name}`));
    assert.ok(lines.some((l) => l.startsWith(`add element inet fedmesh ${name} `)));
  }
  assert.ok(lines.includes('add rule inet fedmesh prof-x drop'));
  // Without prefilled sets, as before.
  const whole = renderFull(desired, noTable).text.trim().split('\n');
  assert.ok(whole.includes('flush set inet fedmesh peers'));
  assert.equal(whole.filter((l) => l.startsWith('add element inet fedmesh peers ')).length, 3);
});
