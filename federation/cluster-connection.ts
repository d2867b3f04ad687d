import type { Gate } from '../core/kube/gate.js';
import { type InformerFailure, ResilientInformer } from '../core/kube/resilient-informer.js';
import type { KubeRestClient } from '../core/kube/rest-client.js';
import type { Logger } from '../core/log/logger.js';
import { type DerivedState, deriveClusterState, type ResourceProgress } from './cluster-state.js';
import { classifyFailure } from './connection-error.js';
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
  /** Liveness probe period; two failed probes in a row restart every informer. */
  readonly probeIntervalMs?: number;
  readonly resources?: readonly WatchedResource[];
  readonly listGate?: Gate;
}

/**
 * One set of informers on one cluster (local or remote), writing into the mesh cache. It never deletes a
 * cluster's objects itself except through a completed full list; stopping it keeps them (the owner decides).
 */
export class ClusterConnection {
  private readonly informers: ResilientInformer<MeshObject>[] = [];
  private readonly progress = new Map<string, ResourceProgress>();
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
      this.progress.set(r.resource, { resource: r.resource, listed: false, watching: false, failure: undefined });
      this.informers.push(this.informerFor(r));
    }
  }

  get state(): DerivedState {
    return this.derived;
  }

  start(): void {
    for (const i of this.informers) i.start();
    const period = this.opts.probeIntervalMs ?? 5000;
    if (period > 0) this.probeTimer = setInterval(() => void this.probe(), period);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.probeTimer);
    await Promise.all(this.informers.map((i) => i.stop()));
    this.opts.client.close();
  }

  private informerFor(r: WatchedResource): ResilientInformer<MeshObject> {
    const { cluster, cache } = this.opts;
    const data = () => this.opts.onData?.();
    return new ResilientInformer<MeshObject>({
      client: this.opts.client,
      path: r.path,
      convert: (raw) => r.convert(cluster, raw),
      ...(this.opts.listGate ? { listGate: this.opts.listGate } : {}),
      handlers: {
        onList: (items) => {
          cache.replaceAll(cluster, r.kind, items);
          this.setProgress(r.resource, { listed: true, failure: undefined });
          data();
        },
        onUpsert: (key, item) => {
          cache.upsert(cluster, r.kind, key, item);
          data();
        },
        onDelete: (key) => {
          cache.remove(cluster, r.kind, key);
          data();
        },
        onPhase: (phase, failure) => {
          if (phase === 'watching') this.setProgress(r.resource, { watching: true });
          else if (phase === 'failed' && failure) this.onFailure(r, failure);
          else if (phase === 'listing') this.setProgress(r.resource, { watching: false });
        },
      },
    });
  }

  private onFailure(r: WatchedResource, f: InformerFailure): void {
    const classified = classifyFailure({ verb: f.verb, resource: r.resource, group: r.group }, f.error);
    const prev = this.progress.get(r.resource)?.failure;
    if (prev?.message !== classified.message) {
      this.opts.log.warn({ resource: r.resource, verb: f.verb, reason: classified.reason }, classified.message);
    }
    this.setProgress(r.resource, { watching: false, failure: classified });
  }

  private setProgress(resource: string, change: Partial<ResourceProgress>): void {
    const prev = this.progress.get(resource);
    if (!prev || this.stopped) return;
    this.progress.set(resource, { ...prev, ...change });
    const next = deriveClusterState(undefined, [...this.progress.values()]);
    if (next.state !== this.derived.state || next.message !== this.derived.message) {
      this.derived = next;
      this.opts.onState(next);
    }
  }

  /** A cheap request while connected: a dead server or revoked credentials show up within two periods. */
  private async probe(): Promise<void> {
    if (this.probing || this.stopped) return;
    if (this.derived.state !== 'InSync' && this.derived.state !== 'ResyncInProgress') return;
    this.probing = true;
    try {
      await this.opts.client.request('GET', '/version', { timeoutMs: 4000 });
      this.probeFailures = 0;
    } catch (err) {
      this.probeFailures++;
      if (this.probeFailures >= 2 && !this.stopped) {
        this.opts.log.warn({ err: String(err) }, 'liveness probe failed twice: restarting the informers');
        this.probeFailures = 0;
        // Requests share connections (one HTTP/2 connection per cluster): a hung one must go, or the
        // informers would restart on it.
        this.opts.client.resetConnections();
        for (const i of this.informers) i.restart();
      }
    } finally {
      this.probing = false;
    }
  }
}
