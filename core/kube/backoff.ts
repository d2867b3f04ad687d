/** Capped exponential backoff with jitter: how long to wait before retry number `attempt` (0-based). */
export interface BackoffPolicy {
  readonly initialMs: number;
  readonly maxMs: number;
  /** Fraction of the delay that is randomised (0 = none), so that many clients do not retry in step. */
  readonly jitter: number;
}

export const defaultBackoff: BackoffPolicy = { initialMs: 500, maxMs: 30_000, jitter: 0.2 };

export function backoffDelay(policy: BackoffPolicy, attempt: number, random: () => number = Math.random): number {
  const base = Math.min(policy.maxMs, policy.initialMs * 2 ** Math.min(attempt, 30));
  const spread = base * policy.jitter;
  return Math.round(Math.min(policy.maxMs, base - spread + 2 * spread * random()));
}
