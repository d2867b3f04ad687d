import { createHash } from 'node:crypto';
import type { BackoffPolicy } from '../core/kube/backoff.js';
import { Gate } from '../core/kube/gate.js';
import { KubeRestClient } from '../core/kube/rest-client.js';
import type { Logger } from '../core/log/logger.js';
import { AccessSecretWatch } from './access-secret-watch.js';
import { ClusterConnection } from './cluster-connection.js';
import type { ConfigProblem, DerivedState } from './cluster-state.js';
import { classifyFailure } from './connection-error.js';
import { type AccessSecret, type KubeconfigResult, kubeconfigFromSecret } from './kubeconfig-secret.js';
import type { MeshCache } from './mesh-cache.js';
import type { ClusterStatus } from './mesh-types.js';
import type { FederationMetrics } from './metrics.js';
import { parseRccSpec, type RccObject, type RccSpec, type SecretRef } from './rcc-spec.js';
import type { RccStatus } from './rcc-status.js';
import { RccStatusWriter } from './rcc-status-writer.js';
import { isStaleState, resourceWithdrawals, staleDecision } from './stale-policy.js';

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
  /** Waits between retries of a remote list or watch; default client-go's. */
  readonly remoteBackoff?: BackoffPolicy;
}

/** An RCC as the controller hands it over: checked against the CRD schema (rcc-validation.ts). */
export interface CheckedRcc {
  readonly rcc: RccObject & { readonly status?: RccStatus };
  /** Set when the object's spec or metadata does not match the schema: the cluster is ConfigIncomplete. */
  readonly problem?: string;
  /** Set when its status is not a whole status of ours: it is rewritten. */
  readonly statusProblem?: string;
}

const sameRef = (a: RccSpec | undefined, b: RccSpec | undefined) =>
  a?.clusterAccessSecret.name === b?.clusterAccessSecret.name &&
  a?.clusterAccessSecret.namespace === b?.clusterAccessSecret.namespace;

/** The Secret's kubeconfig, checked; a check that throws on a shape it did not expect is a bad kubeconfig too. */
function checkedKubeconfig(ref: SecretRef, secret: AccessSecret | undefined): KubeconfigResult {
  try {
    return kubeconfigFromSecret(ref, secret);
  } catch {
    const where = `secret ${ref.namespace}/${ref.name}`;
    return { problem: { reason: 'BadKubeconfig', message: `the kubeconfig in ${where} is not a valid kubeconfig` } };
  }
}

const hash = (text: string) => createHash('sha256').update(text).digest('hex');

/**
 * The lifecycle of one RemoteClusterConfiguration: the Secret watch, the connection built from it, the stale
 * policy, and the status written back (rcc-status-writer.ts). Config changes swap the connection without touching
 * the cache: the new connection's first full lists decide what changed. `remove()` is for a deleted RCC (its
 * objects go); `stop()` for a process that stops (the cache is left alone).
 */
export class RemoteCluster {
  private spec: RccSpec | undefined;
  private specError: string | undefined;
  private secretWatch: AccessSecretWatch | undefined;
  private secretProblem: ConfigProblem | undefined;
  private kubeconfigHash: string | undefined;
  private connection: ClusterConnection | undefined;
  /** The connection being stopped or built; the next one waits for it (one connection at a time). */
  private transition: Promise<void> = Promise.resolve();
  private connectSeq = 0;
  /** When the whole cluster went stale (no usable connection, after it had synced); ms. */
  private staleSince: number | null = null;
  /** Every object was removed (no usable connection for longer than the ttl). */
  private clusterWithdrawn = false;
  /** Some or all objects were removed after the ttl (the Synced condition says so). */
  private withdrawn = false;
  private lastSyncTime: string | null = null;
  /**
   * When this process first found the cluster failing before any list of it completed (ms): what an earlier
   * process wrote for it (slices, imports) is kept until it lists, and Withdraw's ttl counts from here.
   */
  private unlistedFailingSince: number | null = null;
  private staleTimer: NodeJS.Timeout | undefined;
  private readonly status: RccStatusWriter;
  private lastState: string | undefined;
  private stopped = false;
  private readonly log: Logger;
  /**
   * This cluster's lane to the shared list gate: at most two of its lists take shared slots at once (one lane of
   * width 1 made a start of 50 clusters about a quarter slower, as each cluster's lists then ran one after another).
   */
  private readonly listLane: Gate | undefined;
  /** The uid of the RCC this instance serves: another uid under the same name is another RCC. */
  uid: string | undefined;

