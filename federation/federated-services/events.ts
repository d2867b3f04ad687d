// Kubernetes Events for what a user must fix, each reported once per object while it lasts (a restart reports
// what is still wrong once more, as Kubernetes' own controllers do). An Event is information, not state: a failed
// write is logged, never retried in a loop.
import type { KubeRestClient } from '../../core/kube/rest-client.js';
import type { Logger } from '../../core/log/logger.js';
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

export class EventRecorder {
  private readonly reported = new Map<string, ReadonlySet<string>>();

  constructor(
    private readonly client: KubeRestClient,
    private readonly log: Logger,
    private readonly instance: string,
    private readonly metrics: FederatedServicesMetrics | undefined,
  ) {}

  /** The warnings that are new for this object since its last report; `involved` is asked for only then. */
  async report(key: string, warnings: readonly Warning[], involved: () => Promise<InvolvedObject | undefined>) {
    const now = new Set(warnings.map((w) => `${w.reason}: ${w.message}`));
    const before = this.reported.get(key) ?? new Set<string>();
    if (now.size === 0) this.reported.delete(key);
    else this.reported.set(key, now);
    const fresh = warnings.filter((w) => !before.has(`${w.reason}: ${w.message}`));
    if (fresh.length === 0) return;
    const obj = await involved();
    if (obj) await Promise.all(fresh.map((w) => this.post(obj, w)));
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
