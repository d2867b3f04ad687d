import type { BackoffPolicy } from '../core/kube/backoff.js';
import type { Gate } from '../core/kube/gate.js';
import { type InformerFailure, objectKey, ResilientInformer } from '../core/kube/resilient-informer.js';
import { KubeApiError, type KubeRestClient } from '../core/kube/rest-client.js';
import type { Logger } from '../core/log/logger.js';
import {
  type DerivedState,
  deriveClusterState,
  initialResourceState,
  nextResourceState,
  type ResourceEvent,
  type ResourceState,
} from './cluster-state.js';
import { classifyFailure, restartReason } from './connection-error.js';
import { withoutRefusedAddresses } from './endpoint-address.js';
import type { MeshCacheWriter } from './mesh-cache.js';
import type { MeshObject } from './mesh-types.js';
import { checkRemoteObject, type SourceKind, shownName } from './remote-object-schemas.js';
import { type WatchedResource, watchedResources } from './watched-resources.js';

export interface ClusterConnectionOptions {
  readonly cluster: string;
  readonly client: KubeRestClient;
  readonly cache: MeshCacheWriter;
  readonly log: Logger;
  /** Called when the derived state changes. */
  readonly onState: (state: DerivedState) => void;
  /** Called after objects of this cluster changed in the cache (for counts). */
  readonly onData?: () => void;
  /** Called each time a list or watch of `resource` ends early and is tried again (for the restarts metric). */
  readonly onRestart?: (resource: string, reason: string) => void;
  /** Called for every object refused by its schema (remote-object-schemas.ts), for the metric and the status. */
  readonly onRefused?: (resource: string, refused: RefusedObject) => void;
  /** Liveness probe period; two failed probes in a row restart every informer. */
  readonly probeIntervalMs?: number;
  readonly resources?: readonly WatchedResource[];
  readonly listGate?: Gate;
  /** Waits between retries; default client-go's. */
  readonly backoff?: BackoffPolicy;
}

/**
 * An object left out of the cache because it does not have the shape we need, or an EndpointSlice with addresses
 * left out (its problem says so): which, where, why; never a value.
 */
export interface RefusedObject {
  readonly kind: SourceKind;
  readonly namespace: string;
  readonly name: string;
  readonly field: string;
  readonly problem: string;
}

/** Map keys of refused objects are cut to this length: a hostile name must not be kept whole. */
const refusedKeyLength = 600;

/**
 * The objects of one resource that were refused. Per object, not per list: one malformed object must not keep the
 * rest of its collection (or its cluster) out of the mesh, and it is treated as absent until a good version comes.
 * A full list replaces the set (what it refused, nothing older); a watch event for an object updates its entry.
 */
class RefusedSet {
  private current = new Map<string, RefusedObject>();
  private listing: Map<string, RefusedObject> | undefined;

  listStarted(): void {
    this.listing = new Map();
  }
  listEnded(completed: boolean): void {
    if (completed && this.listing) this.current = this.listing;
    this.listing = undefined;
  }
  /** Records the outcome of checking one object; true when it was refused and had not been (or elsewhere). */
  record(key: string, refused: RefusedObject | undefined): boolean {
    const k = key.slice(0, refusedKeyLength);
    const target = this.listing ?? this.current;
    if (!refused) {
      target.delete(k);
      return false;
    }
    const before = this.current.get(k);
    target.set(k, refused);
    return before?.field !== refused.field || before.problem !== refused.problem;
  }
  private loggedAt = Number.NEGATIVE_INFINITY;
  mayLog(now: number): boolean {
    if (now - this.loggedAt < 10_000) return false;
    this.loggedAt = now;
    return true;
  }
  gone(key: string): void {
    this.current.delete(key.slice(0, refusedKeyLength));
  }
  values(): Iterable<RefusedObject> {
    return this.current.values();
  }
  get size(): number {
    return this.current.size;
  }
}

/**
 * One set of informers on one cluster (local or remote), writing into the mesh cache. It never deletes a
 * cluster's objects itself except through a completed full list, or when its owner withdraws a resource;
 * stopping it keeps them (the owner decides).
 */
