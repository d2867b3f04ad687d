// The multi-cluster services API in fedmesh: each cluster's leader
//  - announces its own ServiceExports to the clusterset (announcement.ts) and keeps their Valid and Conflict
//    conditions;
//  - gives every namespace of its cluster a ServiceImport for each Service name exported anywhere, with the merged
//    type and ports (clusterset.ts), a derived Service that holds the clusterset IP (what kube-proxy programs), and
//    EndpointSlices of the exported Services' endpoints, one source cluster per slice, labelled
//    multicluster.kubernetes.io/service-name and …/source-cluster, owned by the ServiceImport.
// The same queue, slice plan and writer as federated Services; only the leader writes.
import { createHash } from 'node:crypto';
import { type KubeObject, ResilientInformer } from '../../../core/kube/resilient-informer.js';
import { isStatus, KubeApiError } from '../../../core/kube/rest-client.js';
import type { MeshEvent, MeshService } from '../../mesh-types.js';
import { rccGroup, rccKind, rccPath, rccVersion } from '../../rcc-spec.js';
import { endpointsOfBackends, type FederatedEndpointAddress, localAddressWarnings } from '../endpoints.js';
import { EventRecorder } from '../events.js';
import { derivedServiceLabel } from '../federated-service.js';
import { LocalNetworks } from '../local-networks.js';
import { type FederatedServicesMetrics, federatedServicesMetrics } from '../metrics.js';
import {
  mcsServiceNameLabel,
  type OwnerReference,
  planSlices,
  serviceNameLabel,
  sourceClusterOf,
  type WrittenSlice,
} from '../slice-plan.js';
import { UnlistedWaiters, unlistedClusters } from '../unlisted-clusters.js';
import { type LeaderControllerOptions, WorkQueue } from '../work-queue.js';
import { WrittenSliceView } from '../written-slices.js';
import {
  type Announcement,
  announcementBody,
  announcementName,
  announcementNameTakenMessage,
  announcementOf,
  isOwnAnnouncement,
  mcsManagedBy,
} from './announcement.js';
import {
  type ClustersetService,
  type Condition,
  exportable,
  exportConditions,
  type ImportNameTaken,
  type ImportPort,
  importNameTakenMessage,
  mergeExports,
} from './clusterset.js';
import { mcsGroup, mcsVersion, serviceExportPlural, serviceImportPlural } from './crds.js';
import { DEFAULT_MAX_EXPORTS_PER_CLUSTER, ExportLimit } from './export-limit.js';

export interface ServiceImportOptions extends LeaderControllerOptions {
  /** Who writes the Events (their reportingInstance), e.g. the pod name. */
  readonly instance?: string;
  /** Exports of one remote cluster imported at most (export-limit.ts); default DEFAULT_MAX_EXPORTS_PER_CLUSTER. */
  readonly maxExportsPerCluster?: number;
  /** Least time between two choices of the exports of clusters over the limit (default 1 s). */
  readonly exportLimitPeriodMs?: number;
}

const controllerName = 'service-imports';
const managedByKey = 'app.kubernetes.io/managed-by';
export const managedByFedmesh = { [managedByKey]: 'fedmesh' } as const;
/** On a ServiceImport: the Service that holds its clusterset IP (the name the Gateway API reads too). */
export const derivedServiceAnnotation = 'multicluster.kubernetes.io/derived-service';

const apiBase = `/apis/${mcsGroup}/${mcsVersion}`;
const nsPath = (ns: string, plural: string, name?: string) =>
  `${apiBase}/namespaces/${encodeURIComponent(ns)}/${plural}${name === undefined ? '' : `/${encodeURIComponent(name)}`}`;
const servicePath = (ns: string, name?: string) =>
  `/api/v1/namespaces/${encodeURIComponent(ns)}/services${name === undefined ? '' : `/${encodeURIComponent(name)}`}`;
const slicesPath = (ns: string) => `/apis/discovery.k8s.io/v1/namespaces/${encodeURIComponent(ns)}/endpointslices`;
const slicePath = (ns: string, name: string) => `${slicesPath(ns)}/${encodeURIComponent(name)}`;
const announcementSuffix = '-export';

/** What decides whether a slice may be written or deleted as an announcement. */
interface SliceMeta {
  readonly uid: string;
  readonly resourceVersion: string;
  readonly labels: Readonly<Record<string, string>>;
}

interface ServiceFacts {
  readonly uid: string;
  readonly headless: boolean;
  readonly clusterIPs: string[];
  /** uid of its controller owner ('' when none). */
  readonly ownerUid: string;
}

interface HeldCondition extends Condition {
  readonly lastTransitionTime: string;
}

interface LocalExport {
  readonly namespace: string;
  readonly name: string;
  readonly uid: string;
  readonly exportedAt: number;
  readonly conditions: readonly HeldCondition[];
}

interface HeldImport {
  /** fedmesh wrote it (its managed-by label); any other ServiceImport of a name is a user's, never touched. */
  readonly managed: boolean;
  readonly namespace: string;
  readonly name: string;
  readonly uid: string;
  readonly resourceVersion: string;
  readonly type: string;
  readonly ports: readonly ImportPort[];
  readonly ips: readonly string[];
  readonly clusters: readonly string[];
  readonly derived: string;
  /** Its Ready condition: whether the derived Service (and so the clusterset IP) is in place. */
  readonly ready: Omit<HeldCondition, 'type'> | undefined;
}

