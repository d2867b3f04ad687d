import { randomInt } from 'node:crypto';

/**
 * The resourceVersions one store issues: `<epoch seconds, 10 digits><instance, 6 digits><counter, 12 digits>`.
 * The epoch and a random instance id name the process, so that a version from another replica (even one started
 * in the same second) or from an earlier process is recognised as foreign and answered with 410 Expired, never
 * with a diff against another history. Versions stay decimal (clients treat them as opaque; some log or compare
 * them as numbers) and increase within one process.
 */
export interface RvOrigin {
  readonly epoch: bigint;
  readonly instance: bigint;
}

const counterSpan = 1_000_000_000_000n; // 12 digits: 10^12 changes, decades at thousands of changes a second
const instanceSpan = 1_000_000n;

/** A fresh origin: now, and a random instance id in [1, 999999]. */
export function newRvOrigin(epochSeconds = BigInt(Math.floor(Date.now() / 1000))): RvOrigin {
  return { epoch: epochSeconds, instance: BigInt(randomInt(1, Number(instanceSpan))) };
}

export function resourceVersionOf(origin: RvOrigin, counter: number): bigint {
  return (origin.epoch * instanceSpan + origin.instance) * counterSpan + BigInt(counter);
}

/** The counter of a version this origin issued, or undefined for a version of another origin. */
export function counterOf(origin: RvOrigin, rv: bigint): number | undefined {
  if (rv < 0n || rv / counterSpan !== origin.epoch * instanceSpan + origin.instance) return undefined;
  return Number(rv % counterSpan);
}

/** Parses a resourceVersion parameter: digits only, at most as long as the versions we issue. */
export function parseResourceVersion(raw: string): bigint | undefined {
  if (!/^\d{1,40}$/.test(raw)) return undefined;
  return BigInt(raw);
}
