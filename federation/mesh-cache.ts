import { EventHistory } from '../core/kube/event-history.js';
import { CLUSTER_LABEL } from '../core/selector/cluster-scope.js';
import type { LabelLookup } from '../core/selector/evaluate.js';
import { federatedSelectorOf } from './federated-services/federated-service.js';
import type {
  ClusterStatus,
  HostEndpoint,
  LabelMap,
  MeshEndpointSlice,
  MeshEvent,
  MeshKind,
  MeshObject,
  MeshObjectOf,
  MeshService,
  WorkloadEndpoint,
} from './mesh-types.js';
import { meshKinds } from './mesh-types.js';
import { NamespacedStore, splitKey } from './namespaced-store.js';
import { diffRelist } from './relist-diff.js';
import { sameMeshObject } from './slim.js';

/** A watch asked to resume from a revision the history no longer holds (the API server's 410 Expired). */
export class RevisionTooOldError extends Error {
  constructor(
    readonly requested: number,
    readonly oldest: number,
  ) {
    super(`too old resource version: ${requested} (${oldest})`);
    this.name = 'RevisionTooOldError';
  }
}

export interface MeshSnapshot {
  readonly revision: number;
  readonly objects: readonly MeshObject[];
  readonly clusters: readonly ClusterStatus[];
}

export interface SubscribeOptions {
  /** Only events of these kinds (cluster status events always come). Default: every kind. */
  readonly kinds?: readonly MeshKind[];
  /**
   * Resume after this revision: the held events after it are delivered first, then live ones. Throws
   * RevisionTooOldError when they are no longer held. Without it the subscription starts with a snapshot.
   */
  readonly fromRevision?: number;
}

export interface MeshSubscription {
  /** The consistent starting point, when no `fromRevision` was given: events follow it without a gap. */
  readonly snapshot: MeshSnapshot | undefined;
  unsubscribe(): void;
}

export interface ListFilter {
  readonly cluster?: string;
  readonly namespace?: string;
}

export type MeshListener = (ev: MeshEvent) => void;

export type KindCounts = Record<MeshKind, number>;

/** What readers (API server, federated services controller, agent) may use. */
export interface MeshCacheReader {
  /** The revision of the latest change. */
  readonly revision: number;
  /** The oldest revision a subscription may resume from. */
  readonly oldestRevision: number;
  get<K extends MeshKind>(kind: K, cluster: string, namespace: string, name: string): MeshObjectOf<K> | undefined;
  list<K extends MeshKind>(kind: K, filter?: ListFilter): MeshObjectOf<K>[];
  /** Workload endpoints holding this IP (more than one only with overlapping pod CIDRs). */
  endpointsByIp(ip: string): readonly WorkloadEndpoint[];
  /** Federated Services (federated-service.ts: the annotation and no spec.selector), in every cluster. */
  federatedServices(): MeshService[];
  /** The selector of a federated Service (fedmesh's annotation first, then Calico's); undefined if not federated. */
  serviceSelectorOf(svc: MeshService): string | undefined;
  /** The EndpointSlices of one Service of one cluster. */
  slicesOfService(cluster: string, namespace: string, service: string): MeshEndpointSlice[];
  counts(cluster: string): KindCounts;
  clusterStatus(cluster: string): ClusterStatus | undefined;
  clusterStatuses(): ClusterStatus[];
  /**
   * Whether the cache holds every object of this kind of this cluster as of this process: a full list of it
   * completed, or its objects were withdrawn (emptied on purpose). False until then: the absence of an object of a
   * cluster that has not listed since the process started says nothing about that cluster.
   */
  listed(cluster: string, kind: MeshKind): boolean;
  /**
   * The labels a selector sees on an endpoint: its own, the virtual `fedmesh.io/cluster`, and for pods what
   * Calico adds: `projectcalico.org/namespace`, `…/orchestrator`, `…/serviceaccount`, and the namespace's labels
   * as `pcns.<key>` (plus `pcns.projectcalico.org/name`).
   */
  selectorLabels(ep: WorkloadEndpoint | HostEndpoint): LabelLookup;
  snapshot(kinds?: readonly MeshKind[]): MeshSnapshot;
  subscribe(listener: MeshListener, opts?: SubscribeOptions): MeshSubscription;
}

