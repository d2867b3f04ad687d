import type { ResourceState } from './cluster-state.js';

/** What happens to a cluster's objects while it is unreachable (RCC `spec.staleEndpoints`). */
export interface StalePolicy {
  /** Retain keeps them (fail-open); Withdraw removes them after `ttlMs` (fail-closed). */
  readonly mode: 'Retain' | 'Withdraw';
  readonly ttlMs: number;
}

export type StaleDecision =
  | { readonly action: 'keep' }
  | { readonly action: 'withdraw' }
  | { readonly action: 'wait'; readonly ms: number };

/** Whether to withdraw a stale cluster's objects now, or when to look again. */
export function staleDecision(policy: StalePolicy, staleSinceMs: number | null, nowMs: number): StaleDecision {
  if (staleSinceMs === null || policy.mode === 'Retain') return { action: 'keep' };
  const left = staleSinceMs + policy.ttlMs - nowMs;
  return left <= 0 ? { action: 'withdraw' } : { action: 'wait', ms: left };
}

/**
 * Under Withdraw, the resources whose objects can no longer be kept current (failing for longer than the ttl)
 * and when to look again: only those go, what still works stays.
 */
export function resourceWithdrawals(
  policy: StalePolicy,
  resources: readonly ResourceState[],
  nowMs: number,
): { readonly withdraw: readonly string[]; readonly recheckMs: number | undefined } {
  const withdraw: string[] = [];
  let recheckMs: number | undefined;
  for (const r of resources) {
    if (r.withdrawn) continue;
    const d = staleDecision(policy, r.failingSince, nowMs);
    if (d.action === 'withdraw') withdraw.push(r.resource);
    else if (d.action === 'wait') recheckMs = Math.min(recheckMs ?? d.ms, d.ms);
  }
  return { withdraw, recheckMs };
}

/** States in which a cluster's objects are not current. */
export function isStaleState(state: string): boolean {
  return state === 'ConnectionFailed' || state === 'ConfigIncomplete';
}
