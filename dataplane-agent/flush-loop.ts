// The flush loop: hands the calculations' changes to the kernel drivers. Changes are coalesced, never queued one
// by one: a step runs now, or once more after its running run. Each step (driver) has its own failure count and
// backoff: a driver the kernel keeps refusing (an overlay batch line failing on every flush) waits alone, and
// never delays the other (a policy change still reaches nftables at once).

import { type BackoffPolicy, backoffDelay } from '../core/kube/backoff.js';

/** One driver's share of a flush: false when the kernel refused it (the step is then retried after a backoff). */
export type FlushStep = () => Promise<boolean>;

export interface FlushLoopOptions {
  /** The wait before retry number `failures` (1, 2, …); default doubling from 200 ms to at most 10 s. */
  readonly backoffMs?: (failures: number) => number;
  /** Resolves after `ms`, or at once when `signal` aborts (stop). */
  readonly sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
  /** A step that threw (a bug: steps report failures by returning false); it counts as a failure. */
  readonly onStepError?: (step: string, err: unknown) => void;
}

/** The kernel is local: retry soon, no jitter (one agent per node, no herd to spread). */
const kernelBackoff: BackoffPolicy = { initialMs: 200, maxMs: 10_000, jitter: 0 };
const defaultBackoff = (failures: number) => backoffDelay(kernelBackoff, failures - 1);

function abortableSleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}

export class FlushLoop {
  private readonly abort = new AbortController();
  private readonly lanes: Lane[];

  constructor(steps: Readonly<Record<string, FlushStep>>, opts: FlushLoopOptions = {}) {
    const backoff = opts.backoffMs ?? defaultBackoff;
    const sleep = opts.sleep ?? abortableSleep;
    this.lanes = Object.entries(steps).map(
      ([name, step]) => new Lane(name, step, backoff, sleep, this.abort.signal, opts.onStepError),
    );
  }

  /** Runs every step now, or once more after its running run. */
  schedule(): void {
    if (this.abort.signal.aborted) return;
    for (const lane of this.lanes) lane.schedule();
  }

  /** Ends any backoff wait, lets running steps finish, and runs nothing more. */
  async stop(): Promise<void> {
    this.abort.abort();
    await Promise.all(this.lanes.map((l) => l.idle()));
  }
}

/** One step's loop: coalesced runs, and after a failure a retry once its own backoff has passed. */
class Lane {
  private running: Promise<void> | undefined;
  private again = false;

  constructor(
    private readonly name: string,
    private readonly step: FlushStep,
    private readonly backoff: (failures: number) => number,
    private readonly sleep: (ms: number, signal: AbortSignal) => Promise<void>,
    private readonly signal: AbortSignal,
    private readonly onStepError: ((step: string, err: unknown) => void) | undefined,
  ) {}

  schedule(): void {
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.loop().finally(() => {
      this.running = undefined;
    });
  }

  async idle(): Promise<void> {
    await this.running;
  }

  private async loop(): Promise<void> {
    let failures = 0;
    do {
      this.again = false;
      if (await this.run()) failures = 0;
      else {
        failures++;
        this.again = true;
        await this.sleep(this.backoff(failures), this.signal);
      }
    } while (this.again && !this.signal.aborted);
  }

  private async run(): Promise<boolean> {
    try {
      return await this.step();
    } catch (err) {
      this.onStepError?.(this.name, err);
      return false;
    }
  }
}
