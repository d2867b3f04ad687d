import type { InformerVerb } from '../core/kube/resilient-informer.js';
import type { ClassifiedFailure } from './connection-error.js';
import type { ClusterState } from './mesh-types.js';

// The state machine of a connection to a cluster, as pure functions: one small machine per watched resource,
// and the cluster's state derived from them and from its configuration. docs/federation-api.md ("Remote
// connection state machine") draws the same tables; cluster-state.test.ts checks them row by row.

/** Where one resource's informer is. */
export type ResourcePhase = 'Pending' | 'Listing' | 'Watching' | 'Failed';

/** A failure and the request that failed: it is cleared only when that same verb succeeds again. */
export interface ResourceFailure extends ClassifiedFailure {
  readonly verb: InformerVerb;
}

export interface ResourceState {
  readonly resource: string;
  readonly phase: ResourcePhase;
  /** A full list completed since the connection started (its objects are in the cache). */
  readonly listed: boolean;
  /** The last failure, kept while retries fail so that the state does not flap. */
  readonly failure: ResourceFailure | undefined;
  /** When the first of the current run of failures happened (ms); null while the resource is current. */
  readonly failingSince: number | null;
  /** Its objects were removed after the stale ttl: the next list brings them back. */
  readonly withdrawn: boolean;
}

export type ResourceEvent =
  | { readonly type: 'listing' }
  | { readonly type: 'listed' }
  | { readonly type: 'watching' }
  | { readonly type: 'failed'; readonly failure: ResourceFailure }
  | { readonly type: 'withdrawn' };

export function initialResourceState(resource: string): ResourceState {
  return { resource, phase: 'Pending', listed: false, failure: undefined, failingSince: null, withdrawn: false };
}

/** One transition of a resource's machine; `now` in ms. */
export function nextResourceState(s: ResourceState, ev: ResourceEvent, now: number): ResourceState {
  switch (ev.type) {
    case 'listing':
      return { ...s, phase: 'Listing' };
    case 'listed':
      // A list that works does not prove that the watch does (a grant with list but not watch).
      return s.failure?.verb === 'list'
        ? { ...s, listed: true, withdrawn: false, failure: undefined, failingSince: null }
        : { ...s, listed: true, withdrawn: false };
    case 'watching':
      return { ...s, phase: 'Watching', failure: undefined, failingSince: null };
    case 'failed':
      return { ...s, phase: 'Failed', failure: ev.failure, failingSince: s.failingSince ?? now };
    case 'withdrawn':
      return { ...s, withdrawn: true };
  }
}

/** True while a resource's objects in the cache are complete and kept current. */
export function isCurrent(s: ResourceState): boolean {
  return s.listed && s.phase === 'Watching' && s.failure === undefined;
}

/** A problem with the configuration itself: nothing can be tried until it changes. */
export interface ConfigProblem {
  readonly reason: string;
  readonly message: string;
}

export interface DerivedState {
  readonly state: ClusterState;
  readonly reason: string;
  readonly message: string;
}

/** The order a message lists failures in: the one a user must fix first comes first. */
const reasonRank: Record<string, number> = {
  TLSError: 0,
  Unauthorized: 1,
  Unreachable: 2,
  Forbidden: 3,
  TooManyRequests: 4,
  ServerError: 5,
  BadResponse: 6,
  Error: 7,
};

/** The state of a cluster's connection, from its configuration and its resources' machines. */
export function deriveClusterState(
  config: ConfigProblem | undefined,
  resources: readonly ResourceState[],
): DerivedState {
  if (config) return { state: 'ConfigIncomplete', reason: config.reason, message: config.message };
  const failures = resources
    .filter((r) => r.failure)
    .map((r) => r.failure as ResourceFailure)
    .sort((a, b) => (reasonRank[a.reason] ?? 9) - (reasonRank[b.reason] ?? 9));
  const first = failures[0];
  if (first) {
    // Forbidden names every missing permission (and so does a bad answer, per resource); other causes are the
    // same for every resource, say it once.
    const perResource = first.reason === 'Forbidden' || first.reason === 'BadResponse';
    const messages = perResource
      ? [...new Set(failures.filter((f) => f.reason === first.reason).map((f) => f.message))]
      : [first.message];
    return { state: 'ConnectionFailed', reason: first.reason, message: messages.join('; ') };
  }
  if (resources.length > 0 && resources.every(isCurrent)) {
    return { state: 'InSync', reason: 'InSync', message: 'every resource is listed and watched' };
  }
  if (resources.some((r) => r.listed)) {
    const pending = resources.filter((r) => !isCurrent(r)).map((r) => r.resource);
    return { state: 'ResyncInProgress', reason: 'ResyncInProgress', message: `listing ${pending.join(', ')}` };
  }
  return { state: 'Connecting', reason: 'Connecting', message: 'connecting to the API server' };
}
