// The I/O shell of federated services: follows the mesh cache, keeps the EndpointSlices of every local federated
// Service equal to what endpoints.ts computes (through the minimal writes slice-plan.ts plans), and reports what
// a user must fix as Events on the Service. Only the elected leader writes; every replica keeps its view of the
// written slices current, so that a new leader starts from what is there and writes nothing that is already right.
import { SetIndex } from '../../core/collections/set-index.js';
import type { MeshEvent, MeshService } from '../mesh-types.js';
import { type BackendSelection, endpointsOfSelection, selectBackends } from './endpoints.js';
import { EventRecorder } from './events.js';
import { federatedSelectorOf } from './federated-service.js';
import { LocalNetworks } from './local-networks.js';
import { LocalServiceUids } from './local-service-uids.js';
import { type FederatedServicesMetrics, federatedServicesMetrics } from './metrics.js';
import { serviceWarnings } from './service-warnings.js';
import {
  managedByValue,
  planSlices,
  serviceNameLabel,
  serviceOwner,
  sourceClusterOf,
  type WrittenSlice,
} from './slice-plan.js';
import { UnlistedWaiters, unlistedClusters } from './unlisted-clusters.js';
import { type LeaderControllerOptions, WorkQueue } from './work-queue.js';
import { WrittenSliceView } from './written-slices.js';

export interface FederatedServicesOptions extends LeaderControllerOptions {
  readonly maxEndpointsPerSlice?: number;
  /** Who writes the Events (their reportingInstance), e.g. the pod name. */
  readonly instance?: string;
}

const controllerName = 'federated-services';
const keyOf = (namespace: string, name: string) => `${namespace}/${name}`;

function splitKey(key: string): { namespace: string; name: string } {
  const i = key.indexOf('/');
  return { namespace: key.slice(0, i), name: key.slice(i + 1) };
}

export class FederatedServicesController {
  private readonly written: WrittenSliceView;
  private readonly queue: WorkQueue;
  private readonly events: EventRecorder;
  /** Local federated Services by namespace (a Service change re-selects in its namespace only). */
  private readonly federatedByNamespace = new Map<string, Set<string>>();
  /** cluster/namespace/service of a backend → the federated Services that selected it last time. */
  private readonly selectedBy = new SetIndex<string, string>();
  private readonly selects = new Map<string, readonly string[]>();
  /**
   * The backends each federated Service selected, kept while no Service of its namespace changes: a change of a
   * backend's EndpointSlice (the common event) evaluates no selector and lists no Services.
   */
  private readonly selections = new Map<string, BackendSelection>();
  private readonly realUids: LocalServiceUids;
  private readonly metrics: FederatedServicesMetrics | undefined;
  private readonly unlistedWaiters: UnlistedWaiters;
  /** This cluster's own addresses, which no remote endpoint may take. */
  private readonly localNetworks: LocalNetworks;
  private unsubscribe: () => void = () => {};
  private meshIsReady = false;

  constructor(private readonly opts: FederatedServicesOptions) {
    this.metrics = opts.registry ? federatedServicesMetrics(opts.registry) : undefined;
    this.metrics?.register(controllerName, { managed: () => this.federatedCount, queueDepth: () => this.queue.depth });
    this.queue = new WorkQueue({
      sync: (key) => this.sync(key),
      mayRun: () => this.meshIsReady && opts.mayWrite(),
      concurrency: opts.concurrency ?? 16,
      ...(opts.backoff ? { backoff: opts.backoff } : {}),
      onError: (key, attempt, retryInMs, err) => {
        this.metrics?.syncErrors.inc({ controller: controllerName });
        opts.log.warn({ service: key, attempt, retryInMs, err: String(err) }, 'federated service sync failed');
      },
    });
    this.written = new WrittenSliceView({
      client: opts.client,
      managedBy: managedByValue,
      groupLabel: serviceNameLabel,
      onChange: (key) => this.queue.add(key),
      log: opts.log,
      controller: controllerName,
      ...(this.metrics ? { writes: this.metrics.writes } : {}),
    });
    this.events = new EventRecorder(opts.client, opts.log, opts.instance ?? 'fedmesh-server', this.metrics);
    this.realUids = new LocalServiceUids(opts.client, opts.localCluster);
    this.unlistedWaiters = new UnlistedWaiters(opts.cache, (key) => this.queue.add(key));
    // A node that comes or goes changes which remote addresses are this cluster's own: every Service again.
    this.localNetworks = new LocalNetworks(opts.cache, opts.localCluster, () => {
      if (this.meshIsReady) this.resume();
    });
  }

  start(): void {
    const sub = this.opts.cache.subscribe((ev) => this.onMeshEvent(ev), {
      kinds: ['Service', 'EndpointSlice', 'HostEndpoint'],
    });
    this.unsubscribe = sub.unsubscribe;
    for (const o of sub.snapshot?.objects ?? []) {
      if (o.kind === 'Service') this.onMeshEvent({ type: 'added', revision: o.revision, object: o });
    }
    this.written.start();
    void Promise.all([this.opts.meshReady, this.written.synced]).then(() => {
      this.meshIsReady = true;
      this.resume();
    });
  }

