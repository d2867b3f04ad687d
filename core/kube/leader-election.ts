// Leader election on a coordination.k8s.io/v1 Lease, with client-go's rules, so that of several replicas only one
// does the cluster-wide writes (RCC status) while all of them serve reads:
//  - a lease is taken over only once its holder has not renewed it for leaseDuration, measured on this process's
//    monotonic clock from when the current record was first seen (clocks of different machines are never compared,
//    and a wall clock step changes nothing);
//  - the leader renews every retryPeriod and steps down when it could not renew for renewDeadline (shorter than
//    leaseDuration, so it stops before anyone else may start), or at once when it finds another holder;
//  - a leader that stops cleanly releases the lease, so that a follower takes over at its next try.
// `nextLease` is the pure decision; LeaderElector is the loop that reads and writes the Lease.

import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { Logger } from '../log/logger.js';
import { isStatus, type KubeRestClient } from './rest-client.js';

/** The Lease's spec, as the API holds it (times are MicroTime strings). */
export interface LeaseSpec {
  readonly holderIdentity?: string | null;
  readonly leaseDurationSeconds?: number | null;
  readonly acquireTime?: string | null;
  readonly renewTime?: string | null;
  readonly leaseTransitions?: number | null;
}

export interface LeaseObservation {
  readonly spec: LeaseSpec;
  /** This process's monotonic clock (ms) when it first saw this holder with this renewTime. */
  readonly seenAtMs: number;
}

export type LeaseDecision =
  | { readonly kind: 'write'; readonly spec: LeaseSpec }
  | { readonly kind: 'held'; readonly holder: string; readonly expiresInMs: number };

/** RFC 3339 with microseconds, the form of metav1.MicroTime. */
export function microTime(ms: number): string {
  return new Date(ms).toISOString().replace(/Z$/, '000Z');
}

/** The clocks of a decision: the wall clock for the times written, the monotonic one for how long things took. */
export interface LeaseClock {
  readonly wallMs: number;
  readonly monoMs: number;
}

/** What `identity` may do with the lease as observed (undefined: there is none yet). */
export function nextLease(
  observed: LeaseObservation | undefined,
  identity: string,
  leaseDurationSeconds: number,
  clock: LeaseClock,
): LeaseDecision {
  const now = microTime(clock.wallMs);
  const current = observed?.spec;
  const holder = current?.holderIdentity ?? '';
  if (observed && holder !== '' && holder !== identity) {
    const duration = (current?.leaseDurationSeconds ?? leaseDurationSeconds) * 1000;
    const expiresInMs = observed.seenAtMs + duration - clock.monoMs;
    if (expiresInMs > 0) return { kind: 'held', holder, expiresInMs };
  }
  const mine = holder === identity;
  return {
    kind: 'write',
    spec: {
      holderIdentity: identity,
      leaseDurationSeconds,
      acquireTime: mine ? (current?.acquireTime ?? now) : now,
      renewTime: now,
      leaseTransitions: (current?.leaseTransitions ?? 0) + (mine || !observed ? 0 : 1),
    },
  };
}

/**
 * What is unsafe in these timings, or undefined: a leader must stop before anyone else may start (renew deadline
 * under the lease duration), and must get a second try before it stops (retry period under the renew deadline).
 */
export function leaderElectionTimingProblem(t: {
  readonly leaseDurationMs: number;
  readonly renewDeadlineMs: number;
  readonly retryPeriodMs: number;
}): string | undefined {
  if (!(t.renewDeadlineMs < t.leaseDurationMs)) return 'the renew deadline must be shorter than the lease duration';
  if (!(t.retryPeriodMs < t.renewDeadlineMs)) return 'the retry period must be shorter than the renew deadline';
  return undefined;
}

export interface LeaderElectionOptions {
  readonly client: KubeRestClient;
  readonly namespace: string;
  readonly name: string;
  /** Unique per replica (default: hostname and a random suffix, as client-go's examples do). */
  readonly identity?: string;
  readonly leaseDurationMs: number;
  readonly renewDeadlineMs: number;
  readonly retryPeriodMs: number;
  readonly log: Logger;
  readonly onStartedLeading: () => void;
  readonly onStoppedLeading: () => void;
}

interface LeaseObject {
  metadata?: { resourceVersion?: string };
  spec?: LeaseSpec;
}

export class LeaderElector {
  readonly identity: string;
  private leader = false;
  private stopped = false;
  private lastRenewMs = 0;
  private observed: LeaseObservation | undefined;
  private resourceVersion: string | undefined;
  private wake: (() => void) | undefined;
  private loop: Promise<void> | undefined;
  private lastHolderLogged: string | undefined;
  private readonly path: string;
  /** Half the renew deadline: a hung request fails in time for the next try before the leader must step down. */
  private readonly requestTimeoutMs: number;

  constructor(private readonly opts: LeaderElectionOptions) {
    const problem = leaderElectionTimingProblem(opts);
    if (problem) throw new Error(`leader election: ${problem}`);
    this.identity = opts.identity ?? `${hostname()}_${randomUUID()}`;
    this.requestTimeoutMs = Math.max(500, opts.renewDeadlineMs / 2);
    this.path = `/apis/coordination.k8s.io/v1/namespaces/${encodeURIComponent(opts.namespace)}/leases/${encodeURIComponent(opts.name)}`;
  }

  get lease(): string {
    return `${this.opts.namespace}/${this.opts.name}`;
  }

  /**
   * Whether to act as the leader now. Also false once the last renewal is older than the renew deadline, even before
   * the loop has noticed: a process that was frozen (a paused container, a stalled VM) must not resume a leader's
   * work on a lease that others may already have taken.
   */
  isLeader(): boolean {
    return this.leader && performance.now() - this.lastRenewMs < this.opts.renewDeadlineMs;
  }