/** The ServiceImport's Ready condition (the type upstream MCS controllers use). */
interface ImportReady {
  readonly type: 'Ready';
  readonly status: 'True' | 'False';
  readonly reason: 'Ready' | 'DerivedServiceFailed';
  readonly message: string;
}

/** The derived Service could not be written: why, in the API server's words. */
class DerivedServiceError extends Error {
  constructor(action: 'create' | 'update', service: string, cause: unknown) {
    const why = cause instanceof KubeApiError ? (cause.status.message ?? cause.message) : String(cause);
    super(`cannot ${action} the derived Service ${service}: ${why.slice(0, 1000)}`);
    this.name = 'DerivedServiceError';
  }
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown) => (typeof v === 'string' ? v : '');
const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const keyOf = (namespace: string, name: string) => `${namespace}/${name}`;
function splitKey(key: string): { namespace: string; name: string } {
  const i = key.indexOf('/');
  return { namespace: key.slice(0, i), name: key.slice(i + 1) };
}

function exportOf(raw: KubeObject): LocalExport | undefined {
  const m = raw.metadata as Record<string, unknown> | undefined;
  if (!isRecord(m) || !str(m.name) || !str(m.namespace)) return undefined;
  const created = Date.parse(str(m.creationTimestamp));
  const status = isRecord(raw.status) ? raw.status : {};
  return {
    namespace: str(m.namespace),
    name: str(m.name),
    uid: str(m.uid),
    exportedAt: Number.isFinite(created) ? Math.floor(created / 1000) : 0,
    conditions: list(status.conditions)
      .filter(isRecord)
      .map((c) => ({
        type: c.type === 'Conflict' ? 'Conflict' : 'Valid',
        status: c.status === 'True' ? 'True' : 'False',
        reason: str(c.reason),
        message: str(c.message),
        lastTransitionTime: str(c.lastTransitionTime),
      })),
  };
}

function importOf(raw: KubeObject): HeldImport | undefined {
  const m = raw.metadata as Record<string, unknown> | undefined;
  if (!isRecord(m) || !str(m.name) || !str(m.namespace)) return undefined;
  const spec = isRecord(raw.spec) ? raw.spec : {};
  const status = isRecord(raw.status) ? raw.status : {};
  const annotations = isRecord(m.annotations) ? m.annotations : {};
  const labels = isRecord(m.labels) ? m.labels : {};
  return {
    managed: labels[managedByKey] === managedByFedmesh[managedByKey],
    namespace: str(m.namespace),
    name: str(m.name),
    uid: str(m.uid),
    resourceVersion: str(m.resourceVersion),
    type: str(spec.type),
    ports: list(spec.ports)
      .filter(isRecord)
      .map((p) => ({
        name: str(p.name),
        protocol: p.protocol === 'UDP' || p.protocol === 'SCTP' ? p.protocol : 'TCP',
        port: typeof p.port === 'number' ? p.port : 0,
      })),
    ips: list(spec.ips).map(str),
    clusters: list(status.clusters)
      .filter(isRecord)
      .map((c) => str(c.cluster)),
    derived: str(annotations[derivedServiceAnnotation]),
    ready: list(status.conditions)
      .filter(isRecord)
      .filter((c) => c.type === 'Ready')
      .map((c) => ({
        status: c.status === 'True' ? ('True' as const) : ('False' as const),
        reason: str(c.reason),
        message: str(c.message),
        lastTransitionTime: str(c.lastTransitionTime),
      }))[0],
  };
}

/** `derived-<hash>`: a Service name that cannot clash with a user's, stable for the namespace and name. */
export function derivedServiceName(namespace: string, name: string): string {
  return `derived-${createHash('sha256').update(`${namespace}/${name}`).digest('hex').slice(0, 10)}`;
}

/** The unlisted clusters that have a part in a held import: named in its status, or holding slices of it. */
function unlistedParts(
  imp: HeldImport | undefined,
  slices: readonly WrittenSlice[],
  unlisted: ReadonlySet<string>,
): string[] {
  const parts = new Set([...(imp?.clusters ?? []), ...slices.map(sourceClusterOf)]);
  return [...parts].filter((c) => unlisted.has(c));
}

const samePorts = (a: readonly ImportPort[], b: readonly ImportPort[]) =>
  a.length === b.length &&
  a.every((p, i) => p.name === b[i]?.name && p.port === b[i]?.port && p.protocol === b[i]?.protocol);
const sameList = (a: readonly string[], b: readonly string[]) => a.length === b.length && a.every((x, i) => x === b[i]);

