import { structurallyEqual } from '../core/json/structural-equal.js';
import type { RefusedObject } from './cluster-connection.js';
import type { KindCounts } from './mesh-cache.js';
import type { ClusterState, ClusterStatus } from './mesh-types.js';

export interface RccCondition {
  readonly type: 'Ready' | 'Synced';
  readonly status: 'True' | 'False' | 'Unknown';
  readonly reason: string;
  readonly message: string;
  readonly lastTransitionTime: string;
  readonly observedGeneration?: number;
}

export interface RccStatusCounts {
  readonly workloads: number;
  readonly nodes: number;
  readonly namespaces: number;
  readonly services: number;
  readonly endpointSlices: number;
}

/** `status` of a RemoteClusterConfiguration, as written to its status subresource. */
export interface RccStatus {
  readonly state: ClusterState;
  readonly message: string;
  readonly conditions: readonly RccCondition[];
  readonly counts: RccStatusCounts;
  readonly lastSyncTime?: string;
  readonly staleSince?: string;
  readonly observedGeneration?: number;
  /** Objects left out because they do not have the shape fedmesh needs; absent when there are none. */
  readonly refusedObjects?: RefusedObjects;
}

/** How many objects are refused, and the first few of them (by kind, namespace, name). */
export interface RefusedObjects {
  readonly count: number;
  readonly objects: readonly RefusedObject[];
}

/** The most refused objects a status names (the count says how many there are). */
export const refusedObjectsShown = 10;

function refusedObjectsOf(refused: readonly RefusedObject[]): RefusedObjects | undefined {
  if (refused.length === 0) return undefined;
  const key = (r: RefusedObject) => `${r.kind}\n${r.namespace}\n${r.name}\n${r.field}`;
  const objects = [...refused].sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
  return { count: refused.length, objects: objects.slice(0, refusedObjectsShown) };
}

export function statusCounts(c: KindCounts): RccStatusCounts {
  return {
    workloads: c.WorkloadEndpoint,
    nodes: c.HostEndpoint,
    namespaces: c.Namespace,
    services: c.Service,
    endpointSlices: c.EndpointSlice,
  };
}

/** Ready says whether the connection works; Synced whether the objects held are complete and current. */
function conditionsFor(s: ClusterStatus): Omit<RccCondition, 'lastTransitionTime'>[] {
  const working = s.state === 'InSync' || s.state === 'ResyncInProgress';
  const ready: Omit<RccCondition, 'lastTransitionTime'> = working
    ? { type: 'Ready', status: 'True', reason: 'Connected', message: 'the API server answers with these credentials' }
    : {
        type: 'Ready',
        status: s.state === 'Connecting' ? 'Unknown' : 'False',
        reason: s.reason,
        message: s.message,
      };
  let synced: Omit<RccCondition, 'lastTransitionTime'>;
  if (s.state === 'InSync') {
    synced = { type: 'Synced', status: 'True', reason: 'InSync', message: 'every resource is listed and watched' };
  } else if (s.withdrawn) {
    synced = {
      type: 'Synced',
      status: 'False',
      reason: 'Withdrawn',
      message: s.staleSince
        ? `objects withdrawn after the stale ttl (stale since ${s.staleSince})`
        : 'withdrawn after the stale ttl: no full list has completed since this server started, so what fedmesh wrote for this cluster before is removed',
    };
  } else if (s.staleSince) {
    synced = {
      type: 'Synced',
      status: 'False',
      reason: 'Stale',
      message: `objects retained from before ${s.staleSince}; they are not updated until the connection is back`,
    };
  } else if (s.state === 'ResyncInProgress') {
    synced = { type: 'Synced', status: 'False', reason: 'ResyncInProgress', message: s.message };
  } else {
    synced = { type: 'Synced', status: 'False', reason: 'NeverSynced', message: 'no full list has completed yet' };
  }
  return [ready, synced];
}

/**
 * The status to write: conditions keep their lastTransitionTime while their status does not change, so that
 * an unchanged cluster produces an identical status (and no write).
 */
export function buildRccStatus(
  prev: RccStatus | undefined,
  cluster: ClusterStatus,
  counts: KindCounts,
  generation: number | undefined,
  now: string,
  refused: readonly RefusedObject[] = [],
): RccStatus {
  const refusedObjects = refusedObjectsOf(refused);
  const conditions = conditionsFor(cluster).map((c) => {
    const old = prev?.conditions?.find((p) => p.type === c.type);
    const lastTransitionTime = old && old.status === c.status ? old.lastTransitionTime : now;
    return { ...c, lastTransitionTime, ...(generation === undefined ? {} : { observedGeneration: generation }) };
  });
  return {
    state: cluster.state,
    message: cluster.message,
    conditions,
    counts: statusCounts(counts),
    ...(cluster.lastSyncTime ? { lastSyncTime: cluster.lastSyncTime } : {}),
    ...(cluster.staleSince ? { staleSince: cluster.staleSince } : {}),
    ...(generation === undefined ? {} : { observedGeneration: generation }),
    ...(refusedObjects ? { refusedObjects } : {}),
  };
}

/**
 * Structural equality, for "write only on change". Key order does not count: the API server returns a custom
 * resource's status with its keys sorted, while ours are in the order we built them; nor does condition order.
 */
export function sameRccStatus(a: RccStatus | undefined, b: RccStatus): boolean {
  return a !== undefined && structurallyEqual(canonical(a), canonical(b));
}

function canonical(s: RccStatus): unknown {
  return {
    ...s,
    conditions: [...(s.conditions ?? [])].sort((x, y) => x.type.localeCompare(y.type)),
  };
}