/** What the connections write. */
export interface MeshCacheWriter {
  /**
   * A complete fresh list of one kind of one cluster: applies only the real differences. Keys are the
   * informer's (`namespace/name`); objects are stored under their own namespace and name, which are the same.
   */
  replaceAll(cluster: string, kind: MeshKind, items: ReadonlyMap<string, MeshObject>): void;
  upsert(cluster: string, kind: MeshKind, key: string, obj: MeshObject): void;
  remove(cluster: string, kind: MeshKind, key: string): void;
  /** Deletes every object of the cluster (RCC deleted, or withdrawn after its ttl). */
  removeObjects(cluster: string): void;
  setClusterStatus(status: ClusterStatus): void;
  forgetCluster(cluster: string): void;
}

type Store = NamespacedStore<MeshObject>;
type KindMaps = Map<MeshKind, Store>;

interface Subscriber {
  readonly listener: MeshListener;
  readonly kinds: ReadonlySet<MeshKind> | undefined;
}

function emptyCounts(): KindCounts {
  return { WorkloadEndpoint: 0, HostEndpoint: 0, Namespace: 0, Service: 0, EndpointSlice: 0 };
}

function sameStatus(a: ClusterStatus, b: ClusterStatus): boolean {
  return (
    a.state === b.state &&
    a.reason === b.reason &&
    a.message === b.message &&
    a.staleSince === b.staleSince &&
    a.withdrawn === b.withdrawn &&
    a.lastSyncTime === b.lastSyncTime &&
    a.local === b.local
  );
}

/**
 * The in-memory store of every cluster's slim objects, with a single monotonically increasing revision, a
 * bounded event history and synchronous, ordered delivery to subscribers. Single-threaded: a snapshot and the
 * events after it can never interleave.
 */
export class MeshCache implements MeshCacheReader, MeshCacheWriter {
  private rev = 0;
  private readonly objects = new Map<string, KindMaps>();
  private readonly statuses = new Map<string, ClusterStatus>();
  /** The kinds of each cluster that `listed` says are complete. */
  private readonly complete = new Map<string, Set<MeshKind>>();
  private readonly history: EventHistory<MeshEvent>;
  private readonly subscribers = new Set<Subscriber>();
  private readonly byIp = new Map<string, WorkloadEndpoint | WorkloadEndpoint[]>();
  private readonly slicesByService = new Map<string, Set<MeshEndpointSlice>>();
  private readonly federated = new Set<MeshService>();

  private readonly onListenerError: (err: unknown) => void;

  constructor(opts: { historySize?: number; onListenerError?: (err: unknown) => void } = {}) {
    this.history = new EventHistory(opts.historySize ?? 10_000);
    this.onListenerError = opts.onListenerError ?? ((err: unknown) => console.error(err));
  }

  get revision(): number {
    return this.rev;
  }

  get oldestRevision(): number {
    const oldest = this.history.oldest;
    return oldest === undefined ? this.rev : oldest - 1;
  }

  private kindMap(cluster: string, kind: MeshKind, create: true): Store;
  private kindMap(cluster: string, kind: MeshKind, create: false): Store | undefined;
  private kindMap(cluster: string, kind: MeshKind, create: boolean): Store | undefined {
    let kinds = this.objects.get(cluster);
    if (!kinds) {
      if (!create) return undefined;
      kinds = new Map();
      this.objects.set(cluster, kinds);
    }
    let m = kinds.get(kind);
    if (!m && create) {
      m = new NamespacedStore();
      kinds.set(kind, m);
    }
    return m;
  }

  // ---- reads

  get<K extends MeshKind>(kind: K, cluster: string, namespace: string, name: string): MeshObjectOf<K> | undefined {
    return this.kindMap(cluster, kind, false)?.get(namespace, name) as MeshObjectOf<K> | undefined;
  }

  list<K extends MeshKind>(kind: K, filter: ListFilter = {}): MeshObjectOf<K>[] {
    const out: MeshObjectOf<K>[] = [];
    const clusters = filter.cluster === undefined ? [...this.objects.keys()] : [filter.cluster];
    for (const c of clusters) {
      const store = this.kindMap(c, kind, false);
      if (!store) continue;
      const objects = filter.namespace === undefined ? store.values() : store.inNamespace(filter.namespace);
      for (const o of objects) out.push(o as MeshObjectOf<K>);
    }
    return out;
  }