export class ServiceImportController {
  private readonly exports = new Map<string, LocalExport>();
  private readonly imports = new Map<string, HeldImport>();
  /** namespace/name → cluster → its announcement, from the mesh (every cluster, this one included). */
  private readonly announcements = new Map<string, Map<string, Announcement>>();
  private readonly exportInformer: ResilientInformer<LocalExport>;
  private readonly importInformer: ResilientInformer<HeldImport>;
  private readonly written: WrittenSliceView;
  private readonly queue: WorkQueue;
  /** Facts about local Services read once (headlessness, clusterIPs), by the mesh's uid. */
  private readonly serviceFacts = new Map<string, ServiceFacts>();
  private readonly metrics: FederatedServicesMetrics | undefined;
  private readonly events: EventRecorder;
  private unsubscribe: () => void = () => {};
  private ready = false;
  private readonly exportLimit: ExportLimit;
  /** This cluster's own addresses, which no remote endpoint may take. */
  private readonly localNetworks: LocalNetworks;
  private settleTimer: NodeJS.Timeout | undefined;
  private lastSettle = 0;
  /** What the log last said of each cluster over the limit (said again only when it changes). */
  private readonly loggedOverLimit = new Map<string, string>();
  private readonly unlistedWaiters: UnlistedWaiters;

  constructor(private readonly opts: ServiceImportOptions) {
    this.metrics = opts.registry ? federatedServicesMetrics(opts.registry) : undefined;
    this.metrics?.register(controllerName, { managed: () => this.managedCount, queueDepth: () => this.queue.depth });
    this.events = new EventRecorder(opts.client, opts.log, opts.instance ?? 'fedmesh-server', this.metrics);
    this.exportLimit = new ExportLimit(opts.maxExportsPerCluster ?? DEFAULT_MAX_EXPORTS_PER_CLUSTER, opts.localCluster);
    // A node that comes or goes changes which remote addresses are this cluster's own: every import again.
    this.localNetworks = new LocalNetworks(opts.cache, opts.localCluster, () => {
      if (this.ready) this.resume();
    });
    this.unlistedWaiters = new UnlistedWaiters(opts.cache, (key) => this.queue.add(key));
    this.metrics?.registerLeftOut(() => this.exportLimit.overLimit());
    this.queue = new WorkQueue({
      sync: (key) => this.sync(key),
      mayRun: () => this.ready && opts.mayWrite(),
      concurrency: opts.concurrency ?? 8,
      onError: (key, attempt, retryInMs, err) => {
        this.metrics?.syncErrors.inc({ controller: controllerName });
        opts.log.warn({ service: key, attempt, retryInMs, err: String(err) }, 'ServiceImport sync failed');
      },
    });
    const informer = <T extends { namespace: string; name: string }>(
      plural: string,
      convert: (raw: KubeObject) => T | undefined,
      into: Map<string, T>,
      query?: Record<string, string>,
    ) =>
      new ResilientInformer<T>({
        client: opts.client,
        path: `${apiBase}/${plural}`,
        ...(query ? { query } : {}),
        convert,
        handlers: {
          onList: (items) => {
            const keys = new Set(into.keys());
            into.clear();
            for (const [k, v] of items) {
              into.set(k, v);
              keys.add(k);
            }
            for (const k of keys) this.queue.add(k);
          },
          onUpsert: (k, v) => {
            into.set(k, v);
            this.queue.add(k);
          },
          onDelete: (k) => {
            into.delete(k);
            this.queue.add(k);
          },
          onPhase: (phase, failure) => {
            if (phase === 'failed') {
              opts.log.warn(
                { resource: `${plural}.${mcsGroup}`, err: String(failure?.error) },
                'cannot list or watch (are the multicluster.x-k8s.io CRDs installed?)',
              );
            }
          },
        },
      });
    this.exportInformer = informer(serviceExportPlural, exportOf, this.exports);
    // Every ServiceImport, not only fedmesh's: a name a user's import already holds is left alone, and said so.
    this.importInformer = informer(serviceImportPlural, importOf, this.imports);
    this.written = new WrittenSliceView({
      client: opts.client,
      managedBy: mcsManagedBy,
      groupLabel: mcsServiceNameLabel,
      alsoSelect: serviceNameLabel,
      onChange: (key) => this.queue.add(key),
      log: opts.log,
      controller: controllerName,
      ...(this.metrics ? { writes: this.metrics.writes } : {}),
    });
  }

  start(): void {
    const sub = this.opts.cache.subscribe((ev) => this.onMeshEvent(ev), {
      kinds: ['Service', 'EndpointSlice', 'Namespace', 'HostEndpoint'],
    });
    this.unsubscribe = sub.unsubscribe;
    for (const o of sub.snapshot?.objects ?? []) this.onMeshEvent({ type: 'added', revision: o.revision, object: o });
    this.exportInformer.start();
    this.importInformer.start();
    this.written.start();
    void Promise.all([
      this.opts.meshReady,
      this.exportInformer.synced,
      this.importInformer.synced,
      this.written.synced,
    ]).then(() => {
      this.ready = true;
      this.resume();
    });
  }

  resume(): void {
    for (const k of [
      ...this.exports.keys(),
      ...this.imports.keys(),
      ...this.announcements.keys(),
      ...this.written.keys(),
    ]) {
      this.queue.add(k);
    }
    this.queue.kick();
  }

  idle(): Promise<void> {
    return this.queue.idle();
  }

