// The I/O shell of federated services: follows the mesh cache, keeps the EndpointSlices of every local federated
// Service equal to what endpoints.ts computes (through the minimal writes slice-plan.ts plans), and reports what
// a user must fix as Events on the Service. Only the elected leader writes; every replica keeps its view of the
// written slices current, so that a new leader starts from what is there and writes nothing that is already right.
import { Counter, Gauge, type Registry } from 'prom-client';
import { type BackoffPolicy, backoffDelay } from '../../core/kube/backoff.js';
import { type KubeObject, ResilientInformer } from '../../core/kube/resilient-informer.js';
import { isStatus, type KubeRestClient } from '../../core/kube/rest-client.js';
import type { Logger } from '../../core/log/logger.js';
import type { MeshCacheReader } from '../mesh-cache.js';
import type { MeshEvent, MeshService } from '../mesh-types.js';
import { stableUid } from '../stable-uid.js';
import { federatedEndpoints } from './endpoints.js';
import { federatedSelectorOf } from './federated-service.js';
import { type ServiceWarning, serviceWarnings } from './service-warnings.js';
import {
  isEmptyPlan,
  managedByLabel,
  managedByValue,
  planSlices,
  type SlicePlan,
  serviceNameLabel,
  serviceOwner,
  type WrittenSlice,
} from './slice-plan.js';
import { writtenSliceOf } from './written-slice.js';

export interface FederatedServicesOptions {
  readonly cache: MeshCacheReader;
  /** Settles when the mesh cache holds a full list of the local cluster and of every RCC present at start. */
  readonly meshReady: Promise<void>;
  readonly localCluster: string;
  /** The local cluster, as the server's ServiceAccount. */
  readonly client: KubeRestClient;
  readonly log: Logger;
  readonly registry?: Registry;
  /** Write only while this returns true (the leader); call `resume()` when it turns true. */
  readonly mayWrite: () => boolean;
  readonly concurrency?: number;
  readonly maxEndpointsPerSlice?: number;
  readonly backoff?: BackoffPolicy;
  /** Who writes the Events (their reportingInstance), e.g. the pod name. */
  readonly instance?: string;
}

const slicesPath = '/apis/discovery.k8s.io/v1/endpointslices';
const nsSlicesPath = (ns: string) => `/apis/discovery.k8s.io/v1/namespaces/${encodeURIComponent(ns)}/endpointslices`;
const keyOf = (namespace: string, name: string) => `${namespace}/${name}`;
const retryBackoff: BackoffPolicy = { initialMs: 200, maxMs: 30_000, jitter: 0.2 };

function splitKey(key: string): { namespace: string; name: string } {
  const i = key.indexOf('/');
  return { namespace: key.slice(0, i), name: key.slice(i + 1) };
}

export class FederatedServicesController {
  private readonly written = new Map<string, Map<string, WrittenSlice>>();
  private readonly informer: ResilientInformer<WrittenSlice>;
  /** Local federated Services by namespace (a Service change re-selects in its namespace only). */
  private readonly federatedByNamespace = new Map<string, Set<string>>();
  /** cluster/namespace/service of a backend → the federated Services that selected it last time. */
  private readonly selectedBy = new Map<string, Set<string>>();
  private readonly selects = new Map<string, readonly string[]>();
  /** Real uid of a local Service by its mesh (derived) uid. */
  private readonly realUids = new Map<string, string>();
  /** What the Events of a Service said last (reason: message), so that each is reported once. */
  private readonly reported = new Map<string, ReadonlySet<string>>();
  private readonly dirty = new Set<string>();
  private readonly running = new Set<string>();
  private readonly retries = new Map<string, number>();
  private readonly retryTimers = new Map<string, NodeJS.Timeout>();
  private unsubscribe: () => void = () => {};
  private meshIsReady = false;
  private kickScheduled = false;
  private stopped = false;
  private readonly metrics: ReturnType<typeof createMetrics> | undefined;
  /** Settles when the queue is empty and nothing runs (tests, benchmarks). */
  private idleWaiters: (() => void)[] = [];

