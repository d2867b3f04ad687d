/** How many watches may be open: in total, and per user (a user name, as authenticated). */
export interface WatchLimits {
  readonly maxWatches: number;
  readonly maxWatchesPerUser: number;
}

export const defaultWatchLimits: WatchLimits = { maxWatches: 2000, maxWatchesPerUser: 500 };

/**
 * Bytes of answers written but not yet taken by their clients, in total and per user. An answer is rendered whole
 * (a list of 20,000 objects is tens of MB) and sits in memory until its client reads it: without a bound, a few
 * callers that never read would take the process down.
 */
export interface UnsentBytesLimits {
  readonly maxBytes: number;
  readonly maxBytesPerUser: number;
}

export const defaultUnsentBytesLimits: UnsentBytesLimits = {
  maxBytes: 1024 * 1024 * 1024,
  maxBytesPerUser: 256 * 1024 * 1024,
};