  private get managedCount(): number {
    let n = 0;
    for (const imp of this.imports.values()) if (imp.managed) n++;
    return n;
  }

  async stop(): Promise<void> {
    this.unsubscribe();
    clearTimeout(this.settleTimer);
    this.settleTimer = undefined;
    this.unlistedWaiters.stop();
    this.queue.stop();
    await Promise.all([this.exportInformer.stop(), this.importInformer.stop(), this.written.stop()]);
  }

  private onMeshEvent(ev: MeshEvent): void {
    if (ev.type === 'cluster') {
      this.unlistedWaiters.check();
      return;
    }
    const o = ev.object;
    if (o.kind === 'EndpointSlice') {
      // A slice that has (or had) the name of an announcement of ours: whether the name is free may have changed.
      if (o.cluster === this.opts.localCluster && o.name.endsWith(announcementSuffix)) {
        const k = keyOf(o.namespace, o.name.slice(0, -announcementSuffix.length));
        if (this.exports.has(k)) this.queue.add(k);
      }
      const a = announcementOf(o);
      if (a) {
        const key = keyOf(a.namespace, a.name);
        let m = this.announcements.get(key);
        if (ev.type === 'deleted') {
          m?.delete(a.cluster);
          if (m?.size === 0) this.announcements.delete(key);
          this.exportLimit.delete(a.cluster, a.namespace, a.name);
        } else {
          if (!m) {
            m = new Map();
            this.announcements.set(key, m);
          }
          m.set(a.cluster, a);
          this.exportLimit.set(a);
        }
        this.scheduleSettle();
        this.queue.add(key);
      } else if (o.serviceName && this.announcements.get(keyOf(o.namespace, o.serviceName))?.has(o.cluster)) {
        this.queue.add(keyOf(o.namespace, o.serviceName));
      }
    } else if (o.kind === 'Service') {
      const key = keyOf(o.namespace, o.name);
      if (this.announcements.has(key) || this.exports.has(key)) this.queue.add(key);
      const owner = o.cluster === this.opts.localCluster ? o.labels[derivedServiceLabel] : undefined;
      if (owner) this.queue.add(keyOf(o.namespace, owner));
      if (ev.type === 'deleted') this.serviceFacts.delete(o.uid);
    } else if (o.kind === 'HostEndpoint') {
      this.localNetworks.onNodeEvent(ev.type, o.cluster);
    } else if (o.kind === 'Namespace' && o.cluster === this.opts.localCluster && ev.type !== 'modified') {
      // A namespace created here after a Service of its name was exported gets its imports now (and one deleted
      // loses them with it); the clusters over their export limit choose again.
      const prefix = `${o.name}/`;
      for (const key of this.announcements.keys()) if (key.startsWith(prefix)) this.queue.add(key);
      this.exportLimit.namespacesChanged();
      this.scheduleSettle();
    }
  }

  /** Chooses again, at most once a period, which exports of the clusters over their limit are imported. */
  private scheduleSettle(): void {
    if (this.settleTimer !== undefined || !this.exportLimit.needsSettle) return;
    const period = this.opts.exportLimitPeriodMs ?? 1000;
    const wait = Math.max(0, this.lastSettle + period - Date.now());
    this.settleTimer = setTimeout(() => {
      this.settleTimer = undefined;
      this.lastSettle = Date.now();
      const local = this.opts.localCluster;
      const changed = this.exportLimit.settle((ns) => this.opts.cache.get('Namespace', local, '', ns) !== undefined);
      for (const key of changed) this.queue.add(key);
      this.reportOverLimit();
      this.scheduleSettle(); // what changed while it ran
    }, wait);
    this.settleTimer.unref();
  }

  /** Each remote cluster over its export limit: a log line when its figures change, a Warning Event on its RCC. */
  private reportOverLimit(): void {
    const over = this.exportLimit.overLimit();
    const limit = this.exportLimit.limit;
    for (const cluster of new Set([...over.keys(), ...this.loggedOverLimit.keys()])) {
      const figures = over.get(cluster);
      const said = figures ? `${figures.announced}/${figures.leftOut}` : undefined;
      if (said !== this.loggedOverLimit.get(cluster)) {
        if (figures) {
          this.loggedOverLimit.set(cluster, said ?? '');
          this.opts.log.warn(
            { cluster, announced: figures.announced, leftOut: figures.leftOut, limit },
            'a remote cluster exports more Services than this cluster imports from one cluster; its oldest exports are imported, the rest left out',
          );
        } else {
          this.loggedOverLimit.delete(cluster);
          this.opts.log.info(
            { cluster, limit },
            'a remote cluster is within the export limit again: every export is imported',
          );
        }
      }
      // One Event per stretch over the limit (its message holds no counts, so that churn writes no more), written
      // by the leader only, like every other write.
      if (!this.opts.mayWrite()) continue;
      const warnings = figures
        ? [
            {
              reason: 'TooManyExports',
              message: `cluster ${cluster} exports more Services than the ${limit} this cluster imports from one cluster (--max-exports-per-cluster): its ${limit} oldest exports are imported and the others left out until it exports fewer; their count is the metric fedmesh_service_imports_left_out{cluster="${cluster}"}`,
            },
          ]
        : [];
      void this.events
        .report(`export limit ${cluster}`, warnings, async () => {
          const rcc = await this.opts.client.get<{ metadata?: { uid?: unknown } }>(
            `${rccPath}/${encodeURIComponent(cluster)}`,
          );
          const uid = typeof rcc.metadata?.uid === 'string' ? rcc.metadata.uid : '';
          return { apiVersion: `${rccGroup}/${rccVersion}`, kind: rccKind, namespace: '', name: cluster, uid };
        })
        .catch((err: unknown) =>
          this.opts.log.warn({ cluster, err: String(err) }, 'cannot write the export limit Event on the RCC'),
        );
    }
  }

