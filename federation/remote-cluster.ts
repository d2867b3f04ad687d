import { createHash } from 'node:crypto';
import type { Gate } from '../core/kube/gate.js';
import { ResilientInformer } from '../core/kube/resilient-informer.js';
import { isStatus, KubeRestClient } from '../core/kube/rest-client.js';
import { SerialWriter } from '../core/kube/serial-writer.js';
import type { Logger } from '../core/log/logger.js';
import { ClusterConnection } from './cluster-connection.js';
import type { ConfigProblem, DerivedState } from './cluster-state.js';
import { classifyFailure } from './connection-error.js';
import { type AccessSecret, kubeconfigFromSecret, slimAccessSecret } from './kubeconfig-secret.js';
import type { MeshCache } from './mesh-cache.js';
import type { ClusterStatus } from './mesh-types.js';
import type { FederationMetrics } from './metrics.js';
import { parseRccSpec, type RccObject, type RccSpec, rccPath } from './rcc-spec.js';
import { buildRccStatus, type RccStatus, sameRccStatus } from './rcc-status.js';
import { isStaleState, staleDecision } from './stale-policy.js';

export interface RemoteClusterDeps {
  readonly localClient: KubeRestClient;
  readonly localCluster: string;
  readonly cache: MeshCache;
  readonly log: Logger;
  readonly metrics: FederationMetrics | undefined;
  /**
   * Whether this process writes RCC status now: true for the leader of several replicas (or a single one), false
   * for the others and for a read-only consumer of the same RCCs (a test, say).
   */
  readonly mayWriteStatus: () => boolean;
  readonly probeIntervalMs?: number;
  /** Minimum time between two status writes that only change counts. */
  readonly statusIntervalMs?: number;
  readonly listGate?: Gate;
}

const sameRef = (a: RccSpec | undefined, b: RccSpec | undefined) =>
  a?.clusterAccessSecret.name === b?.clusterAccessSecret.name &&
  a?.clusterAccessSecret.namespace === b?.clusterAccessSecret.namespace;

const hash = (text: string) => createHash('sha256').update(text).digest('hex');

/**
 * Everything about one RemoteClusterConfiguration: its Secret (watched by name, so a new token applies at
 * once), the connection built from it, the stale/withdraw timer, and the status written back. Config changes
 * swap the connection without touching the cache: the new connection's first full list decides what changed.
 */
export class RemoteCluster {
  private spec: RccSpec | undefined;
  private specError: string | undefined;
  private generation: number | undefined;
  private secretInformer: ResilientInformer<AccessSecret> | undefined;
  private secretProblem: ConfigProblem | undefined;
  private kubeconfigHash: string | undefined;
  private connection: ClusterConnection | undefined;
  private connectSeq = 0;
  private staleSince: number | null = null;
  private withdrawn = false;
  private lastSyncTime: string | null = null;
  private staleTimer: NodeJS.Timeout | undefined;
  private written: RccStatus | undefined;
  private writeTimer: NodeJS.Timeout | undefined;
  /** One status write at a time (see SerialWriter): an older state must never land after a newer one. */
  private readonly statusWriter = new SerialWriter(() => this.writeStatusOnce());
  private lastWriteAt = 0;
  private lastState: string | undefined;
  private stopped = false;
  private readonly log: Logger;

  constructor(
    readonly name: string,
    private readonly deps: RemoteClusterDeps,
  ) {
    this.log = deps.log.child({ cluster: name });
  }

  /** Applies the RCC as it is now (on every add and update event). */
  update(rcc: RccObject & { status?: RccStatus }): void {
    // The status as it stands is what the next write is measured against: one written by another replica (a leader
    // before us, or a late write of one) is then corrected by our next write, if it differs from what we see.
    if (rcc.status?.state && !sameRccStatus(this.written, rcc.status)) {
      this.written = rcc.status;
      this.scheduleWrite(true);
    }
    this.generation = rcc.metadata.generation;
    const parsed = parseRccSpec(rcc, this.deps.localCluster);
    if ('error' in parsed) {
      if (this.specError !== parsed.error)
        this.log.warn({ problem: parsed.error }, 'invalid RemoteClusterConfiguration');
      this.specError = parsed.error;
      this.spec = undefined;
      void this.stopSecretWatch();
      void this.abandonConnection();
      this.recompute();
      return;
    }
    this.specError = undefined;
    const refChanged = !sameRef(this.spec, parsed.spec);
    this.spec = parsed.spec;
    if (refChanged || !this.secretInformer) this.watchSecret(parsed.spec);
    this.recompute();
  }