export class ClusterConnection {
  private readonly informers = new Map<
    string,
    { readonly resource: WatchedResource; readonly informer: ResilientInformer<MeshObject> }
  >();
  private readonly refused = new Map<string, RefusedSet>();
  private readonly states = new Map<string, ResourceState>();
  private derived: DerivedState = {
    state: 'Connecting',
    reason: 'Connecting',
    message: 'connecting to the API server',
  };
  private probeTimer: NodeJS.Timeout | undefined;
  private probeFailures = 0;
  private probing = false;
  private stopped = false;

  constructor(private readonly opts: ClusterConnectionOptions) {
    const resources = opts.resources ?? watchedResources;
    for (const r of resources) {
      this.states.set(r.resource, initialResourceState(r.resource));
      this.refused.set(r.resource, new RefusedSet());
      this.informers.set(r.resource, { resource: r, informer: this.informerFor(r) });
    }
  }

  get state(): DerivedState {
    return this.derived;
  }

  /** Each resource's machine, as it stands. */
  resources(): ResourceState[] {
    return [...this.states.values()];
  }

  /** Objects refused by their schema and left out of the cache, as the last list and the watches since saw them. */
  refusedObjects(): RefusedObject[] {
    const all: RefusedObject[] = [];
    for (const set of this.refused.values()) all.push(...set.values());
    return all;
  }