  private async sync(key: string): Promise<void> {
    const { namespace, name } = splitKey(key);
    const local = this.opts.localCluster;
    const exported = [...(this.announcements.get(key)?.values() ?? [])].flatMap((a) => {
      if (!this.exportLimit.admits(a.cluster, key)) return [];
      const service = this.opts.cache.get('Service', a.cluster, namespace, name);
      return service ? [{ cluster: a.cluster, exportedAt: a.exportedAt, headless: a.headless, service }] : [];
    });
    const merged = mergeExports(exported);
    const held = this.imports.get(key);
    const taken: ImportNameTaken | undefined =
      merged && held && !held.managed ? { cluster: local, namespace, name } : undefined;
    await this.syncExport(key, merged, taken);
    if (taken) return; // a user's ServiceImport: not ours to change, nor to delete
    const namespaceExists = this.opts.cache.get('Namespace', local, '', namespace) !== undefined;
    const unlisted = unlistedClusters(this.opts.cache);
    const waitingFor = unlistedParts(held, this.written.get(key), unlisted);
    if (held?.managed && namespaceExists && waitingFor.length > 0) {
      await this.keepImport(
        held,
        exported.map((e) => e.service),
        unlisted,
      );
      this.unlistedWaiters.wait(key, waitingFor);
    } else if (merged && namespaceExists) {
      await this.ensureImport(
        namespace,
        name,
        merged,
        exported.map((e) => e.service),
      );
    } else {
      await this.removeImport(namespace, name);
    }
  }

  /** This cluster's own export: its announcement and its conditions. */
  private async syncExport(
    key: string,
    merged: ClustersetService | undefined,
    taken: ImportNameTaken | undefined,
  ): Promise<void> {
    const { namespace, name } = splitKey(key);
    const local = this.opts.localCluster;
    const exp = this.exports.get(key);
    const announced = this.announcements.get(key)?.get(local);
    const svc = this.opts.cache.get('Service', local, namespace, name);
    let want: Announcement | undefined;
    if (exp && exportable(svc) && svc) {
      const facts = await this.factsOf(svc);
      if (facts) want = { cluster: local, namespace, name, exportedAt: exp.exportedAt, headless: facts.headless };
    }
    // A slice of the announcement's name that is not ours is never taken over (the mesh's copy first, the API
    // server's before any write).
    const cached = this.opts.cache.get('EndpointSlice', local, namespace, announcementName(name));
    let nameTaken = want !== undefined && cached !== undefined && !isOwnAnnouncement(cached.labels, name);
    if (
      want &&
      exp &&
      !nameTaken &&
      (announced?.exportedAt !== want.exportedAt || announced.headless !== want.headless)
    ) {
      const owner: OwnerReference = {
        apiVersion: `${mcsGroup}/${mcsVersion}`,
        kind: 'ServiceExport',
        name,
        uid: exp.uid,
        controller: true,
      };
      if ((await this.writeAnnouncement(namespace, name, announcementBody(local, want, owner))) === 'written') {
        return; // the conditions follow once the announcement is back through the mesh
      }
      nameTaken = true;
    } else if (!want && announced) {
      await this.deleteAnnouncement(namespace, name);
    }
    const takenMessage = nameTaken ? announcementNameTakenMessage(namespace, name) : undefined;
    await this.reportTakenName(key, exp, taken);
    await this.events.report(
      `ServiceExport ${key} announcement`,
      takenMessage ? [{ reason: 'AnnouncementNameTaken', message: takenMessage }] : [],
      async () =>
        exp && { apiVersion: `${mcsGroup}/${mcsVersion}`, kind: 'ServiceExport', namespace, name, uid: exp.uid },
    );
    if (!exp) return;
    const conditions = exportConditions(svc, merged, taken, takenMessage);
    const now = `${new Date().toISOString().slice(0, 19)}Z`;
    const held = new Map(exp.conditions.map((c) => [c.type, c]));
    const next = conditions.map((c) => {
      const h = held.get(c.type);
      return { ...c, lastTransitionTime: h && h.status === c.status ? h.lastTransitionTime : now };
    });
    const same = next.every((c) => {
      const h = held.get(c.type);
      return h && h.status === c.status && h.reason === c.reason && h.message === c.message;
    });
    if (same && held.size === next.length) return;
    await this.opts.client.request('PATCH', `${nsPath(namespace, serviceExportPlural, name)}/status`, {
      body: { status: { conditions: next } },
      contentType: 'application/merge-patch+json',
    });
  }

