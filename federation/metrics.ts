import { Counter, Gauge, type Registry } from 'prom-client';
import type { MeshCacheReader } from './mesh-cache.js';
import { type ClusterState, meshKinds } from './mesh-types.js';

/**
 * Calico's gauge values for the same states (remote_cluster_connection_status), so that its recommended alerts
 * (`== 2` is in sync) carry over unchanged.
 */
export const connectionStatusValue: Readonly<Record<ClusterState, number>> = {
  ConnectionFailed: 0,
  Connecting: 1,
  InSync: 2,
  ResyncInProgress: 3,
  ConfigIncomplete: 5,
};

export interface FederationMetrics {
  setConnectionStatus(cluster: string, state: ClusterState): void;
  /** A list or watch of `resource` in `cluster` ended early and will be tried again, for `reason`. */
  watchRestarted(cluster: string, resource: string, reason: string): void;
  /** An object of `resource` from `cluster` was refused by its schema and left out. */
  objectRefused(cluster: string, resource: string): void;
  forgetCluster(cluster: string): void;
}

export function createFederationMetrics(registry: Registry, cache: MeshCacheReader): FederationMetrics {
  const status = new Gauge({
    name: 'fedmesh_remote_cluster_connection_status',
    help: 'State of the connection to a remote cluster: 0 ConnectionFailed, 1 Connecting, 2 InSync, 3 ResyncInProgress, 5 ConfigIncomplete (Calico values)',
    labelNames: ['cluster'] as const,
    registers: [registry],
  });
  const restarts = new Counter({
    name: 'fedmesh_remote_watch_restarts_total',
    help: 'Lists and watches of a remote cluster that ended early and were retried, by resource and reason (an HTTP status such as Forbidden or TooManyRequests, Expired for a 410 relist, or Unreachable, TLSError, BadWatchLine, HandlerFailed, ShortWatch, ResponseTooLarge, ListLimit)',
    labelNames: ['cluster', 'resource', 'reason'] as const,
    registers: [registry],
  });
  const refused = new Counter({
    name: 'fedmesh_remote_objects_refused_total',
    help: 'Objects read from a cluster that did not have the shape fedmesh needs (a field of the wrong type, size or syntax) and were left out, or EndpointSlices some of whose addresses Kubernetes would refuse (those addresses left out), by resource; the RCC status names them',
    labelNames: ['cluster', 'resource'] as const,
    registers: [registry],
  });
  const refusedResources = new Map<string, Set<string>>();
  /** The label sets each cluster's counters have, so that a deleted RCC leaves no series behind. */
  const restartLabels = new Map<string, Map<string, { resource: string; reason: string }>>();
  new Gauge({
    name: 'fedmesh_mesh_cache_objects',
    help: 'Objects held in the mesh cache, by cluster and kind',
    labelNames: ['cluster', 'kind'] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const s of cache.clusterStatuses()) {
        const counts = cache.counts(s.cluster);
        for (const kind of meshKinds) this.set({ cluster: s.cluster, kind }, counts[kind]);
      }
    },
  });
  new Gauge({
    name: 'fedmesh_mesh_cache_revision',
    help: 'Revision of the latest change in the mesh cache',
    registers: [registry],
    collect() {
      this.set(cache.revision);
    },
  });
  return {
    setConnectionStatus: (cluster, state) => status.set({ cluster }, connectionStatusValue[state]),
    watchRestarted: (cluster, resource, reason) => {
      restarts.inc({ cluster, resource, reason });
      const seen = restartLabels.get(cluster) ?? new Map<string, { resource: string; reason: string }>();
      seen.set(`${resource}\n${reason}`, { resource, reason });
      restartLabels.set(cluster, seen);
    },
    objectRefused: (cluster, resource) => {
      refused.inc({ cluster, resource });
      const seen = refusedResources.get(cluster) ?? new Set<string>();
      seen.add(resource);
      refusedResources.set(cluster, seen);
    },
    forgetCluster: (cluster) => {
      status.remove({ cluster });
      for (const resource of refusedResources.get(cluster) ?? []) refused.remove({ cluster, resource });
      refusedResources.delete(cluster);
      for (const l of restartLabels.get(cluster)?.values() ?? []) restarts.remove({ cluster, ...l });
      restartLabels.delete(cluster);
    },
  };
}
