/** How many watches may be open: in total, and per user (a user name, as authenticated). */
export interface WatchLimits {
  readonly maxWatches: number;
  readonly maxWatchesPerUser: number;
}

export const defaultWatchLimits: WatchLimits = { maxWatches: 2000, maxWatchesPerUser: 500 };

/**
 * Counts open watches so that no single user, and no crowd of them, can hold more connections than the process
 * can serve: past a limit a new watch is refused (429 with Retry-After) instead of slowing every other one.
 */
export class WatchLimiter {
  private total = 0;
  private readonly perUser = new Map<string, number>();

  constructor(readonly limits: WatchLimits) {}

  /** A release function for a new watch of `user`, or why it is refused. */
  acquire(user: string): { release: () => void } | { refused: string } {
    const mine = this.perUser.get(user) ?? 0;
    if (mine >= this.limits.maxWatchesPerUser) {
      return { refused: `user "${user}" already has ${mine} open watches, the most one user may hold` };
    }
    if (this.total >= this.limits.maxWatches) {
      return { refused: `the server already serves ${this.total} watches, the most it holds` };
    }
    this.total += 1;
    this.perUser.set(user, mine + 1);
    let released = false;
    return {
      release: () => {
        if (released) return;
        released = true;
        this.total -= 1;
        const n = (this.perUser.get(user) ?? 1) - 1;
        if (n <= 0) this.perUser.delete(user);
        else this.perUser.set(user, n);
      },
    };
  }

  get open(): number {
    return this.total;
  }
}