  /**
   * The slice of that name as the API server holds it now, or undefined when there is none. Listed by name: the
   * server's role may list EndpointSlices (the mesh does), not get them.
   */
  private async readSlice(namespace: string, name: string): Promise<SliceMeta | undefined> {
    const selector = encodeURIComponent(`metadata.name=${name}`);
    const body = await this.opts.client.get<{ items?: unknown }>(`${slicesPath(namespace)}?fieldSelector=${selector}`);
    const found = list(body.items)
      .filter(isRecord)
      .map((o) => (isRecord(o.metadata) ? o.metadata : {}))
      .find((m) => m.name === name);
    if (!found) return undefined;
    const labels = isRecord(found.labels) ? found.labels : {};
    return {
      uid: str(found.uid),
      resourceVersion: str(found.resourceVersion),
      labels: Object.fromEntries(Object.entries(labels).map(([k, v]) => [k, str(v)])),
    };
  }

  /**
   * Creates this cluster's announcement, or updates ours (conditional on the version read): 'taken' when a slice
   * of that name is someone else's. One created meanwhile comes back through the mesh and is decided then.
   */
  private async writeAnnouncement(
    namespace: string,
    name: string,
    body: ReturnType<typeof announcementBody>,
  ): Promise<'written' | 'taken'> {
    const current = await this.readSlice(namespace, body.metadata.name);
    if (!current) {
      try {
        await this.opts.client.request('POST', `${slicesPath(namespace)}?fieldManager=fedmesh`, { body });
      } catch (err) {
        if (!isStatus(err, 409)) throw err;
      }
      return 'written';
    }
    if (!isOwnAnnouncement(current.labels, name)) return 'taken';
    await this.opts.client.request(
      'PATCH',
      `${slicePath(namespace, body.metadata.name)}?fieldManager=fedmesh&force=true`,
      {
        body: { ...body, metadata: { ...body.metadata, resourceVersion: current.resourceVersion } },
        contentType: 'application/apply-patch+yaml',
      },
    );
    return 'written';
  }

  /** Deletes this cluster's announcement: only fedmesh's own, and only the very slice read (uid precondition). */
  private async deleteAnnouncement(namespace: string, name: string): Promise<void> {
    const slice = announcementName(name);
    const current = await this.readSlice(namespace, slice);
    if (!current || !isOwnAnnouncement(current.labels, name)) return;
    try {
      await this.opts.client.delete(slicePath(namespace, slice), { preconditions: { uid: current.uid } });
    } catch (err) {
      if (!isStatus(err, 404) && !isStatus(err, 409)) throw err;
    }
  }

  /**
   * A Warning Event while a user's ServiceImport holds the name: on this cluster's ServiceExport when there is one
   * (its Conflict condition says the same), else on that ServiceImport (which the Event does not change).
   */
  private async reportTakenName(key: string, exp: LocalExport | undefined, taken: ImportNameTaken | undefined) {
    const warnings = taken ? [{ reason: 'ImportNameTaken', message: importNameTakenMessage(taken) }] : [];
    const held = this.imports.get(key);
    await this.events.report(`ServiceImport ${key}`, warnings, async () => {
      const { namespace, name } = splitKey(key);
      const involved = exp
        ? { kind: 'ServiceExport', uid: exp.uid }
        : held
          ? { kind: 'ServiceImport', uid: held.uid }
          : undefined;
      return involved && { apiVersion: `${mcsGroup}/${mcsVersion}`, namespace, name, ...involved };
    });
  }

