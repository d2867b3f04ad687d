/** Capped exponential backoff with jitter: how long to wait before retry number `attempt` (0-based). */
export interface BackoffPolicy {
  readonly initialMs: number;
  readonly maxMs: number;
  /** Fraction of the delay that is randomised (0 = none), so that many clients do not retry in step. */
  readonly jitter: number;
  /** After this long without a failure the next wait starts from `initialMs` again (0: never). */
  readonly resetAfterMs?: number;
}

/**
 * client-go's reflector: 800 ms doubling to a 30 s cap, reset after two quiet minutes. Its jitter only lengthens
 * a wait (up to twice); ours spreads ±50 % around the same mean and never exceeds the cap.
 */
export const defaultBackoff: BackoffPolicy = { initialMs: 800, maxMs: 30_000, jitter: 0.5, resetAfterMs: 120_000 };

export function backoffDelay(policy: BackoffPolicy, attempt: number, random: () => number = Math.random): number {
  const base = Math.min(policy.maxMs, policy.initialMs * 2 ** Math.min(attempt, 30));
  const spread = base * policy.jitter;
  return Math.round(Math.min(policy.maxMs, base - spread + 2 * spread * random()));
}

/**
 * The waits of one retrying loop: each failure waits longer, up to the cap, whatever succeeded in between
 * (a list that works followed by a watch that is refused must not start again from the shortest wait); only
 * `resetAfterMs` without a failure starts over, as client-go's backoff manager does.
 */
export class RetryBackoff {
  private attempt = 0;
  private lastFailureAt = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly policy: BackoffPolicy = defaultBackoff,
    private readonly now: () => number = Date.now,
    private readonly random: () => number = Math.random,
  ) {}

  /** Records a failure and returns how long to wait before trying again. */
  next(): number {
    const t = this.now();
    const reset = this.policy.resetAfterMs ?? defaultBackoff.resetAfterMs ?? 0;
    if (reset > 0 && t - this.lastFailureAt > reset) this.attempt = 0;
    this.lastFailureAt = t;
    return backoffDelay(this.policy, this.attempt++, this.random);
  }

  /** A success: the next failure waits the first delay again. */
  reset(): void {
    this.attempt = 0;
  }
}