  /** The RCC is gone: its cluster's objects go with it. */
  async remove(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.staleTimer);
    clearTimeout(this.writeTimer);
    await Promise.all([this.stopSecretWatch(), this.abandonConnection()]);
    this.deps.cache.forgetCluster(this.name);
    this.deps.metrics?.forgetCluster(this.name);
    this.log.info('RemoteClusterConfiguration deleted: its objects are removed');
  }

  private watchSecret(spec: RccSpec): void {
    void this.stopSecretWatch();
    const ref = spec.clusterAccessSecret;
    const key = `${ref.namespace}/${ref.name}`;
    this.secretProblem = { reason: 'SecretPending', message: `reading secret ${key}` };
    const informer: ResilientInformer<AccessSecret> = new ResilientInformer<AccessSecret>({
      client: this.deps.localClient,
      path: `/api/v1/namespaces/${encodeURIComponent(ref.namespace)}/secrets`,
      query: { fieldSelector: `metadata.name=${ref.name}` },
      convert: (raw) => slimAccessSecret(raw as { data?: Record<string, string> }),
      backoff: { initialMs: 500, maxMs: 10_000, jitter: 0.2 },
      handlers: {
        onList: (items) => this.applySecret(informer, items.get(key)),
        onUpsert: (_k, item) => this.applySecret(informer, item),
        onDelete: () => this.applySecret(informer, undefined),
        onPhase: (phase, failure) => {
          if (phase !== 'failed' || !failure || this.secretInformer !== informer) return;
          // A local hiccup must not cut a working remote connection: only complain while there is none.
          if (this.connection) return;
          const c = classifyFailure({ verb: failure.verb, resource: 'secrets', group: '' }, failure.error);
          this.secretProblem = { reason: 'SecretUnreadable', message: `cannot read secret ${key}: ${c.message}` };
          this.recompute();
        },
      },
    });
    this.secretInformer = informer;
    informer.start();
  }

  private async stopSecretWatch(): Promise<void> {
    const i = this.secretInformer;
    this.secretInformer = undefined;
    await i?.stop();
  }

  private applySecret(from: ResilientInformer<AccessSecret>, secret: AccessSecret | undefined): void {
    if (from !== this.secretInformer || !this.spec || this.stopped) return;
    const result = kubeconfigFromSecret(this.spec.clusterAccessSecret, secret);
    if ('problem' in result) {
      if (this.secretProblem?.message !== result.problem.message) {
        this.log.warn({ reason: result.problem.reason }, result.problem.message);
      }
      this.secretProblem = result.problem;
      this.kubeconfigHash = undefined;
      void this.abandonConnection();
      this.recompute();
      return;
    }
    this.secretProblem = undefined;
    const h = hash(result.text);
    if (h === this.kubeconfigHash && this.connection) {
      this.recompute();
      return;
    }
    this.kubeconfigHash = h;
    void this.replaceConnection(result.kubeConfig);
  }

  private async replaceConnection(kc: import('@kubernetes/client-node').KubeConfig): Promise<void> {
    const seq = ++this.connectSeq;
    await this.stopConnection();
    if (seq !== this.connectSeq) return;
    let client: KubeRestClient;
    try {
      // HTTP/2: a cluster's watches share one connection (see core/kube/h2-session.ts).
      client = await KubeRestClient.fromKubeConfig(kc, 8, { http2: true });
    } catch (err) {
      this.secretProblem = {
        reason: 'BadKubeconfig',
        message: `the kubeconfig cannot be used: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`,
      };
      this.recompute();
      return;
    }
    // A newer secret (or a stop) came while this one was being set up.
    if (this.stopped || !this.spec || seq !== this.connectSeq) {
      client.close();
      return;
    }
    this.log.info({ server: client.server.origin }, 'connecting with new access configuration');
    const conn = new ClusterConnection({
      cluster: this.name,
      client,
      cache: this.deps.cache,
      log: this.log,
      onState: () => {
        if (this.connection === conn) this.recompute();
      },
      onData: () => {
        if (this.connection === conn) this.scheduleWrite(false);
      },
      ...(this.deps.probeIntervalMs === undefined ? {} : { probeIntervalMs: this.deps.probeIntervalMs }),
      ...(this.deps.listGate ? { listGate: this.deps.listGate } : {}),
    });
    this.connection = conn;
    conn.start();
    this.recompute();
  }

  /** Stops the connection and cancels one being set up. */
  private async abandonConnection(): Promise<void> {
    this.connectSeq++;
    await this.stopConnection();
  }

  private async stopConnection(): Promise<void> {
    const c = this.connection;
    this.connection = undefined;
    await c?.stop();
  }

  private currentState(): DerivedState {
    if (this.specError) return { state: 'ConfigIncomplete', reason: 'InvalidSpec', message: this.specError };
    if (this.secretProblem?.reason === 'SecretPending') {
      return { state: 'Connecting', reason: 'Connecting', message: this.secretProblem.message };
    }
    if (this.secretProblem) {
      return { state: 'ConfigIncomplete', reason: this.secretProblem.reason, message: this.secretProblem.message };
    }
    return this.connection?.state ?? { state: 'Connecting', reason: 'Connecting', message: 'connecting' };
  }

  /** Derives the cluster's status, applies the stale policy, and publishes both. */
  private recompute(): void {
    if (this.stopped) return;
    const d = this.currentState();
    const now = Date.now();
    if (d.state === 'InSync') {
      if (this.lastState !== 'InSync') this.lastSyncTime = new Date(now).toISOString();
      this.staleSince = null;
      this.withdrawn = false;
    } else if (isStaleState(d.state) && this.staleSince === null && this.lastSyncTime !== null) {
      this.staleSince = now;
      this.log.warn({ state: d.state, reason: d.reason }, 'objects of this cluster are stale from now on');
    }
    clearTimeout(this.staleTimer);
    if (this.spec && !this.withdrawn) {
      const decision = staleDecision(this.spec.staleEndpoints, this.staleSince, now);
      if (decision.action === 'withdraw') {
        this.log.warn({ ttlMs: this.spec.staleEndpoints.ttlMs }, 'stale longer than the ttl: withdrawing its objects');
        this.withdrawn = true;
        this.deps.cache.removeObjects(this.name);
      } else if (decision.action === 'wait') {
        this.staleTimer = setTimeout(() => this.recompute(), decision.ms);
      }
    }
    const status: ClusterStatus = {
      cluster: this.name,
      local: false,
      state: d.state,
      reason: d.reason,
      message: d.message,
      staleSince: this.staleSince === null ? null : new Date(this.staleSince).toISOString(),
      withdrawn: this.withdrawn,
      lastSyncTime: this.lastSyncTime,
    };
    const stateChanged = this.lastState !== d.state;
    if (stateChanged) this.log.info({ state: d.state, reason: d.reason, message: d.message }, 'cluster state');
    this.lastState = d.state;
    this.deps.cache.setClusterStatus(status);
    this.deps.metrics?.setConnectionStatus(this.name, d.state);
    this.scheduleWrite(true);
  }

  /** State changes are written at once; count-only changes at most once per interval. */
  private scheduleWrite(urgent: boolean): void {
    if (!this.deps.mayWriteStatus() || this.stopped) return;
    const interval = this.deps.statusIntervalMs ?? 1000;
    const delay = urgent ? 0 : Math.max(0, this.lastWriteAt + interval - Date.now());
    if (this.writeTimer) {
      if (!urgent) return;
      clearTimeout(this.writeTimer);
    }
    this.writeTimer = setTimeout(() => {
      this.writeTimer = undefined;
      void this.writeStatus();
    }, delay);
  }

  private writeStatus(): Promise<void> {
    return this.statusWriter.request();
  }

  /** This process may write status again (it became the leader): write what it sees, if that differs. */
  resumeStatusWrites(): void {
    this.scheduleWrite(true);
  }

  private async writeStatusOnce(): Promise<void> {
    const cluster = this.deps.cache.clusterStatus(this.name);
    if (!cluster || this.stopped || !this.deps.mayWriteStatus()) return;
    const body = buildRccStatus(
      this.written,
      cluster,
      this.deps.cache.counts(this.name),
      this.generation,
      new Date().toISOString(),
    );
    if (sameRccStatus(this.written, body)) return;
    this.lastWriteAt = Date.now();
    // A merge patch keeps fields it does not name: clear the optional ones explicitly.
    const patch = { status: { ...body, lastSyncTime: body.lastSyncTime ?? null, staleSince: body.staleSince ?? null } };
    try {
      await this.deps.localClient.mergePatch(`${rccPath}/${encodeURIComponent(this.name)}/status`, patch);
      this.written = body;
    } catch (err) {
      if (isStatus(err, 404)) return;
      this.log.warn({ err: String(err) }, 'could not write the RCC status; retrying');
      if (!this.writeTimer)
        this.writeTimer = setTimeout(() => {
          this.writeTimer = undefined;
          void this.writeStatus();
        }, 2000);
    }
  }
}