  constructor(private readonly opts: FederatedServicesOptions) {
    this.metrics = opts.registry ? createMetrics(opts.registry, this) : undefined;
    this.informer = new ResilientInformer<WrittenSlice>({
      client: opts.client,
      path: slicesPath,
      query: { labelSelector: `${managedByLabel}=${managedByValue}` },
      convert: (raw) => writtenSliceOf(raw),
      handlers: {
        onList: (items) => {
          const seen = new Set<string>();
          for (const s of this.allWritten()) seen.add(this.serviceKeyOf(s));
          this.written.clear();
          for (const s of items.values()) this.storeWritten(s);
          for (const s of items.values()) seen.add(this.serviceKeyOf(s));
          for (const k of seen) this.markDirty(k);
        },
        onUpsert: (_key, s) => {
          const prev = this.written.get(this.serviceKeyOf(s))?.get(s.name);
          if (prev?.resourceVersion === s.resourceVersion) return; // the echo of our own write
          this.storeWritten(s);
          this.markDirty(this.serviceKeyOf(s));
        },
        onDelete: (key) => {
          const { namespace, name } = splitKey(key);
          for (const [svcKey, slices] of this.written) {
            if (!svcKey.startsWith(`${namespace}/`) || !slices.delete(name)) continue;
            if (slices.size === 0) this.written.delete(svcKey);
            this.markDirty(svcKey);
          }
        },
        onPhase: (phase, failure) => {
          if (phase === 'failed') {
            this.opts.log.warn({ err: String(failure?.error) }, 'federated services: cannot watch our EndpointSlices');
          }
        },
      },
    });
  }

  start(): void {
    const sub = this.opts.cache.subscribe((ev) => this.onMeshEvent(ev), { kinds: ['Service', 'EndpointSlice'] });
    this.unsubscribe = sub.unsubscribe;
    for (const o of sub.snapshot?.objects ?? []) {
      if (o.kind === 'Service') this.onMeshEvent({ type: 'added', revision: o.revision, object: o });
    }
    this.informer.start();
    void Promise.all([this.opts.meshReady, this.informer.synced]).then(() => {
      this.meshIsReady = true;
      this.resume();
    });
  }

  /** Leadership began (or the mesh became ready): check every federated Service and every slice we hold. */
  resume(): void {
    for (const names of this.federatedByNamespace.values()) for (const k of names) this.markDirty(k);
    for (const k of this.written.keys()) this.markDirty(k);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.unsubscribe();
    for (const t of this.retryTimers.values()) clearTimeout(t);
    await this.informer.stop();
  }

  /** Resolves once nothing is queued, waiting for a retry or running (tests and benchmarks wait for it). */
  idle(): Promise<void> {
    if (this.isIdle()) return Promise.resolve();
    return new Promise((r) => this.idleWaiters.push(r));
  }

  get federatedCount(): number {
    let n = 0;
    for (const s of this.federatedByNamespace.values()) n += s.size;
    return n;
  }

  get queueDepth(): number {
    return this.dirty.size + this.running.size;
  }

  private isIdle(): boolean {
    return this.dirty.size === 0 && this.running.size === 0 && this.retryTimers.size === 0;
  }

  private *allWritten(): Iterable<WrittenSlice> {
    for (const m of this.written.values()) yield* m.values();
  }

  private serviceKeyOf(s: WrittenSlice): string {
    return keyOf(s.namespace, s.labels[serviceNameLabel] ?? '');
  }

  private storeWritten(s: WrittenSlice): void {
    const key = this.serviceKeyOf(s);
    let m = this.written.get(key);
    if (!m) {
      m = new Map();
      this.written.set(key, m);
    }
    m.set(s.name, s);
  }

