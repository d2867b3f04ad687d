// A token bucket per key (an involved object and a reason): a remote cluster that flips what makes a warning
// (a backend's ports, say) must not make fedmesh write an Event per flip into a local namespace. A key that has
// been idle long enough to refill is forgotten (a fresh bucket is the same), and at most `maxKeys` are kept
// (the least recently used goes first), so memory stays bounded whatever the churn.

export interface RateLimit {
  /** Events a key may write at once. */
  readonly burst: number;
  /** Time to earn one more, in ms. */
  readonly refillMs: number;
  readonly maxKeys: number;
}

/** Kubernetes' own event correlator allows a burst of 25, then one per 5 minutes per object and reason. */
export const defaultEventRateLimit: RateLimit = { burst: 25, refillMs: 5 * 60_000, maxKeys: 10_000 };

interface Bucket {
  readonly tokens: number;
  readonly at: number;
}

/** The tokens of a bucket at `now`. */
export function tokensAt(b: Bucket | undefined, now: number, limit: RateLimit): number {
  if (!b) return limit.burst;
  return Math.min(limit.burst, b.tokens + Math.max(0, now - b.at) / limit.refillMs);
}

export class TokenBuckets {
  /** In order of last use: the least recently used first. */
  private readonly buckets = new Map<string, Bucket>();

  constructor(private readonly limit: RateLimit = defaultEventRateLimit) {}

  /** Takes a token of `key`; false when it has none (the Event is not written). */
  take(key: string, now: number): boolean {
    const tokens = tokensAt(this.buckets.get(key), now, this.limit);
    const ok = tokens >= 1;
    this.buckets.delete(key);
    this.buckets.set(key, { tokens: ok ? tokens - 1 : tokens, at: now });
    this.prune(now);
    return ok;
  }

  get size(): number {
    return this.buckets.size;
  }

  private prune(now: number): void {
    for (const [key, b] of this.buckets) {
      const full = tokensAt(b, now, this.limit) >= this.limit.burst;
      if (!full && this.buckets.size <= this.limit.maxKeys) break;
      this.buckets.delete(key);
    }
  }
}