  start(): void {
    for (const { informer } of this.informers.values()) informer.start();
    const period = this.opts.probeIntervalMs ?? 5000;
    if (period > 0) this.probeTimer = setInterval(() => void this.probe(), period);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.probeTimer);
    await Promise.all([...this.informers.values()].map(({ informer }) => informer.stop()));
    this.opts.client.close();
  }

  /**
   * Removes a resource's objects from the cache (they can no longer be kept current); its next try lists, so
   * that they all come back when it works again.
   */
  withdraw(resource: string): void {
    const entry = this.informers.get(resource);
    if (!entry || this.stopped) return;
    this.opts.cache.replaceAll(this.opts.cluster, entry.resource.kind, new Map());
    entry.informer.relistNext();
    this.transition(resource, { type: 'withdrawn' });
    this.opts.onData?.();
  }

  private informerFor(r: WatchedResource): ResilientInformer<MeshObject> {
    const { cluster, cache } = this.opts;
    const data = () => this.opts.onData?.();
    const refused = this.refused.get(r.resource) ?? new RefusedSet();
    return new ResilientInformer<MeshObject>({
      client: this.opts.client,
      path: r.path,
      convert: (raw) => {
        const problem = checkRemoteObject(r.sourceKind, raw);
        // Where a refused object is, built only for one: most objects pass.
        const where = () => ({
          kind: r.sourceKind,
          namespace: raw.metadata?.namespace === undefined ? '' : shownName(raw.metadata.namespace),
          name: shownName(raw.metadata?.name),
        });
        const refusal = problem && { ...where(), ...problem };
        // An EndpointSlice of the right shape may still hold addresses the local API server refuses (loopback,
        // link-local, malformed): those are left out, the rest of the slice is used, and the status says so.
        const partial = !refusal && r.sourceKind === 'EndpointSlice' ? withoutRefusedAddresses(raw) : undefined;
        const first = partial?.dropped[0];
        const leftOut = first && {
          ...where(),
          field: first.field,
          problem: `${first.problem}: ${partial.dropped.length === 1 ? 'this address is' : `${partial.dropped.length} addresses are`} left out, the rest of the slice is used`,
        };
        const entry = refusal ?? leftOut;
        // Logged when new, at most once per resource every 10 s: a hostile list must not flood the log.
        if (refused.record(objectKey(raw), entry) && entry && refused.mayLog(Date.now())) {
          this.opts.log.warn(
            { resource: r.resource, namespace: entry.namespace, name: entry.name, field: entry.field },
            `${refusal ? 'refused' : 'partly refused'} a ${r.sourceKind}: ${entry.field} ${entry.problem}`,
          );
        }
        if (entry) this.opts.onRefused?.(r.resource, entry);
        if (refusal) return undefined;
        return r.convert(cluster, partial ? partial.slice : raw);
      },
      ...(this.opts.listGate ? { listGate: this.opts.listGate } : {}),
      ...(this.opts.backoff ? { backoff: this.opts.backoff } : {}),
      handlers: {
        onList: (items) => {
          if (this.stopped) return;
          refused.listEnded(true);
          cache.replaceAll(cluster, r.kind, items);
          this.transition(r.resource, { type: 'listed' });
          data();
        },
        onUpsert: (key, item) => {
          if (this.stopped) return;
          cache.upsert(cluster, r.kind, key, item);
          data();
        },
        onDelete: (key, dropped) => {
          if (this.stopped) return;
          if (!dropped) refused.gone(key);
          cache.remove(cluster, r.kind, key);
          data();
        },
        onPhase: (phase, failure) => {
          if (phase === 'watching') {
            this.transition(r.resource, { type: 'watching' });
            // Withdrawn between its list and this watch (the ttl ran out on the old watch failure): the watch
            // resumes after objects the cache no longer has, so list them again now.
            if (this.states.get(r.resource)?.withdrawn) this.informers.get(r.resource)?.informer.restart();
          } else if (phase === 'listing') {
            refused.listStarted();
            this.transition(r.resource, { type: 'listing' });
          } else if (phase === 'failed' && failure) {
            refused.listEnded(false);
            this.onFailure(r, failure);
          }
        },
        onRelist: (cause) => this.opts.onRestart?.(r.resource, cause),
      },
    });
  }

  private onFailure(r: WatchedResource, f: InformerFailure): void {
    if (this.stopped) return;
    const classified = classifyFailure({ verb: f.verb, resource: r.resource, group: r.group }, f.error);
    const prev = this.states.get(r.resource)?.failure;
    if (prev?.message !== classified.message) {
      this.opts.log.warn({ resource: r.resource, verb: f.verb, reason: classified.reason }, classified.message);
    }
    this.opts.onRestart?.(r.resource, restartReason(f.error));
    this.transition(r.resource, { type: 'failed', failure: { ...classified, verb: f.verb } });
  }

  private transition(resource: string, ev: ResourceEvent): void {
    const prev = this.states.get(resource);
    if (!prev || this.stopped) return;
    this.states.set(resource, nextResourceState(prev, ev, Date.now()));
    const next = deriveClusterState(undefined, [...this.states.values()]);
    const now = this.states.get(resource);
    // The owner's stale policy reads failingSince and withdrawn: it must hear of either changing even when the
    // cluster's state does not (a withdrawn flag cleared silently left a later failure never withdrawn).
    const failingChanged = (prev.failingSince === null) !== (now?.failingSince === null);
    const withdrawnChanged = prev.withdrawn !== now?.withdrawn;
    if (
      next.state !== this.derived.state ||
      next.message !== this.derived.message ||
      failingChanged ||
      withdrawnChanged
    ) {
      this.derived = next;
      this.opts.onState(next);
    }
  }

  /**
   * A cheap request while connected: a dead server shows up within two periods. Any HTTP answer (even 403 or
   * 429) proves the server is there: restarting the informers would only add load, so only a network failure
   * or a timeout counts.
   */
  private async probe(): Promise<void> {
    if (this.probing || this.stopped) return;
    if (this.derived.state !== 'InSync' && this.derived.state !== 'ResyncInProgress') return;
    this.probing = true;
    try {
      await this.opts.client.request('GET', '/version', { timeoutMs: 4000 });
      this.probeFailures = 0;
    } catch (err) {
      if (err instanceof KubeApiError) {
        this.probeFailures = 0;
        return;
      }
      this.probeFailures++;
      if (this.probeFailures >= 2 && !this.stopped) {
        this.opts.log.warn({ err: String(err) }, 'liveness probe failed twice: restarting the informers');
        this.probeFailures = 0;
        // Requests share connections (one HTTP/2 connection per cluster): a hung one must go, or the
        // informers would restart on it.
        this.opts.client.resetConnections();
        for (const { informer } of this.informers.values()) informer.restart();
      }
    } finally {
      this.probing = false;
    }
  }
}