  /** Leadership began (or the caches became ready): check every federated Service and every slice we hold. */
  resume(): void {
    for (const names of this.federatedByNamespace.values()) for (const k of names) this.queue.add(k);
    for (const k of this.written.keys()) this.queue.add(k);
    this.queue.kick();
  }

  async stop(): Promise<void> {
    this.unsubscribe();
    this.unlistedWaiters.stop();
    this.queue.stop();
    await this.written.stop();
  }

  /** Resolves once nothing is queued, running or backing off (tests and benchmarks wait for it). */
  idle(): Promise<void> {
    return this.queue.idle();
  }

  get federatedCount(): number {
    let n = 0;
    for (const s of this.federatedByNamespace.values()) n += s.size;
    return n;
  }

  private onMeshEvent(ev: MeshEvent): void {
    if (ev.type === 'cluster') {
      // Staleness changes no slice (Retain keeps them; Withdraw deletes objects); a first list may.
      this.unlistedWaiters.check();
      return;
    }
    const o = ev.object;
    if (o.kind === 'Service') {
      if (o.cluster === this.opts.localCluster) this.trackLocal(o, ev.type === 'deleted');
      // Its labels may have changed: every federated Service of the namespace selects again.
      for (const key of this.federatedByNamespace.get(o.namespace) ?? []) {
        this.selections.delete(key);
        this.queue.add(key);
      }
    } else if (o.kind === 'EndpointSlice' && o.serviceName) {
      for (const k of this.selectedBy.get(`${o.cluster}/${o.namespace}/${o.serviceName}`)) this.queue.add(k);
    } else if (o.kind === 'HostEndpoint') {
      this.localNetworks.onNodeEvent(ev.type, o.cluster);
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
    } else if (names?.delete(key) && names.size === 0) {
      this.federatedByNamespace.delete(svc.namespace);
    }
    this.selections.delete(key);
    if (deleted) {
      this.realUids.forget(svc.uid);
      this.events.forget(key);
    }
    this.queue.add(key);
  }

  /** Brings one local Service's slices in line with the mesh. */
  private async sync(key: string): Promise<void> {
    const { namespace, name } = splitKey(key);
    const svc = this.opts.cache.get('Service', this.opts.localCluster, namespace, name);
    const held = this.written.get(key);
    const result = svc !== undefined && federatedSelectorOf(svc) !== undefined ? this.compute(svc) : undefined;
    if (svc) {
      await this.events.report(key, serviceWarnings(svc, result), async () => {
        const uid = await this.realUidOf(svc, held);
        return uid ? { apiVersion: 'v1', kind: 'Service', namespace, name, uid } : undefined;
      });
    }
    if (!svc || !result) {
      this.forgetSelection(key);
      // Not (or no longer) federated: the slices we wrote for it go. Garbage collection would remove them with a
      // deleted Service, but not when only the annotation was removed.
      await this.written.apply(namespace, { create: [], update: [], delete: held });
      return;
    }
    const uid = await this.realUidOf(svc, held);
    if (uid === undefined) return; // the Service is gone or was recreated; its own event brings us back
    // An invalid selector is the Service's own problem: every slice goes. Otherwise the slices of a cluster that
    // has not listed yet stay as they are (a restart during its outage).
    const unlisted = result.valid ? unlistedClusters(this.opts.cache) : new Set<string>();
    const plan = planSlices(
      { localCluster: this.opts.localCluster, namespace, service: name, owner: serviceOwner(name, uid) },
      result.valid ? result.endpoints : [],
      held,
      this.opts.maxEndpointsPerSlice,
      unlisted,
    );
    await this.written.apply(namespace, plan);
    this.unlistedWaiters.wait(
      key,
      held.map(sourceClusterOf).filter((c) => unlisted.has(c)),
    );
  }

  /** The endpoints of a federated Service; its backends selected again only after a Service changed. */
  private compute(svc: MeshService) {
    const key = keyOf(svc.namespace, svc.name);
    let selection = this.selections.get(key);
    if (!selection) {
      selection = selectBackends(svc, this.opts.cache.list('Service', { namespace: svc.namespace }));
      this.remember(key, selection);
    }
    return endpointsOfSelection(
      svc,
      selection,
      (c, ns, n) => this.opts.cache.slicesOfService(c, ns, n),
      this.localNetworks,
    );
  }

  /** Keeps a selection, and which federated Services each backend's slice events concern. */
  private remember(key: string, selection: BackendSelection): void {
    this.forgetSelection(key);
    this.selections.set(key, selection);
    if (!selection.valid) return;
    const backends = selection.backends.map((b) => `${b.cluster}/${b.namespace}/${b.name}`);
    this.selects.set(key, backends);
    this.selectedBy.move(key, [], backends);
  }

  private forgetSelection(key: string): void {
    this.selectedBy.move(key, this.selects.get(key) ?? [], []);
    this.selects.delete(key);
    this.selections.delete(key);
  }

  /** The owner uid: from a slice we wrote when it matches (a restart needs no request), else looked up. */
  private realUidOf(svc: MeshService, held: readonly WrittenSlice[]): Promise<string | undefined> {
    return this.realUids.of(
      svc,
      held.map((s) => s.ownerUid),
    );
  }
}
