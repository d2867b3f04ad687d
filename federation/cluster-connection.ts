import type { BackoffPolicy } from '../core/kube/backoff.js';
import type { Gate } from '../core/kube/gate.js';
import { type InformerFailure, ResilientInformer } from '../core/kube/resilient-informer.js';
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
import type { MeshCacheWriter } from './mesh-cache.js';
import type { MeshObject } from './mesh-types.js';
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
  /** Liveness probe period; two failed probes in a row restart every informer. */
  readonly probeIntervalMs?: number;
  readonly resources?: readonly WatchedResource[];
  readonly listGate?: Gate;
  /** Waits between retries; default client-go's. */
  readonly backoff?: BackoffPolicy;
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
    return new ResilientInformer<MeshObject>({
      client: this.opts.client,
      path: r.path,
      convert: (raw) => r.convert(cluster, raw),
      ...(this.opts.listGate ? { listGate: this.opts.listGate } : {}),
      ...(this.opts.backoff ? { backoff: this.opts.backoff } : {}),
      handlers: {
        onList: (items) => {
          if (this.stopped) return;
          cache.replaceAll(cluster, r.kind, items);
          this.transition(r.resource, { type: 'listed' });
          data();
        },
        onUpsert: (key, item) => {
          if (this.stopped) return;
          cache.upsert(cluster, r.kind, key, item);
          data();
        },
        onDelete: (key) => {
          if (this.stopped) return;
          cache.remove(cluster, r.kind, key);
          data();
        },
        onPhase: (phase, failure) => {
          if (phase === 'watching') {
            this.transition(r.resource, { type: 'watching' });
            // Withdrawn between its list and this watch (the ttl ran out on the old watch failure): the watch
            // resumes after objects the cache no longer has, so list them again now.
            if (this.states.get(r.resource)?.withdrawn) this.informers.get(r.resource)?.informer.restart();
          } else if (phase === 'listing') this.transition(r.resource, { type: 'listing' });
          else if (phase === 'failed' && failure) this.onFailure(r, failure);
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