  constructor(
    readonly name: string,
    private readonly deps: RemoteClusterDeps,
  ) {
    this.log = deps.log.child({ cluster: name });
    this.listLane = deps.listGate ? new Gate(2, deps.listGate) : undefined;
    this.status = new RccStatusWriter({
      name,
      client: deps.localClient,
      log: this.log,
      mayWrite: deps.mayWriteStatus,
      ...(deps.statusIntervalMs === undefined ? {} : { intervalMs: deps.statusIntervalMs }),
      current: () => {
        const cluster = deps.cache.clusterStatus(name);
        return cluster
          ? { cluster, counts: deps.cache.counts(name), refused: this.connection?.refusedObjects() ?? [] }
          : undefined;
      },
    });
  }

  /** Applies the RCC as it is now (on every add and update event). */
  update(checked: CheckedRcc): void {
    if (this.stopped) return;
    const { rcc } = checked;
    this.uid = rcc.metadata.uid;
    if (checked.statusProblem)
      this.log.warn({ problem: checked.statusProblem }, 'the RCC status is not ours: rewriting it');
    this.status.observe(rcc.status, checked.statusProblem === undefined, rcc.metadata.generation);
    const parsed = checked.problem
      ? { error: `the RemoteClusterConfiguration does not match its schema: ${checked.problem}` }
      : parseRccSpec(rcc, this.deps.localCluster);
    if ('error' in parsed) {
      if (this.specError !== parsed.error)
        this.log.warn({ problem: parsed.error }, 'invalid RemoteClusterConfiguration');
      this.specError = parsed.error;
      this.spec = undefined;
      this.stopSecretWatch();
      this.abandonConnection();
      this.recompute();
      return;
    }
    this.specError = undefined;
    const refChanged = !sameRef(this.spec, parsed.spec);
    this.spec = parsed.spec;
    if (refChanged || !this.secretWatch) this.watchSecret(parsed.spec);
    this.recompute();
  }

  /** The RCC is gone: stop, then its cluster's objects go with it. */
  async remove(): Promise<void> {
    await this.stop();
    this.deps.cache.forgetCluster(this.name);
    this.deps.metrics?.forgetCluster(this.name);
    this.log.info('RemoteClusterConfiguration deleted: its objects are removed');
  }

  /** Stops everything this instance runs and waits for it; the cache keeps what it holds. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.staleTimer);
    this.status.stop();
    this.stopSecretWatch();
    this.abandonConnection();
    await this.transition;
  }

  /** This process may write status again (it became the leader): write what it sees, if that differs. */
  resumeStatusWrites(): void {
    this.status.schedule(true);
  }

  private watchSecret(spec: RccSpec): void {
    this.stopSecretWatch();
    const ref = spec.clusterAccessSecret;
    const key = `${ref.namespace}/${ref.name}`;
    this.secretProblem = { reason: 'SecretPending', message: `reading secret ${key}` };
    const watch: AccessSecretWatch = new AccessSecretWatch({
      client: this.deps.localClient,
      ref,
      onSecret: (secret) => {
        if (this.secretWatch === watch) this.applySecret(secret);
      },
      onFailure: (failure) => {
        // A local hiccup must not cut a working remote connection: only complain while there is none.
        if (this.secretWatch !== watch || this.connection) return;
        const c = classifyFailure({ verb: failure.verb, resource: 'secrets', group: '' }, failure.error);
        this.secretProblem = { reason: 'SecretUnreadable', message: `cannot read secret ${key}: ${c.message}` };
        this.recompute();
      },
    });
    this.secretWatch = watch;
    watch.start();
  }

  private stopSecretWatch(): void {
    const w = this.secretWatch;
    this.secretWatch = undefined;
    if (w) this.after(() => w.stop());
  }

  /** Runs `step` after whatever stops or starts before it (so an old connection is gone before a new one). */
  private after(step: () => Promise<void>): Promise<void> {
    const next = this.transition.then(step).catch((err: unknown) => {
      this.log.error({ err: String(err) }, 'stopping or starting a connection failed');
    });
    this.transition = next;
    return next;
  }

  private applySecret(secret: AccessSecret | undefined): void {
    if (!this.spec || this.stopped) return;
    const result = checkedKubeconfig(this.spec.clusterAccessSecret, secret);
    if ('problem' in result) {
      if (this.secretProblem?.message !== result.problem.message) {
        this.log.warn({ reason: result.problem.reason }, result.problem.message);
      }
      this.secretProblem = result.problem;
      this.kubeconfigHash = undefined;
      this.abandonConnection();
      this.recompute();
      return;
    }
    this.secretProblem = undefined;
    const h = hash(result.text);
    if (h === this.kubeconfigHash) {
      this.recompute();
      return;
    }
    this.kubeconfigHash = h;
    this.replaceConnection(result.kubeConfig);
  }