  endpointsByIp(ip: string): readonly WorkloadEndpoint[] {
    const e = this.byIp.get(ip);
    return e === undefined ? [] : Array.isArray(e) ? e : [e];
  }

  federatedServices(): MeshService[] {
    return [...this.federated];
  }

  serviceSelectorOf(svc: MeshService): string | undefined {
    return federatedSelectorOf(svc);
  }

  slicesOfService(cluster: string, namespace: string, service: string): MeshEndpointSlice[] {
    return [...(this.slicesByService.get(`${cluster}/${namespace}/${service}`) ?? [])];
  }

  counts(cluster: string): KindCounts {
    const c = emptyCounts();
    for (const [kind, store] of this.objects.get(cluster) ?? []) c[kind] = store.size;
    return c;
  }

  clusterStatus(cluster: string): ClusterStatus | undefined {
    return this.statuses.get(cluster);
  }

  clusterStatuses(): ClusterStatus[] {
    return [...this.statuses.values()];
  }

  listed(cluster: string, kind: MeshKind): boolean {
    return this.complete.get(cluster)?.has(kind) ?? false;
  }

  selectorLabels(ep: WorkloadEndpoint | HostEndpoint): LabelLookup {
    if (ep.kind === 'HostEndpoint') {
      return { get: (key) => (key === CLUSTER_LABEL ? ep.cluster : own(ep.labels, key)) };
    }
    return {
      get: (key) => {
        if (key === CLUSTER_LABEL) return ep.cluster;
        if (key === 'projectcalico.org/namespace') return ep.namespace;
        if (key === 'projectcalico.org/orchestrator') return 'k8s';
        if (key === 'projectcalico.org/serviceaccount') return ep.serviceAccount;
        if (key.startsWith('pcns.')) {
          const nsKey = key.slice(5);
          if (nsKey === 'projectcalico.org/name') return ep.namespace;
          const ns = this.get('Namespace', ep.cluster, '', ep.namespace);
          return ns ? own(ns.labels, nsKey) : undefined;
        }
        // Calico strips these from a workload's own labels: a pod must not pose as another namespace's.
        if (key.startsWith('pcsa.')) return key === 'pcsa.projectcalico.org/name' ? ep.serviceAccount : undefined;
        return own(ep.labels, key);
      },
    };
  }

  snapshot(kinds?: readonly MeshKind[]): MeshSnapshot {
    const wanted = kinds ? new Set(kinds) : undefined;
    const objects: MeshObject[] = [];
    for (const kindMaps of this.objects.values()) {
      for (const [kind, m] of kindMaps) {
        if (wanted && !wanted.has(kind)) continue;
        for (const o of m.values()) objects.push(o);
      }
    }
    return { revision: this.rev, objects, clusters: this.clusterStatuses() };
  }

  subscribe(listener: MeshListener, opts: SubscribeOptions = {}): MeshSubscription {
    const sub: Subscriber = { listener, kinds: opts.kinds ? new Set(opts.kinds) : undefined };
    let snapshot: MeshSnapshot | undefined;
    if (opts.fromRevision === undefined) {
      snapshot = this.snapshot(opts.kinds);
    } else {
      const missed = this.history.since(opts.fromRevision, this.rev);
      if (missed === undefined) throw new RevisionTooOldError(opts.fromRevision, this.oldestRevision);
      for (const ev of missed) this.deliver(sub, ev);
    }
    this.subscribers.add(sub);
    return { snapshot, unsubscribe: () => this.subscribers.delete(sub) };
  }

  // ---- writes

  replaceAll(cluster: string, kind: MeshKind, items: ReadonlyMap<string, MeshObject>): void {
    const held = this.kindMap(cluster, kind, true);
    const diff = diffRelist(held, items.values(), sameMeshObject);
    for (const prev of diff.deleted) this.applyDelete(held, prev);
    for (const [prev, next] of diff.modified) this.applyUpsert(held, prev, next);
    for (const next of diff.added) this.applyUpsert(held, undefined, next);
    this.markListed(cluster, [kind]);
  }

  upsert(cluster: string, kind: MeshKind, _key: string, obj: MeshObject): void {
    const held = this.kindMap(cluster, kind, true);
    const prev = held.get(obj.namespace, obj.name);
    if (prev && sameMeshObject(prev, obj)) return;
    this.applyUpsert(held, prev, obj);
  }