  private async ensureImport(
    namespace: string,
    name: string,
    merged: ClustersetService,
    backends: readonly MeshService[],
  ): Promise<void> {
    const key = keyOf(namespace, name);
    const derived = derivedServiceName(namespace, name);
    let imp = this.imports.get(key);
    if (!imp) {
      let created: unknown;
      try {
        created = await this.opts.client.create(nsPath(namespace, serviceImportPlural), {
          apiVersion: `${mcsGroup}/${mcsVersion}`,
          kind: 'ServiceImport',
          metadata: { name, namespace, labels: managedByFedmesh, annotations: { [derivedServiceAnnotation]: derived } },
          spec: { type: merged.type, ports: merged.ports, sessionAffinity: 'None' },
        });
      } catch (err) {
        // Created meanwhile (by a user, or ours not seen yet): the informer's event brings us back, and says whose.
        if (isStatus(err, 409)) return;
        throw err;
      }
      imp = this.remember(created);
      if (!imp) return;
    }
    const owner: OwnerReference = {
      apiVersion: `${mcsGroup}/${mcsVersion}`,
      kind: 'ServiceImport',
      name,
      uid: imp.uid,
      controller: true,
    };
    let ips: string[] | undefined;
    try {
      ips = await this.ensureDerivedService(namespace, name, derived, merged, owner);
    } catch (err) {
      if (!(err instanceof DerivedServiceError)) throw err;
      // Said on the import (condition and Event), then retried with backoff like any failed sync.
      const failed: ImportReady = {
        type: 'Ready',
        status: 'False',
        reason: 'DerivedServiceFailed',
        message: `${err.message}; the ServiceImport has no clusterset IP and no endpoints until it can be written`,
      };
      const held = imp;
      await this.events.report(`derived ${key}`, [failed], async () => ({
        apiVersion: `${mcsGroup}/${mcsVersion}`,
        kind: 'ServiceImport',
        namespace,
        name,
        uid: held.uid,
      }));
      await this.patchImportStatus(held, held.clusters, failed);
      throw err;
    }
    if (ips === undefined) return;
    this.events.forget(`derived ${key}`);
    if (imp.type !== merged.type || !samePorts(imp.ports, merged.ports) || !sameList(imp.ips, ips)) {
      const updated = await this.opts.client.request('PUT', nsPath(namespace, serviceImportPlural, name), {
        body: {
          apiVersion: `${mcsGroup}/${mcsVersion}`,
          kind: 'ServiceImport',
          metadata: {
            name,
            namespace,
            resourceVersion: imp.resourceVersion,
            labels: managedByFedmesh,
            annotations: { [derivedServiceAnnotation]: derived },
          },
          spec: { type: merged.type, ports: merged.ports, ...(ips.length > 0 ? { ips } : {}), sessionAffinity: 'None' },
        },
      });
      imp = this.remember(updated.body) ?? imp;
    }
    await this.patchImportStatus(imp, merged.clusters, {
      type: 'Ready',
      status: 'True',
      reason: 'Ready',
      message:
        merged.type === 'Headless'
          ? `the headless derived Service ${derived} is in place`
          : `the derived Service ${derived} holds the clusterset IP`,
    });
    const endpoints = await this.importEndpoints(imp, merged.ports, backends);
    const plan = planSlices(
      {
        localCluster: this.opts.localCluster,
        namespace,
        service: derived,
        clustersetName: name,
        owner,
        managedBy: mcsManagedBy,
      },
      endpoints,
      this.written.get(key),
    );
    await this.written.apply(namespace, plan);
  }

  /**
   * The endpoints of an import's backends; remote addresses that are this cluster's own are left out and said so
   * in a Warning Event on the import.
   */
  private async importEndpoints(
    imp: HeldImport,
    ports: readonly ImportPort[],
    backends: readonly MeshService[],
  ): Promise<FederatedEndpointAddress[]> {
    const refused = new Map<string, number>();
    const endpoints = endpointsOfBackends(
      ports,
      [...backends].sort((a, b) => (a.cluster < b.cluster ? -1 : a.cluster > b.cluster ? 1 : 0)),
      (c, ns, n) => this.opts.cache.slicesOfService(c, ns, n),
      this.localNetworks,
      refused,
    );
    await this.events.report(
      `addresses ${keyOf(imp.namespace, imp.name)}`,
      localAddressWarnings(refused),
      async () => ({
        apiVersion: `${mcsGroup}/${mcsVersion}`,
        kind: 'ServiceImport',
        namespace: imp.namespace,
        name: imp.name,
        uid: imp.uid,
      }),
    );
    return endpoints;
  }

  /** The import's status (exporting clusters, Ready condition), written when it differs from what it holds. */
  private async patchImportStatus(imp: HeldImport, clusters: readonly string[], ready: ImportReady): Promise<void> {
    const held = imp.ready;
    const sameReady = held?.status === ready.status && held.reason === ready.reason && held.message === ready.message;
    if (sameList(imp.clusters, clusters) && sameReady) return;
    const now = `${new Date().toISOString().slice(0, 19)}Z`;
    const condition = {
      ...ready,
      lastTransitionTime: held && held.status === ready.status ? held.lastTransitionTime : now,
    };
    const updated = await this.opts.client.request(
      'PATCH',
      `${nsPath(imp.namespace, serviceImportPlural, imp.name)}/status`,
      {
        body: { status: { clusters: clusters.map((cluster) => ({ cluster })), conditions: [condition] } },
        contentType: 'application/merge-patch+json',
      },
    );
    this.remember(updated.body);
  }

  /** The Service kube-proxy programs for the import; returns its cluster IPs ([] when headless). */
  private async ensureDerivedService(
    namespace: string,
    name: string,
    derived: string,
    merged: ClustersetService,
    owner: OwnerReference,
  ): Promise<string[] | undefined> {
    const ports = merged.ports.map((p) => ({ name: p.name, protocol: p.protocol, port: p.port, targetPort: p.port }));
    const headless = merged.type === 'Headless';
    const current = this.opts.cache.get('Service', this.opts.localCluster, namespace, derived);
    const facts = current ? await this.factsOf(current) : undefined;
    if (current && facts && (facts.headless !== headless || facts.ownerUid !== owner.uid)) {
      // The clusterIP of a Service cannot change: a type change means a new derived Service. One left by an
      // earlier ServiceImport of the same name (not collected yet) goes too. Its deletion brings us back.
      await this.deleteService(namespace, derived, facts.uid);
      return undefined;
    } else if (current && facts) {
      const same =
        current.ports.length === ports.length &&
        current.ports.every(
          (p, i) => p.name === ports[i]?.name && p.port === ports[i]?.port && p.protocol === ports[i]?.protocol,
        );
      if (!same) {
        try {
          await this.opts.client.mergePatch(servicePath(namespace, derived), { spec: { ports } });
        } catch (err) {
          throw new DerivedServiceError('update', derived, err);
        }
      }
      return facts.clusterIPs;
    }
    let created: { spec?: { clusterIPs?: unknown } };
    try {
      created = await this.opts.client.create(servicePath(namespace), {
        apiVersion: 'v1',
        kind: 'Service',
        metadata: {
          name: derived,
          namespace,
          labels: { ...managedByFedmesh, [derivedServiceLabel]: name, [mcsServiceNameLabel]: name },
          ownerReferences: [owner],
        },
        spec: { type: 'ClusterIP', ports, ...(headless ? { clusterIP: 'None' } : {}) },
      });
    } catch (err) {
      if (isStatus(err, 409)) return undefined; // the mesh has not seen it yet; its event brings us back
      throw new DerivedServiceError('create', derived, err);
    }
    const ips = list(created.spec?.clusterIPs)
      .map(str)
      .filter((ip) => ip && ip !== 'None');
    return ips;
  }

