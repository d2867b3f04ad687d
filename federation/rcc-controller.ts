import { ResilientInformer } from '../core/kube/resilient-informer.js';
import type { Logger } from '../core/log/logger.js';
import type { RccObject } from './rcc-spec.js';
import { rccPath } from './rcc-spec.js';
import type { RccStatus } from './rcc-status.js';
import { RemoteCluster, type RemoteClusterDeps } from './remote-cluster.js';

type RccWithStatus = RccObject & { status?: RccStatus };

/** Keeps one RemoteCluster per RemoteClusterConfiguration, live: add, change and delete apply at once. */
export class RccController {
  private readonly clusters = new Map<string, RemoteCluster>();
  private readonly informer: ResilientInformer<RccWithStatus>;
  private readonly log: Logger;

  constructor(private readonly deps: RemoteClusterDeps) {
    this.log = deps.log;
    this.informer = new ResilientInformer<RccWithStatus>({
      client: deps.localClient,
      path: rccPath,
      convert: (raw) => {
        const r = raw as unknown as RccWithStatus;
        if (!r.metadata?.name) return undefined;
        return {
          metadata: {
            name: r.metadata.name,
            ...(r.metadata.generation === undefined ? {} : { generation: r.metadata.generation }),
          },
          ...(r.spec ? { spec: r.spec } : {}),
          ...(r.status ? { status: r.status } : {}),
        };
      },
      backoff: { initialMs: 500, maxMs: 10_000, jitter: 0.2 },
      handlers: {
        onList: (items) => {
          for (const name of [...this.clusters.keys()]) if (!items.has(name)) void this.remove(name);
          for (const rcc of items.values()) this.apply(rcc);
        },
        onUpsert: (_key, rcc) => this.apply(rcc),
        onDelete: (key) => void this.remove(key),
        onPhase: (phase, failure) => {
          if (phase === 'failed') {
            this.log.warn(
              { err: String(failure?.error) },
              'cannot list or watch RemoteClusterConfigurations; retrying',
            );
          }
        },
      },
    });
  }

  /** Settles once the RCCs have been listed (the ones present at start are then known). */
  get synced(): Promise<void> {
    return this.informer.synced;
  }

  /** This process may write RCC status again (it became the leader). */
  resumeStatusWrites(): void {
    for (const c of this.clusters.values()) c.resumeStatusWrites();
  }

  names(): string[] {
    return [...this.clusters.keys()];
  }

  start(): void {
    this.informer.start();
  }

  async stop(): Promise<void> {
    await this.informer.stop();
    // Stopping the process is not deleting RCCs: leave the cache alone, just stop the connections.
    await Promise.all([...this.clusters.values()].map((c) => c.remove()));
    this.clusters.clear();
  }

  private apply(rcc: RccWithStatus): void {
    let c = this.clusters.get(rcc.metadata.name);
    if (!c) {
      c = new RemoteCluster(rcc.metadata.name, this.deps);
      this.clusters.set(rcc.metadata.name, c);
      this.log.info({ cluster: rcc.metadata.name }, 'RemoteClusterConfiguration added');
    }
    c.update(rcc);
  }

  private async remove(name: string): Promise<void> {
    const c = this.clusters.get(name);
    if (!c) return;
    this.clusters.delete(name);
    await c.remove();
  }
}
