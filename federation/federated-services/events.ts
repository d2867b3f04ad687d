// Kubernetes Events for what a user must fix, each reported once per object while it lasts (a restart reports
// what is still wrong once more, as Kubernetes' own controllers do). An Event is information, not state: a failed
// write is logged, never retried in a loop. What makes a warning may flip as often as a remote cluster likes, so
// each object writes at most a burst of Events of one reason, then one per 5 minutes (event-rate-limit.ts); a
// warning held back is tried again at the next report while it lasts.
import type { KubeRestClient } from '../../core/kube/rest-client.js';
import type { Logger } from '../../core/log/logger.js';
import { defaultEventRateLimit, type RateLimit, TokenBuckets } from './event-rate-limit.js';
import type { FederatedServicesMetrics } from './metrics.js';

export interface InvolvedObject {
  readonly apiVersion: string;
  readonly kind: string;
  readonly namespace: string;
  readonly name: string;
  readonly uid: string;
}

export interface Warning {
  readonly reason: string;
  readonly message: string;
}

const warningId = (w: Warning) => `${w.reason}: ${w.message}`;

export class EventRecorder {
  private readonly reported = new Map<string, ReadonlySet<string>>();
  /** Per object key and reason; kept when an object is forgotten, so that deleting and recreating it gains nothing. */
  private readonly buckets: TokenBuckets;

  constructor(
    private readonly client: KubeRestClient,
    private readonly log: Logger,
    private readonly instance: string,
    private readonly metrics: FederatedServicesMetrics | undefined,
    limit: RateLimit = defaultEventRateLimit,
    private readonly clock: () => number = Date.now,
  ) {
    this.buckets = new TokenBuckets(limit);
  }

  /** The warnings that are new for this object since its last report; `involved` is asked for only then. */
  async report(key: string, warnings: readonly Warning[], involved: () => Promise<InvolvedObject | undefined>) {
    const before = this.reported.get(key) ?? new Set<string>();
    const fresh = warnings.filter((w) => !before.has(warningId(w)));
    const now = this.clock();
    const allowed = fresh.filter((w) => {
      if (this.buckets.take(`${key} ${w.reason}`, now)) return true;
      this.metrics?.eventsSuppressed.inc({ reason: w.reason });
      return false;
    });
    // Reported: what was and still is, and what is written now (not what was held back).
    const posted = new Set(allowed.map(warningId));
    const next = new Set(warnings.map(warningId).filter((id) => before.has(id) || posted.has(id)));
    if (next.size === 0) this.reported.delete(key);
    else this.reported.set(key, next);
    if (allowed.length === 0) return;
    const obj = await involved();
    if (obj) await Promise.all(allowed.map((w) => this.post(obj, w)));
  }

  forget(key: string): void {
    this.reported.delete(key);
  }

  private async post(obj: InvolvedObject, w: Warning): Promise<void> {
    const time = `${new Date().toISOString().slice(0, 19)}Z`;
    // The Events of a cluster-scoped object (an RCC) go to default, as Kubernetes puts those of Nodes.
    const namespace = obj.namespace === '' ? 'default' : obj.namespace;
    const body = {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { generateName: `${obj.name}.`, namespace },
      involvedObject: obj,
      type: 'Warning',
      reason: w.reason,
      message: w.message,
      source: { component: 'fedmesh-server' },
      reportingComponent: 'federation.fedmesh.io/fedmesh-server',
      reportingInstance: this.instance,
      firstTimestamp: time,
      lastTimestamp: time,
      count: 1,
    };
    try {
      await this.client.create(`/api/v1/namespaces/${encodeURIComponent(namespace)}/events`, body);
      this.metrics?.events.inc({ reason: w.reason });
    } catch (err) {
      this.log.warn({ object: `${obj.kind} ${obj.namespace}/${obj.name}`, err: String(err) }, 'cannot write an Event');
    }
  }
}