  private replaceConnection(kc: import('@kubernetes/client-node').KubeConfig): void {
    const seq = ++this.connectSeq;
    this.stopConnection();
    void this.after(async () => {
      if (seq !== this.connectSeq || this.stopped || !this.spec) return;
      let client: KubeRestClient;
      try {
        // HTTP/2: a cluster's watches share one connection (see core/kube/h2-session.ts).
        client = await KubeRestClient.fromKubeConfig(kc, 8, { http2: true });
      } catch (err) {
        if (seq !== this.connectSeq) return;
        this.secretProblem = {
          reason: 'BadKubeconfig',
          message: `the kubeconfig cannot be used: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`,
        };
        this.kubeconfigHash = undefined;
        this.recompute();
        return;
      }
      // A newer secret (or a stop) came while this one was being set up.
      if (this.stopped || !this.spec || seq !== this.connectSeq) {
        client.close();
        return;
      }
      this.log.info({ server: client.server.origin }, 'connecting with new access configuration');
      const conn: ClusterConnection = new ClusterConnection({
        cluster: this.name,
        client,
        cache: this.deps.cache,
        log: this.log,
        onState: () => {
          if (this.connection === conn) this.recompute();
        },
        onData: () => {
          if (this.connection === conn) this.status.schedule(false);
        },
        onRestart: (resource, reason) => this.deps.metrics?.watchRestarted(this.name, resource, reason),
        onRefused: (resource) => {
          this.deps.metrics?.objectRefused(this.name, resource);
          if (this.connection === conn) this.status.schedule(false);
        },
        ...(this.deps.probeIntervalMs === undefined ? {} : { probeIntervalMs: this.deps.probeIntervalMs }),
        ...(this.listLane ? { listGate: this.listLane } : {}),
        ...(this.deps.remoteBackoff ? { backoff: this.deps.remoteBackoff } : {}),
      });
      this.connection = conn;
      conn.start();
      this.recompute();
    });
  }

  /** Stops the connection and cancels one being set up. */
  private abandonConnection(): void {
    this.connectSeq++;
    this.stopConnection();
  }

  private stopConnection(): void {
    const c = this.connection;
    this.connection = undefined;
    if (c) void this.after(() => c.stop());
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
      this.unlistedFailingSince = null;
      this.clusterWithdrawn = false;
      this.withdrawn = false;
    } else if (isStaleState(d.state) && this.lastSyncTime === null) {
      this.unlistedFailingSince ??= now;
    } else if (isStaleState(d.state) && this.staleSince === null && this.lastSyncTime !== null) {
      this.staleSince = now;
      this.log.warn({ state: d.state, reason: d.reason }, 'objects of this cluster are stale from now on');
    }
    this.applyStalePolicy(d, now);
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
    if (this.lastState !== d.state)
      this.log.info({ state: d.state, reason: d.reason, message: d.message }, 'cluster state');
    this.lastState = d.state;
    this.deps.cache.setClusterStatus(status);
    this.deps.metrics?.setConnectionStatus(this.name, d.state);
    this.status.schedule(true);
  }

  /**
   * Withdraw: without a usable connection every object goes after the ttl; with one, only the resources that
   * have failed for longer than the ttl (the rest is still kept current). Their next list brings them back.
   */
  private applyStalePolicy(d: DerivedState, now: number): void {
    clearTimeout(this.staleTimer);
    if (!this.spec) return;
    const policy = this.spec.staleEndpoints;
    let recheck: number | undefined;
    if (!this.connection || d.state === 'ConfigIncomplete') {
      if (this.clusterWithdrawn) return;
      const decision = staleDecision(policy, this.staleSince ?? this.unlistedFailingSince, now);
      if (decision.action === 'withdraw') {
        this.log.warn({ ttlMs: policy.ttlMs }, 'stale longer than the ttl: withdrawing its objects');
        this.clusterWithdrawn = true;
        this.withdrawn = true;
        this.deps.cache.removeObjects(this.name);
      } else if (decision.action === 'wait') recheck = decision.ms;
    } else if (this.lastSyncTime !== null || this.unlistedFailingSince !== null) {
      // Never listed in this process: failing resources are withdrawn after the ttl too (they hold nothing, but
      // that tells the controllers to remove what an earlier process wrote for the cluster: fail-closed).
      const { withdraw, recheckMs } = resourceWithdrawals(policy, this.connection.resources(), now);
      for (const resource of withdraw) {
        this.log.warn({ ttlMs: policy.ttlMs, resource }, 'failing longer than the ttl: withdrawing its objects');
        this.connection.withdraw(resource);
      }
      this.withdrawn = this.clusterWithdrawn || this.connection.resources().some((r) => r.withdrawn);
      recheck = recheckMs;
    }
    if (recheck !== undefined) this.staleTimer = setTimeout(() => this.recompute(), recheck);
  }
}