  private onMeshEvent(ev: MeshEvent): void {
    if (ev.type === 'cluster') return; // staleness changes no slice (Retain keeps them; Withdraw deletes objects)
    const o = ev.object;
    if (o.kind === 'Service') {
      if (o.cluster === this.opts.localCluster) this.trackLocal(o, ev.type === 'deleted');
      // Its labels may have changed: every federated Service of the namespace selects again.
      for (const name of this.federatedByNamespace.get(o.namespace) ?? []) this.markDirty(name);
    } else if (o.kind === 'EndpointSlice' && o.serviceName) {
      for (const k of this.selectedBy.get(`${o.cluster}/${o.namespace}/${o.serviceName}`) ?? []) this.markDirty(k);
    }
  }

  private trackLocal(svc: MeshService, deleted: boolean): void {
    const key = keyOf(svc.namespace, svc.name);
    let names = this.federatedByNamespace.get(svc.namespace);
    if (!deleted && federatedSelectorOf(svc) !== undefined) {
      if (!names) {
        names = new Set();
        this.federatedByNamespace.set(svc.namespace, names);
      }
      names.add(key);
    } else if (names?.delete(key)) {
      if (names.size === 0) this.federatedByNamespace.delete(svc.namespace);
    }
    if (deleted) {
      this.realUids.delete(svc.uid);
      this.reported.delete(key);
    }
    this.markDirty(key);
  }

  private markDirty(key: string): void {
    if (this.stopped) return;
    this.dirty.add(key);
    this.kick();
  }

  private kick(): void {
    if (this.kickScheduled) return;
    this.kickScheduled = true;
    // After the current burst of events (a relist delivers many at once), not once per event.
    setImmediate(() => {
      this.kickScheduled = false;
      this.drain();
    });
  }

  private drain(): void {
    if (this.stopped || !this.meshIsReady || !this.opts.mayWrite()) return;
    const limit = this.opts.concurrency ?? 16;
    for (const key of this.dirty) {
      if (this.running.size >= limit) break;
      if (this.running.has(key) || this.retryTimers.has(key)) continue;
      this.dirty.delete(key);
      this.running.add(key);
      void this.sync(key)
        .then(
          () => this.retries.delete(key),
          (err: unknown) => this.retryLater(key, err),
        )
        .finally(() => {
          this.running.delete(key);
          if (this.dirty.size > 0) this.kick();
          else this.notifyIdle();
        });
    }
  }

  private notifyIdle(): void {
    if (!this.isIdle()) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
  }

  private retryLater(key: string, err: unknown): void {
    const attempt = this.retries.get(key) ?? 0;
    this.retries.set(key, attempt + 1);
    // A conflict means our view is one event behind: retry soon. Anything else backs off.
    const delay = isStatus(err, 409) ? 50 : backoffDelay(this.opts.backoff ?? retryBackoff, attempt);
    this.metrics?.syncErrors.inc();
    this.opts.log.warn({ service: key, attempt, retryInMs: delay, err: String(err) }, 'federated service sync failed');
    const t = setTimeout(() => {
      this.retryTimers.delete(key);
      this.markDirty(key);
    }, delay);
    t.unref();
    this.retryTimers.set(key, t);
  }

  /** Brings one local Service's slices in line with the mesh. */
  private async sync(key: string): Promise<void> {
    const { namespace, name } = splitKey(key);
    const svc = this.opts.cache.get('Service', this.opts.localCluster, namespace, name);
    const held = [...(this.written.get(key)?.values() ?? [])];
    const result = svc !== undefined && federatedSelectorOf(svc) !== undefined ? this.compute(svc) : undefined;
    if (svc) await this.report(svc, serviceWarnings(svc, result));
    if (!svc || !result) {
      this.forgetSelection(key);
      // Not (or no longer) federated: the slices we wrote for it go. Garbage collection would remove them with a
      // deleted Service, but not when only the annotation was removed.
      await this.apply(key, { create: [], update: [], delete: held });
      return;
    }
    const serviceUid = await this.realUidOf(svc, held);
    if (serviceUid === undefined) return; // the Service is gone or changed; its own event brings us back
    const plan = planSlices(
      { localCluster: this.opts.localCluster, namespace, service: name, owner: serviceOwner(name, serviceUid) },
      result.valid ? result.endpoints : [],
      held,
      this.opts.maxEndpointsPerSlice,
    );
    await this.apply(key, plan);
  }