  /**
   * A cluster that has not listed since this process started had a part in the import: the ServiceImport, its
   * derived Service (the clusterset IP) and its status stay as they are, and so do that cluster's slices; the
   * slices of the clusters that listed follow the mesh, with the ports the import holds.
   */
  private async keepImport(
    imp: HeldImport,
    backends: readonly MeshService[],
    unlisted: ReadonlySet<string>,
  ): Promise<void> {
    const key = keyOf(imp.namespace, imp.name);
    const owner: OwnerReference = {
      apiVersion: `${mcsGroup}/${mcsVersion}`,
      kind: 'ServiceImport',
      name: imp.name,
      uid: imp.uid,
      controller: true,
    };
    const endpoints = await this.importEndpoints(imp, imp.ports, backends);
    const plan = planSlices(
      {
        localCluster: this.opts.localCluster,
        namespace: imp.namespace,
        service: derivedServiceName(imp.namespace, imp.name),
        clustersetName: imp.name,
        owner,
        managedBy: mcsManagedBy,
      },
      endpoints,
      this.written.get(key),
      undefined,
      unlisted,
    );
    await this.written.apply(imp.namespace, plan);
  }

  private async removeImport(namespace: string, name: string): Promise<void> {
    const key = keyOf(namespace, name);
    this.events.forget(`derived ${key}`);
    await this.written.apply(namespace, { create: [], update: [], delete: this.written.get(key) });
    const held = this.imports.get(key);
    const imp = held?.managed ? held : undefined;
    // Garbage collection would remove the derived Service too, but not before a new export could find it.
    const derived = this.opts.cache.get(
      'Service',
      this.opts.localCluster,
      namespace,
      derivedServiceName(namespace, name),
    );
    const facts = derived ? await this.factsOf(derived) : undefined;
    if (facts && imp && facts.ownerUid === imp.uid) await this.deleteService(namespace, derived?.name ?? '', facts.uid);
    if (imp) {
      try {
        // Its derived Service goes with it (owner reference).
        await this.opts.client.delete(nsPath(namespace, serviceImportPlural, name), {
          preconditions: { uid: imp.uid },
          propagationPolicy: 'Background',
        });
      } catch (err) {
        if (!isStatus(err, 404) && !isStatus(err, 409)) throw err;
      }
      this.imports.delete(key);
    }
  }

  private remember(raw: unknown): HeldImport | undefined {
    const imp = isRecord(raw) ? importOf(raw as KubeObject) : undefined;
    if (imp) this.imports.set(keyOf(imp.namespace, imp.name), imp);
    return imp;
  }

  private async deleteService(namespace: string, name: string, uid: string): Promise<void> {
    try {
      await this.opts.client.delete(servicePath(namespace, name), { preconditions: { uid } });
    } catch (err) {
      if (!isStatus(err, 404) && !isStatus(err, 409)) throw err;
    }
  }

  /** What the mesh cache's slim copy of a local Service lacks (headless, cluster IPs, owner): read once. */
  private async factsOf(svc: MeshService): Promise<ServiceFacts | undefined> {
    const known = this.serviceFacts.get(svc.uid);
    if (known) return known;
    let body: {
      metadata?: { uid?: unknown; ownerReferences?: unknown };
      spec?: { clusterIP?: unknown; clusterIPs?: unknown };
    };
    try {
      body = await this.opts.client.get(servicePath(svc.namespace, svc.name));
    } catch (err) {
      if (isStatus(err, 404)) return undefined;
      throw err;
    }
    const headless = body.spec?.clusterIP === 'None';
    const controller = list(body.metadata?.ownerReferences).find((o) => isRecord(o) && o.controller === true);
    const facts: ServiceFacts = {
      uid: str(body.metadata?.uid),
      headless,
      clusterIPs: headless ? [] : list(body.spec?.clusterIPs).map(str).filter(Boolean),
      ownerUid: isRecord(controller) ? str(controller.uid) : '',
    };
    this.serviceFacts.set(svc.uid, facts);
    return facts;
  }
}
