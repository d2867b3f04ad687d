import assert from 'node:assert/strict';
import { test } from 'node:test';
import { emptyProgrammed, renderDelta, renderFull } from './render.js';
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