  start(): void {
    this.loop ??= this.run();
  }

  /** Stops trying; a leader steps down and releases the lease. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.wake?.();
    await this.loop;
    if (!this.leader) return;
    this.setLeader(false);
    try {
      // Only a lease that is still ours is released (read again: another replica may have taken it since our last
      // renewal); clearing theirs would let a third replica lead beside them. A write in between is a conflict.
      await this.read();
      if (this.observed?.spec.holderIdentity !== this.identity) return;
      const now = Date.now();
      await this.write({
        holderIdentity: '',
        leaseDurationSeconds: 1,
        acquireTime: microTime(now),
        renewTime: microTime(now),
        leaseTransitions: this.observed?.spec.leaseTransitions ?? 0,
      });
      this.opts.log.info({ lease: this.lease }, 'leader election: lease released');
    } catch (err) {
      this.opts.log.warn({ lease: this.lease, err: String(err) }, 'leader election: could not release the lease');
    }
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      const acting = this.isLeader();
      // A renewal counts from when it was asked for: a slow answer must not stretch the leader's own deadline.
      const attemptAt = performance.now();
      const outcome = await this.tryAcquireOrRenew();
      if (outcome === 'lost' && this.leader) this.setLeader(false);
      if (this.stopped) break;
      if (outcome === 'holding') {
        this.lastRenewMs = attemptAt;
        if (!this.leader) this.setLeader(true);
        else if (!acting) {
          // The renewal had lapsed (isLeader() was false, so work was skipped) but nobody took over: resume it.
          this.opts.log.info({ lease: this.lease }, 'leader election: leading again after a lapse');
          this.opts.onStartedLeading();
        }
      } else if (this.leader && performance.now() - this.lastRenewMs >= this.opts.renewDeadlineMs) {
        this.setLeader(false);
      }
      // Followers try with jitter (as client-go does), so that replicas do not move in step.
      const jitter = this.leader ? 0 : Math.random() * 0.2 * this.opts.retryPeriodMs;
      await this.sleep(this.opts.retryPeriodMs + jitter);
    }
  }

  /** 'holding': this replica holds the lease now; 'lost': another does; 'failed': the API could not be asked. */
  private async tryAcquireOrRenew(): Promise<'holding' | 'lost' | 'failed'> {
    try {
      const current = await this.read();
      // Whole seconds, rounded up: a follower may wait a little longer than asked, never less.
      const decision = nextLease(this.observed, this.identity, Math.ceil(this.opts.leaseDurationMs / 1000), {
        wallMs: Date.now(),
        monoMs: performance.now(),
      });
      if (decision.kind === 'held') {
        if (this.lastHolderLogged !== decision.holder) {
          this.lastHolderLogged = decision.holder;
          this.opts.log.info({ lease: this.lease, holder: decision.holder }, 'leader election: another replica leads');
        }
        return 'lost';
      }
      await (current ? this.write(decision.spec) : this.create(decision.spec));
      return 'holding';
    } catch (err) {
      // A conflict means another replica wrote first: it leads (or will); say so only when it matters.
      if (!isStatus(err, 409) || this.leader) {
        this.opts.log.warn({ lease: this.lease, err: String(err) }, 'leader election: lease not read or written');
      }
      return isStatus(err, 409) ? 'lost' : 'failed';
    }
  }

  /** Reads the lease and notes when its record was first seen; undefined when there is none. */
  private async read(): Promise<LeaseObject | undefined> {
    let lease: LeaseObject;
    try {
      lease = (await this.opts.client.request<LeaseObject>('GET', this.path, { timeoutMs: this.requestTimeoutMs }))
        .body;
    } catch (err) {
      if (!isStatus(err, 404)) throw err;
      this.observed = undefined;
      this.resourceVersion = undefined;
      return undefined;
    }
    const spec = lease.spec ?? {};
    const before = this.observed?.spec;
    if (!before || before.holderIdentity !== spec.holderIdentity || before.renewTime !== spec.renewTime) {
      this.observed = { spec, seenAtMs: performance.now() };
    }
    this.resourceVersion = lease.metadata?.resourceVersion;
    return lease;
  }

  private async create(spec: LeaseSpec): Promise<void> {
    const body = { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: this.opts.name }, spec };
    const collection = this.path.slice(0, this.path.lastIndexOf('/'));
    const created = (
      await this.opts.client.request<LeaseObject>('POST', collection, { body, timeoutMs: this.requestTimeoutMs })
    ).body;
    this.noteWritten(created, spec);
  }

  /** Replaces the spec, on the resourceVersion read: a write by another replica in between is a conflict. */
  private async write(spec: LeaseSpec): Promise<void> {
    const body = {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { name: this.opts.name, namespace: this.opts.namespace, resourceVersion: this.resourceVersion },
      spec,
    };
    const written = (
      await this.opts.client.request<LeaseObject>('PUT', this.path, { body, timeoutMs: this.requestTimeoutMs })
    ).body;
    this.noteWritten(written, spec);
  }

  private noteWritten(lease: LeaseObject, spec: LeaseSpec): void {
    this.observed = { spec, seenAtMs: performance.now() };
    this.resourceVersion = lease.metadata?.resourceVersion;
  }

  private setLeader(leader: boolean): void {
    if (this.leader === leader) return;
    this.leader = leader;
    this.lastHolderLogged = undefined;
    this.opts.log.info(
      { lease: this.lease, identity: this.identity },
      leader ? 'leader election: leading' : 'leader election: no longer leading',
    );
    if (leader) this.opts.onStartedLeading();
    else this.opts.onStoppedLeading();
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }
}