  /** The endpoints of a federated Service, remembering which backends it selected (for slice events). */
  private compute(svc: MeshService) {
    const key = keyOf(svc.namespace, svc.name);
    const result = federatedEndpoints(svc, this.opts.cache.list('Service', { namespace: svc.namespace }), (c, ns, n) =>
      this.opts.cache.slicesOfService(c, ns, n),
    );
    this.forgetSelection(key);
    if (result.valid) {
      const backends = result.backends.map((b) => `${b.cluster}/${svc.namespace}/${b.name}`);
      this.selects.set(key, backends);
      for (const b of backends) {
        let s = this.selectedBy.get(b);
        if (!s) {
          s = new Set();
          this.selectedBy.set(b, s);
        }
        s.add(key);
      }
    }
    return result;
  }

  private forgetSelection(key: string): void {
    for (const b of this.selects.get(key) ?? []) {
      const s = this.selectedBy.get(b);
      s?.delete(key);
      if (s?.size === 0) this.selectedBy.delete(b);
    }
    this.selects.delete(key);
  }

  /**
   * The Service's real uid (the owner of its slices). The mesh cache keeps a uid derived from it: a slice we wrote
   * names the real one, which is checked against the derived one, so a restart needs no request.
   */
  private async realUidOf(svc: MeshService, held: readonly WrittenSlice[]): Promise<string | undefined> {
    const known = this.realUids.get(svc.uid);
    if (known) return known;
    for (const s of held) {
      if (s.ownerUid && stableUid(this.opts.localCluster, 'Service', s.ownerUid) === svc.uid) {
        this.realUids.set(svc.uid, s.ownerUid);
        return s.ownerUid;
      }
    }
    let body: { metadata?: { uid?: unknown } };
    try {
      body = await this.opts.client.get(
        `/api/v1/namespaces/${encodeURIComponent(svc.namespace)}/services/${encodeURIComponent(svc.name)}`,
      );
    } catch (err) {
      if (isStatus(err, 404)) return undefined;
      throw err;
    }
    const uid = typeof body.metadata?.uid === 'string' ? body.metadata.uid : '';
    if (!uid || stableUid(this.opts.localCluster, 'Service', uid) !== svc.uid) return undefined;
    this.realUids.set(svc.uid, uid);
    return uid;
  }

  private async apply(key: string, plan: SlicePlan): Promise<void> {
    if (isEmptyPlan(plan)) return;
    const { namespace } = splitKey(key);
    const base = nsSlicesPath(namespace);
    // New and changed slices first, deletions last: an endpoint moving between slices is never absent.
    await Promise.all([
      ...plan.create.map(async (body) => {
        const stored = await this.write('create', () => this.opts.client.create<unknown>(base, body));
        this.rememberWrite(stored);
      }),
      ...plan.update.map(async (body) => {
        const path = `${base}/${encodeURIComponent(body.metadata.name)}`;
        const stored = await this.write(
          'update',
          async () => (await this.opts.client.request('PUT', path, { body })).body,
        );
        this.rememberWrite(stored);
      }),
    ]);
    await Promise.all(
      plan.delete.map(async (d) => {
        const path = `${base}/${encodeURIComponent(d.name)}`;
        try {
          await this.write('delete', () =>
            this.opts.client.delete(path, { preconditions: { resourceVersion: d.resourceVersion } }),
          );
        } catch (err) {
          if (!isStatus(err, 404)) throw err;
        }
        const m = this.written.get(key);
        m?.delete(d.name);
        if (m?.size === 0) this.written.delete(key);
      }),
    );
  }

