// Clusters the controllers know nothing about yet. After a restart during a remote outage the mesh cache holds no
// object of that cluster: read as "no endpoints", it would delete what fedmesh wrote for the cluster before
// (slices, its part of a ServiceImport), which Retain promises to keep exactly as last seen. So what was written
// for such a cluster stays untouched until it lists, its objects are withdrawn (Withdraw's ttl), or its RCC goes.
import type { MeshCacheReader } from '../mesh-cache.js';
import type { MeshKind } from '../mesh-types.js';

/** The kinds both controllers read of every cluster. */
const readKinds: readonly MeshKind[] = ['Service', 'EndpointSlice'];

export type ClusterView = Pick<MeshCacheReader, 'clusterStatuses' | 'listed'>;

/**
 * The remote clusters of the mesh (an RCC, so a status) whose Services and EndpointSlices have not been listed
 * (nor withdrawn) since this process started. A cluster without a status has no RCC any more: nothing is kept.
 */
export function unlistedClusters(cache: ClusterView): Set<string> {
  const out = new Set<string>();
  for (const s of cache.clusterStatuses()) {
    if (!s.local && !readKinds.every((k) => cache.listed(s.cluster, k))) out.add(s.cluster);
  }
  return out;
}

/**
 * Keys whose last sync left something of an unlisted cluster as it was: queued again once that cluster is no
 * longer unlisted. Checked on each cluster status event and every `pollMs` while a key waits, since a list that
 * changes nothing and the deletion of a never-listed cluster's RCC emit no object event.
 */
export class UnlistedWaiters {
  /** cluster → keys waiting for it. */
  private readonly waiting = new Map<string, Set<string>>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly cache: ClusterView,
    private readonly requeue: (key: string) => void,
    private readonly pollMs = 5000,
  ) {}

  /** `key` left the slices (or import) of these clusters untouched. */
  wait(key: string, clusters: Iterable<string>): void {
    for (const c of clusters) {
      let keys = this.waiting.get(c);
      if (!keys) {
        keys = new Set();
        this.waiting.set(c, keys);
      }
      keys.add(key);
    }
    if (this.waiting.size > 0 && !this.timer) {
      this.timer = setInterval(() => this.check(), this.pollMs);
      this.timer.unref();
    }
  }

  check(): void {
    if (this.waiting.size === 0) return;
    const unlisted = unlistedClusters(this.cache);
    for (const [cluster, keys] of this.waiting) {
      if (unlisted.has(cluster)) continue;
      this.waiting.delete(cluster);
      for (const k of keys) this.requeue(k);
    }
    if (this.waiting.size === 0) this.stop();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    this.waiting.clear();
  }
}
