import assert from 'node:assert/strict';
import { test } from 'node:test';
import { filtersNothing } from './agent.js';

const read = (sets: string[], chains: string[]) => ({
  table: true,
  sets: new Set(sets),
  maps: new Set<string>(),
  chains: new Set(chains),
});

test('a kernel whose fedmesh table has no forward chain filters nothing: local policy need not wait', () => {
  assert.equal(filtersNothing({ table: false, sets: new Set(), maps: new Set(), chains: new Set() }), true);
  // What an agent stopped between creating peers (to stream it) and its first full sync leaves.
  assert.equal(filtersNothing(read(['peers'], [])), true);
  assert.equal(filtersNothing(read(['peers'], ['prof-abc'])), true, 'a chain nothing jumps to filters nothing');
  assert.equal(filtersNothing(read(['peers'], ['forward', 'prof-abc'])), false);
});