  remove(cluster: string, kind: MeshKind, key: string): void {
    const held = this.kindMap(cluster, kind, false);
    if (!held) return;
    const { namespace, name } = splitKey(key);
    const prev = held.get(namespace, name);
    if (prev) this.applyDelete(held, prev);
  }

  removeObjects(cluster: string): void {
    this.markListed(cluster, meshKinds);
    const kinds = this.objects.get(cluster);
    if (!kinds) return;
    for (const held of kinds.values()) for (const prev of [...held.values()]) this.applyDelete(held, prev);
    this.objects.delete(cluster);
  }

  setClusterStatus(status: ClusterStatus): void {
    const prev = this.statuses.get(status.cluster);
    if (prev && sameStatus(prev, status)) return;
    this.statuses.set(status.cluster, status);
    this.emit({ type: 'cluster', revision: ++this.rev, status });
  }

  forgetCluster(cluster: string): void {
    this.removeObjects(cluster);
    this.statuses.delete(cluster);
    this.complete.delete(cluster);
  }

  private markListed(cluster: string, kinds: readonly MeshKind[]): void {
    let set = this.complete.get(cluster);
    if (!set) {
      set = new Set();
      this.complete.set(cluster, set);
    }
    for (const k of kinds) set.add(k);
  }

  private applyUpsert(held: Store, prev: MeshObject | undefined, next: MeshObject) {
    // A new uid under the same name is a new object: readers see it go and come, as Kubernetes clients would.
    if (prev && prev.uid !== next.uid) {
      this.applyDelete(held, prev);
      prev = undefined;
    }
    if (prev) this.unindex(prev);
    next.revision = ++this.rev;
    held.set(next);
    this.index(next);
    this.emit({ type: prev ? 'modified' : 'added', revision: next.revision, object: next });
  }

  private applyDelete(held: Store, prev: MeshObject) {
    held.delete(prev.namespace, prev.name);
    this.unindex(prev);
    this.emit({ type: 'deleted', revision: ++this.rev, object: prev });
  }

  private emit(ev: MeshEvent): void {
    this.history.push(ev);
    for (const sub of this.subscribers) this.deliver(sub, ev);
  }

  private deliver(sub: Subscriber, ev: MeshEvent): void {
    if (ev.type !== 'cluster' && sub.kinds && !sub.kinds.has(ev.object.kind)) return;
    try {
      sub.listener(ev);
    } catch (err) {
      this.onListenerError(err);
    }
  }

  private index(o: MeshObject): void {
    if (o.kind === 'WorkloadEndpoint') {
      for (const ip of o.ips) {
        const e = this.byIp.get(ip);
        if (e === undefined) this.byIp.set(ip, o);
        else if (Array.isArray(e)) e.push(o);
        else this.byIp.set(ip, [e, o]);
      }
    } else if (o.kind === 'EndpointSlice' && o.serviceName) {
      const k = `${o.cluster}/${o.namespace}/${o.serviceName}`;
      let set = this.slicesByService.get(k);
      if (!set) {
        set = new Set();
        this.slicesByService.set(k, set);
      }
      set.add(o);
    } else if (o.kind === 'Service' && this.serviceSelectorOf(o) !== undefined) {
      this.federated.add(o);
    }
  }

  private unindex(o: MeshObject): void {
    if (o.kind === 'WorkloadEndpoint') {
      for (const ip of o.ips) {
        const e = this.byIp.get(ip);
        if (e === o) this.byIp.delete(ip);
        else if (Array.isArray(e)) {
          const rest = e.filter((x) => x !== o);
          if (rest.length === 1 && rest[0]) this.byIp.set(ip, rest[0]);
          else this.byIp.set(ip, rest);
        }
      }
    } else if (o.kind === 'EndpointSlice' && o.serviceName) {
      const k = `${o.cluster}/${o.namespace}/${o.serviceName}`;
      const set = this.slicesByService.get(k);
      set?.delete(o);
      if (set && set.size === 0) this.slicesByService.delete(k);
    } else if (o.kind === 'Service') {
      this.federated.delete(o);
    }
  }
}

function own(labels: LabelMap, key: string): string | undefined {
  return Object.hasOwn(labels, key) ? labels[key] : undefined;
}