  private async write<T>(operation: 'create' | 'update' | 'delete', run: () => Promise<T>): Promise<T> {
    try {
      const out = await run();
      this.metrics?.writes.inc({ operation, result: 'success' });
      return out;
    } catch (err) {
      this.metrics?.writes.inc({ operation, result: 'error' });
      throw err;
    }
  }

  /** Our view follows our own writes at once, so that the next sync does not act on the version before it. */
  private rememberWrite(stored: unknown): void {
    const s = typeof stored === 'object' && stored !== null ? writtenSliceOf(stored as KubeObject) : undefined;
    if (s) this.storeWritten(s);
  }

  /** Events for the warnings that are new since the last report; none again for those already reported. */
  private async report(svc: MeshService, warnings: readonly ServiceWarning[]): Promise<void> {
    const key = keyOf(svc.namespace, svc.name);
    const now = new Set(warnings.map((w) => `${w.reason}: ${w.message}`));
    const before = this.reported.get(key) ?? new Set<string>();
    this.reported.set(key, now);
    const fresh = warnings.filter((w) => !before.has(`${w.reason}: ${w.message}`));
    if (fresh.length === 0) return;
    const uid = this.realUids.get(svc.uid) ?? (await this.realUidOf(svc, []));
    if (!uid) return;
    await Promise.all(fresh.map((w) => this.postEvent(svc, uid, w)));
  }

  private async postEvent(svc: MeshService, uid: string, w: ServiceWarning): Promise<void> {
    const time = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
    const body = {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { generateName: `${svc.name}.`, namespace: svc.namespace },
      involvedObject: { apiVersion: 'v1', kind: 'Service', namespace: svc.namespace, name: svc.name, uid },
      type: w.type,
      reason: w.reason,
      message: w.message,
      source: { component: 'fedmesh-server' },
      reportingComponent: 'federation.fedmesh.io/federated-services',
      reportingInstance: this.opts.instance ?? 'fedmesh-server',
      firstTimestamp: time,
      lastTimestamp: time,
      count: 1,
    };
    try {
      await this.opts.client.create(`/api/v1/namespaces/${encodeURIComponent(svc.namespace)}/events`, body);
      this.metrics?.events.inc({ reason: w.reason });
    } catch (err) {
      // An Event is information, not state: a failure is logged, never retried in a loop.
      this.opts.log.warn({ service: `${svc.namespace}/${svc.name}`, err: String(err) }, 'cannot write an Event');
    }
  }
}

function createMetrics(registry: Registry, c: FederatedServicesController) {
  new Gauge({
    name: 'fedmesh_federated_services',
    help: 'Local federated Services (federation annotation and no spec.selector)',
    registers: [registry],
    collect() {
      this.set(c.federatedCount);
    },
  });
  new Gauge({
    name: 'fedmesh_federated_services_queue_depth',
    help: 'Federated Services waiting for, or in, a sync of their EndpointSlices',
    registers: [registry],
    collect() {
      this.set(c.queueDepth);
    },
  });
  return {
    writes: new Counter({
      name: 'fedmesh_federated_service_slice_writes_total',
      help: 'EndpointSlice writes of the federated services controller, by operation (create, update, delete) and result',
      labelNames: ['operation', 'result'] as const,
      registers: [registry],
    }),
    syncErrors: new Counter({
      name: 'fedmesh_federated_service_sync_errors_total',
      help: 'Syncs of a federated Service that failed and were retried with backoff',
      registers: [registry],
    }),
    events: new Counter({
      name: 'fedmesh_federated_service_events_total',
      help: 'Events written on federated Services, by reason',
      labelNames: ['reason'] as const,
      registers: [registry],
    }),
  };
}
