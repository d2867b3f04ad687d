import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  deriveClusterState,
  initialResourceState,
  nextResourceState,
  type ResourceEvent,
  type ResourceFailure,
  type ResourceState,
} from './cluster-state.js';
import { resourceWithdrawals } from './stale-policy.js';

const forbiddenWatch: ResourceFailure = {
  verb: 'watch',
  reason: 'Forbidden',
  message: 'missing permission: watch pods',
};
const forbiddenList: ResourceFailure = { ...forbiddenWatch, verb: 'list', message: 'missing permission: list pods' };

/** A short name per state, for the table: phase, then l (listed), f (failing), w (withdrawn). */
function short(s: ResourceState): string {
  return `${s.phase}${s.listed ? ' l' : ''}${s.failure ? ` f:${s.failure.verb}` : ''}${s.withdrawn ? ' w' : ''}`;
}

const ev = {
  listing: { type: 'listing' },
  listed: { type: 'listed' },
  watching: { type: 'watching' },
  watchFailed: { type: 'failed', failure: forbiddenWatch },
  listFailed: { type: 'failed', failure: forbiddenList },
  withdrawn: { type: 'withdrawn' },
} as const satisfies Record<string, ResourceEvent>;

test('a resource machine: the transition table', () => {
  // [events from the initial state, the state after the last one] — docs/federation-api.md has the same rows.
  const rows: [(keyof typeof ev)[], string][] = [
    [[], 'Pending'],
    [['listing'], 'Listing'],
    [['listing', 'listed'], 'Listing l'],
    [['listing', 'listed', 'watching'], 'Watching l'],
    [['listing', 'listFailed'], 'Failed f:list'],
    [['listing', 'listFailed', 'listing', 'listed'], 'Listing l'],
    // A grant with list but not watch: the list works, the watch is refused; the failure stays until a watch is
    // accepted, so the state does not flap.
    [['listing', 'listed', 'watchFailed'], 'Failed l f:watch'],
    [['listing', 'listed', 'watchFailed', 'listing', 'listed'], 'Listing l f:watch'],
    [['listing', 'listed', 'watchFailed', 'watching'], 'Watching l'],
    [['listing', 'listed', 'watchFailed', 'withdrawn'], 'Failed l f:watch w'],
    [['listing', 'listed', 'watchFailed', 'withdrawn', 'listing', 'listed'], 'Listing l f:watch'],
    [['listing', 'listed', 'watchFailed', 'withdrawn', 'listing', 'listed', 'watching'], 'Watching l'],
  ];
  for (const [events, expected] of rows) {
    let s = initialResourceState('pods');
    for (const e of events) s = nextResourceState(s, ev[e], 0);
    assert.equal(short(s), expected, events.join(' → '));
  }
});

test('a resource machine: failingSince is the first failure of a run, cleared when it works again', () => {
  let s = initialResourceState('pods');
  s = nextResourceState(s, ev.listed, 0);
  s = nextResourceState(s, ev.watchFailed, 100);
  s = nextResourceState(s, ev.watchFailed, 900);
  assert.equal(s.failingSince, 100);
  s = nextResourceState(s, ev.watching, 1000);
  assert.equal(s.failingSince, null);
});

const state = (resource: string, over: Partial<ResourceState>): ResourceState => ({
  ...initialResourceState(resource),
  ...over,
});
const watching = (r: string) => state(r, { phase: 'Watching', listed: true });

test('the cluster state from its resources: the table', () => {
  const rows: [string, ResourceState[], string, RegExp][] = [
    ['nothing listed yet', [state('pods', {}), state('nodes', {})], 'Connecting', /connecting/],
    ['some listed', [watching('pods'), state('nodes', { phase: 'Listing' })], 'ResyncInProgress', /listing nodes/],
    ['every one listed and watched', [watching('pods'), watching('nodes')], 'InSync', /every resource/],
    [
      'listed but not yet watching',
      [watching('pods'), state('nodes', { phase: 'Listing', listed: true })],
      'ResyncInProgress',
      /listing nodes/,
    ],
    [
      'the watch of one refused',
      [state('pods', { phase: 'Failed', listed: true, failure: forbiddenWatch }), watching('nodes')],
      'ConnectionFailed',
      /missing permission: watch pods/,
    ],
    [
      'relisting while its watch is refused stays failed',
      [state('pods', { phase: 'Listing', listed: true, failure: forbiddenWatch }), watching('nodes')],
      'ConnectionFailed',
      /watch pods/,
    ],
  ];
  for (const [name, resources, expected, message] of rows) {
    const d = deriveClusterState(undefined, resources);
    assert.equal(d.state, expected, name);
    assert.match(d.message, message, name);
  }
  assert.equal(
    deriveClusterState({ reason: 'SecretNotFound', message: 'm' }, [watching('pods')]).state,
    'ConfigIncomplete',
  );
});

test('Withdraw removes only the resources failing longer than the ttl; Retain none', () => {
  const resources = [
    state('pods', { phase: 'Failed', listed: true, failure: forbiddenWatch, failingSince: 1000 }),
    state('services', { phase: 'Failed', listed: true, failure: forbiddenWatch, failingSince: 4000 }),
    watching('nodes'),
    state('namespaces', { phase: 'Failed', listed: true, failure: forbiddenWatch, failingSince: 0, withdrawn: true }),
  ];
  assert.deepEqual(resourceWithdrawals({ mode: 'Withdraw', ttlMs: 3000 }, resources, 4500), {
    withdraw: ['pods'],
    recheckMs: 2500,
  });
  assert.deepEqual(resourceWithdrawals({ mode: 'Retain', ttlMs: 3000 }, resources, 99_999), {
    withdraw: [],
    recheckMs: undefined,
  });
});
