import type { ClassifiedFailure } from './connection-error.js';
import type { ClusterState } from './mesh-types.js';

/** What one resource's informer has done since the connection (re)started. */
export interface ResourceProgress {
  readonly resource: string;
  /** A full list completed since the connection started. */
  readonly listed: boolean;
  /** Its watch runs (after a list). */
  readonly watching: boolean;
  /** The last failure, kept until the next successful list so that retries do not flap the state. */
  readonly failure: ClassifiedFailure | undefined;
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
  ServerError: 4,
  Error: 5,
};

/** The state of a cluster's connection, from its configuration and its informers' progress. */
export function deriveClusterState(
  config: ConfigProblem | undefined,
  progress: readonly ResourceProgress[],
): DerivedState {
  if (config) return { state: 'ConfigIncomplete', reason: config.reason, message: config.message };
  const failures = progress
    .filter((p) => p.failure)
    .map((p) => p.failure as ClassifiedFailure)
    .sort((a, b) => (reasonRank[a.reason] ?? 9) - (reasonRank[b.reason] ?? 9));
  const first = failures[0];
  if (first) {
    // Forbidden names every missing permission; other causes are the same for every resource, say it once.
    const messages =
      first.reason === 'Forbidden'
        ? [...new Set(failures.filter((f) => f.reason === 'Forbidden').map((f) => f.message))]
        : [first.message];
    return { state: 'ConnectionFailed', reason: first.reason, message: messages.join('; ') };
  }
  if (progress.length > 0 && progress.every((p) => p.listed && p.watching)) {
    return { state: 'InSync', reason: 'InSync', message: 'every resource is listed and watched' };
  }
  if (progress.some((p) => p.listed)) {
    const pending = progress.filter((p) => !(p.listed && p.watching)).map((p) => p.resource);
    return { state: 'ResyncInProgress', reason: 'ResyncInProgress', message: `listing ${pending.join(', ')}` };
  }
  return { state: 'Connecting', reason: 'Connecting', message: 'connecting to the API server' };
}
