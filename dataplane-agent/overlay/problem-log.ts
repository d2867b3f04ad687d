// Which overlay problems to log after a flush: only those new since the last one, and a bounded number of them.
// The overlay is recomputed on every remote change and resync, and its problems come from what other clusters
// write: logging all of them each time let one cluster with 10k bad nodes write tens of MB of log per flush.

export interface ProblemLines {
  /** New problems to log one by one. */
  readonly lines: readonly string[];
  /** New problems beyond those (counted, not logged one by one). */
  readonly more: number;
}

export class OverlayProblemLog {
  private previous = new Set<string>();

  constructor(private readonly maxLines = 20) {}

  /** The problems of this flush: what to log of them. */
  next(problems: readonly string[]): ProblemLines {
    const fresh = problems.filter((p) => !this.previous.has(p));
    this.previous = new Set(problems);
    return { lines: fresh.slice(0, this.maxLines), more: Math.max(0, fresh.length - this.maxLines) };
  }
}
