import type { KubeObject } from '../core/kube/resilient-informer.js';
import { ResilientInformer } from '../core/kube/resilient-informer.js';
import type { Logger } from '../core/log/logger.js';
import { rccPath } from './rcc-spec.js';
import { checkRcc } from './rcc-validation.js';
import { type CheckedRcc, RemoteCluster, type RemoteClusterDeps } from './remote-cluster.js';

/** An RCC the informer hands over: checked, or the reason it cannot be used (with its name, if it has one). */
type RccItem = CheckedRcc | { readonly name: string; readonly unusable: string };

/**
 * Keeps one RemoteCluster per RemoteClusterConfiguration, live: add, change and delete apply at once. Instances
 * of the same name never overlap: a deleted (or replaced, new uid) RCC's instance finishes its cleanup before the
 * next one starts, so the old cleanup cannot wipe the new one's objects or status.
 */
export class RccController {
  private readonly clusters = new Map<string, RemoteCluster>();
  /** Per name, the cleanup of the instance before the current one (the current one starts after it). */
  private readonly cleanups = new Map<string, Promise<void>>();
  private readonly informer: ResilientInformer<RccItem>;
  private readonly log: Logger;
  private stopping = false;

  constructor(private readonly deps: RemoteClusterDeps) {
    this.log = deps.log;
    this.informer = new ResilientInformer<RccItem>({
      client: deps.localClient,
      path: rccPath,
      convert: (raw) => this.check(raw),
      backoff: { initialMs: 500, maxMs: 10_000, jitter: 0.2 },
      handlers: {
        onList: (items) => {
          for (const name of [...this.clusters.keys()]) if (!items.has(name)) this.remove(name);
          for (const rcc of items.values()) this.apply(rcc);
        },
        onUpsert: (_key, rcc) => this.apply(rcc),
        onDelete: (key) => this.remove(key),
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

  /** Stopping the process is not deleting RCCs: the cache keeps every cluster's objects. */
  async stop(): Promise<void> {
    this.stopping = true;
    await this.informer.stop();
    const all = [...this.clusters.values()];
    this.clusters.clear();
    await Promise.all([...all.map((c) => c.stop()), ...this.cleanups.values()]);
  }

  /** Shape-checks an RCC (never throws): an object without a name is dropped, anything else is reported. */
  private check(raw: KubeObject): RccItem | undefined {
    const c = checkRcc(raw);
    if ('rcc' in c) return c;
    if (c.name === undefined) {
      this.log.warn({ problem: c.problem }, 'ignoring a RemoteClusterConfiguration without a name');
      return undefined;
    }
    return { name: c.name, unusable: c.problem };
  }

  private apply(item: RccItem): void {
    if (this.stopping) return;
    const checked: CheckedRcc =
      'unusable' in item ? { rcc: { metadata: { name: item.name } }, problem: item.unusable } : item;
    const name = checked.rcc.metadata.name;
    let c = this.clusters.get(name);
    // Same name, new object (deleted and created again while we did not watch, or `kubectl replace --force`).
    if (c && c.uid !== undefined && checked.rcc.metadata.uid !== undefined && c.uid !== checked.rcc.metadata.uid) {
      this.log.info({ cluster: name }, 'RemoteClusterConfiguration replaced by a new one of the same name');
      this.remove(name);
      c = undefined;
    }
    if (!c) {
      c = new RemoteCluster(name, this.deps);
      this.clusters.set(name, c);
      this.log.info({ cluster: name }, 'RemoteClusterConfiguration added');
      const cleanup = this.cleanups.get(name);
      const fresh = c;
      if (cleanup) {
        // The next instance starts from the RCC as it is when the old one is gone.
        let latest = checked;
        const pending = { set: (v: CheckedRcc) => (latest = v) };
        this.pendingUpdates.set(fresh, pending);
        void cleanup.then(() => {
          this.pendingUpdates.delete(fresh);
          if (this.clusters.get(name) === fresh) fresh.update(latest);
        });
        return;
      }
    }
    const pending = this.pendingUpdates.get(c);
    if (pending) pending.set(checked);
    else c.update(checked);
  }

  /** Updates for an instance that waits for its predecessor's cleanup: the latest one wins. */
  private readonly pendingUpdates = new WeakMap<RemoteCluster, { set(v: CheckedRcc): void }>();

  private remove(name: string): void {
    const c = this.clusters.get(name);
    if (!c) return;
    this.clusters.delete(name);
    const before = this.cleanups.get(name) ?? Promise.resolve();
    const done: Promise<void> = before
      .then(() => c.remove())
      .catch((err: unknown) => this.log.error({ cluster: name, err: String(err) }, 'cleaning up a cluster failed'))
      .finally(() => {
        if (this.cleanups.get(name) === done) this.cleanups.delete(name);
      });
    this.cleanups.set(name, done);
  }
}
