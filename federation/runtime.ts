import type { KubeConfig } from '@kubernetes/client-node';
import type { Registry } from 'prom-client';
import type { BackoffPolicy } from '../core/kube/backoff.js';
import { Gate } from '../core/kube/gate.js';
import { KubeRestClient } from '../core/kube/rest-client.js';
import type { Logger } from '../core/log/logger.js';
import { ClusterConnection } from './cluster-connection.js';
import { MeshCache, type MeshCacheReader } from './mesh-cache.js';
import type { ClusterState } from './mesh-types.js';
import { createFederationMetrics } from './metrics.js';
import { RccController } from './rcc-controller.js';

export interface FederationOptions {
  /** Access to the local cluster (where RCCs and their Secrets live). */
  readonly localKubeConfig: KubeConfig;
  /** The local cluster's name in the mesh (`fedmesh.io/cluster` of local endpoints). */
  readonly clusterName: string;
  readonly log: Logger;
  readonly registry?: Registry;
  /**
   * Write RCC status subresources: always (true, the default), never (false: a read-only consumer), or while this
   * returns true (the leader of several replicas; call `resumeStatusWrites` when it starts to).
   */
  readonly writeStatus?: boolean | (() => boolean);
  readonly historySize?: number;
  readonly probeIntervalMs?: number;
  readonly statusIntervalMs?: number;
  /**
   * Waits between retries of a failing remote list or watch (default client-go's reflector: 800 ms doubling to
   * 30 s, jittered, reset after two quiet minutes). A refusing remote sees at most one request per resource per wait.
   */
  readonly remoteBackoff?: BackoffPolicy;
}

/** A running mesh cache with its connections. */
export interface Federation {
  readonly cache: MeshCacheReader;
  /**
   * Settles when the local cluster is in sync and every RCC present at start has either synced or failed
   * (RCCs added later do not hold readiness back), as Calico's Typha does.
   */
  readonly ready: Promise<void>;
  isReady(): boolean;
  /** The `writeStatus` predicate turned true: bring every RCC status up to date. */
  resumeStatusWrites(): void;
  stop(): Promise<void>;
}

const settled = (s: ClusterState | undefined) => s === 'InSync' || s === 'ConnectionFailed' || s === 'ConfigIncomplete';

function statusPredicate(writeStatus: boolean | (() => boolean)): () => boolean {
  return typeof writeStatus === 'function' ? writeStatus : () => writeStatus;
}

export async function startFederation(opts: FederationOptions): Promise<Federation> {
  const cache = new MeshCache({
    ...(opts.historySize === undefined ? {} : { historySize: opts.historySize }),
    onListenerError: (err) => opts.log.error({ err: String(err) }, 'a mesh cache subscriber threw'),
  });
  // Four full lists of remote clusters in flight at most: bounds the parse peak with many clusters, costs little
  // time. Each remote cluster takes at most two of them (remote-cluster.ts), so that a slow or hostile one cannot
  // hold them all; the local cluster has slots of its own.
  const listGate = new Gate(4);
  const localListGate = new Gate(2);
  const metrics = opts.registry ? createFederationMetrics(opts.registry, cache) : undefined;
  const localClient = await KubeRestClient.fromKubeConfig(opts.localKubeConfig, 16);
  const localLog = opts.log.child({ cluster: opts.clusterName, local: true });
  let lastSync: string | null = null;
  const local = new ClusterConnection({
    cluster: opts.clusterName,
    client: await KubeRestClient.fromKubeConfig(opts.localKubeConfig, 8, { http2: true }),
    cache,
    listGate: localListGate,
    log: localLog,
    onState: (d) => {
      if (d.state === 'InSync') lastSync = new Date().toISOString();
      cache.setClusterStatus({
        cluster: opts.clusterName,
        local: true,
        state: d.state,
        reason: d.reason,
        message: d.message,
        staleSince: null,
        withdrawn: false,
        lastSyncTime: lastSync,
      });
    },
    ...(opts.probeIntervalMs === undefined ? {} : { probeIntervalMs: opts.probeIntervalMs }),
  });
  const controller = new RccController({
    localClient,
    localCluster: opts.clusterName,
    cache,
    log: opts.log,
    metrics,
    mayWriteStatus: statusPredicate(opts.writeStatus ?? true),
    listGate,
    ...(opts.probeIntervalMs === undefined ? {} : { probeIntervalMs: opts.probeIntervalMs }),
    ...(opts.statusIntervalMs === undefined ? {} : { statusIntervalMs: opts.statusIntervalMs }),
    ...(opts.remoteBackoff ? { remoteBackoff: opts.remoteBackoff } : {}),
  });
  local.start();
  controller.start();

  let isReady = false;
  let unsubscribe = () => {};
  const ready = (async () => {
    await controller.synced;
    const initial = controller.names();
    await new Promise<void>((resolve) => {
      const check = () => {
        const localOk = cache.clusterStatus(opts.clusterName)?.state === 'InSync';
        if (localOk && initial.every((n) => settled(cache.clusterStatus(n)?.state))) {
          unsubscribe();
          resolve();
        }
      };
      unsubscribe = cache.subscribe(check, { kinds: [] }).unsubscribe;
      check();
    });
    isReady = true;
    opts.log.info({ revision: cache.revision, clusters: initial.length }, 'mesh cache ready');
  })();

  return {
    cache,
    ready,
    isReady: () => isReady,
    resumeStatusWrites: () => controller.resumeStatusWrites(),
    // Stopping leaves the cache as it is (it is not deleting RCCs), whatever order the parts stop in.
    async stop() {
      unsubscribe();
      await Promise.all([controller.stop(), local.stop()]);
      localClient.close();
    },
  };
}
