// The agent's runtime: informers feed the pure calculations (policy, overlay); a flush loop hands their changes
// to the drivers (nft, ip/bridge). Nothing is programmed before every source has listed once: until then the
// kernel keeps what the last run left, so that an agent restarted while the federation API is down keeps enforcing
// it. A fresh or rebooted node has nothing to keep: there, once the local sources have listed, the remote ones
// (the federation API) are waited for a little longer only (REMOTE_SOURCES_GRACE_MS), and local policy is then
// programmed without them (no remote peer admitted, nothing out of the tunnel) rather than leave every pod of the
// node unfiltered until the federation API answers. Stopping leaves the kernel as it is, so that
// policy keeps being enforced and tunnels keep carrying traffic while the agent restarts.

import { tmpdir } from 'node:os';
import type { Logger } from 'pino';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { type InformerFailure, ResilientInformer } from '../core/kube/resilient-informer.js';
import { isStatus, type KubeRestClient } from '../core/kube/rest-client.js';
import { errorMessage } from '../core/log/logger.js';
import {
  compileFederatedNetworkPolicy,
  compileNetworkPolicy,
  type FederatedNetworkPolicy,
  formatDiagnostic,
  type NetworkPolicyObject,
  type PolicyCompilation,
} from '../core/policy/index.js';
import { runToolOk } from './exec.js';
import { FlushLoop } from './flush-loop.js';
import { parseIpv4 } from './ipv4.js';
import { blamedRules, NftDriver } from './nft/driver.js';
import type { RefusedRule } from './nft/refused-rules.js';
import type { Existing } from './nft/render.js';
import { checkTransactionDir } from './nft/transaction-file.js';
import { computeOverlay, type RemoteNode, type TunnelEndpoint } from './overlay/calc.js';
import { OverlayDriver, readMainRoutes, readNexthops } from './overlay/driver.js';
import { OverlayProblemLog } from './overlay/problem-log.js';
import { vtepIp, vtepIpAnnotation, vtepMac, vtepMacAnnotation } from './overlay/vtep.js';
import { adaptPolicy, denyAllPolicy } from './policy/adapt.js';
import { type Endpoint, forwardChain, PolicyCalculation, peersDecl, peersSet } from './policy/calc.js';
import { RefusalReporter } from './refusals.js';
import {
  localNodeNetworks,
  notServedMeansNone,
  podEndpoint,
  rccOverlay,
  remoteNodeEntry,
  remoteWorkloadEndpoint,
} from './sources.js';

export interface AgentOptions {
  readonly client: KubeRestClient;
  readonly nodeName: string;
  readonly clusterName: string;
  readonly vxlan: { readonly device: string; readonly vni: number; readonly port: number; readonly mtu: number };
  /** Default: the interface that holds the node's InternalIP. */
  readonly underlayInterface?: string;
  readonly log: Logger;
  readonly registry: Registry;
  /** Full resync of both drivers against the kernel (drift defence), default 90 s. */
  readonly resyncIntervalMs?: number;
  /**
   * How long after the local sources have listed the agent waits for the remote ones (remoteworkloads, remotenodes)
   * before it programs without them; default REMOTE_SOURCES_GRACE_MS.
   */
  readonly remoteSourcesGraceMs?: number;
  /** Where full nft transactions are written before nft reads them (nft/transaction-file.ts); default the OS's tmpdir. */
  readonly nftTransactionDir?: string;
}

/** Every collection the agent lists and watches (its RBAC must grant each: access.test.ts). */
export const watchedPaths = {
  pods: '/api/v1/pods',
  namespaces: '/api/v1/namespaces',
  nodes: '/api/v1/nodes',
  networkpolicies: '/apis/networking.k8s.io/v1/networkpolicies',
  federatednetworkpolicies: '/apis/fedmesh.io/v1alpha1/federatednetworkpolicies',
  remoteworkloads: '/apis/federation.fedmesh.io/v1alpha1/remoteworkloads',
  remotenodes: '/apis/federation.fedmesh.io/v1alpha1/remotenodes',
  rccs: '/apis/fedmesh.io/v1alpha1/remoteclusterconfigurations',
} as const;

type SourceName = keyof typeof watchedPaths;
const sourceCount = Object.keys(watchedPaths).length;
/** The sources served by the federation API: every other is the local cluster's own. */
const remoteSources: ReadonlySet<SourceName> = new Set(['remoteworkloads', 'remotenodes']);
const localSourceCount = sourceCount - remoteSources.size;
export const REMOTE_SOURCES_GRACE_MS = 10_000;

interface NodeFacts {
  readonly internalIP: string;
  readonly podCIDRs: readonly string[];
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class Agent {
  private readonly calc: PolicyCalculation;
  private readonly nft: NftDriver;
  private overlay: OverlayDriver | undefined;
  /** This node's tunnel endpoint, once the VXLAN device is set up: no remote node may claim it. */
  private ownTunnel: TunnelEndpoint | undefined;
  private readonly informers: ResilientInformer<unknown>[] = [];
  private readonly synced = new Set<SourceName>();
  /**
   * At the start, the kernel's fedmesh table filtered nothing (a fresh or rebooted node, or an agent stopped before
   * its first full sync): there is nothing to keep, and local policy need not wait for the remote sources.
   */
  private freshKernel = false;
  /** The local sources have listed, and the grace for the remote ones is over: program what is known. */
  private remoteGraceOver = false;
  private remoteGraceTimer: NodeJS.Timeout | undefined;
  private readonly remoteNodes = new Map<string, RemoteNode>();
  private readonly overlayProblemLog = new OverlayProblemLog();
  /** Every local Node -> the networks it holds (pod CIDRs, addresses): never a remote pod's, never a remote route. */
  private readonly localNodeNetworks = new Map<string, readonly string[]>();
  /** The networks of all local Nodes, each once. */
  private localNetworks: readonly string[] = [];
  private readonly overlayClusters = new Map<string, boolean>();
  private readonly policyErrors = new Map<string, string>();
  private node: NodeFacts | undefined;
  private overlayDirty = true;
  /** The overlay has been applied once since the start (with `nft.inSync`, what `programmed` waits for). */
  private overlayApplied = false;
  private nftFullPending = true;
  private readonly flushes: FlushLoop;
  private readonly refusals: RefusalReporter;
  private stopped = false;
  private resyncTimer: NodeJS.Timeout | undefined;
  private readonly metrics;
  /** Settles once the first full sync of both drivers has committed. */
  readonly programmed: Promise<void>;
  private resolveProgrammed: () => void = () => {};

  constructor(private readonly opts: AgentOptions) {
    this.calc = new PolicyCalculation(opts.clusterName, opts.nodeName, { tunnelDevice: opts.vxlan.device });
    this.programmed = new Promise((r) => {
      this.resolveProgrammed = r;
    });
    const registers = [opts.registry];
    this.metrics = {
      syncSeconds: new Histogram({
        name: 'fedmesh_agent_sync_duration_seconds',
        help: 'Time to program one flush into the kernel, by driver (nft, overlay) and kind (full, delta)',
        labelNames: ['driver', 'kind'],
        buckets: [0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
        registers,
      }),
      failures: new Counter({
        name: 'fedmesh_agent_sync_failures_total',
        help: 'Flushes the kernel refused, by driver; the agent resyncs in full after one',
        labelNames: ['driver'],
        registers,
      }),
      endpoints: new Gauge({ name: 'fedmesh_agent_endpoints', help: 'Endpoints (local and remote) known', registers }),
      policies: new Gauge({ name: 'fedmesh_agent_policies', help: 'Policies compiled', registers }),
      policyErrors: new Gauge({
        name: 'fedmesh_agent_policy_errors',
        help: 'Policies that could not be compiled (they select nothing and allow nothing)',
        registers,
      }),
      policiesRefused: new Gauge({
        name: 'fedmesh_agent_policies_refused',
        help: 'Policies with a rule nftables refused: programmed as a drop until they change (see the log for why)',
        registers,
      }),
      overlayProblems: new Gauge({
        name: 'fedmesh_agent_overlay_problems',
        help: 'Remote nodes or pod CIDRs left out of the overlay (see the log for why)',
        registers,
      }),
      remoteNodes: new Gauge({
        name: 'fedmesh_agent_overlay_remote_nodes',
        help: 'Remote nodes tunnelled to',
        registers,
      }),
      remoteAddressesRefused: new Gauge({
        name: 'fedmesh_agent_remote_addresses_refused',
        help: 'Remote pod addresses left out of every selection because a local pod holds them or they lie in this node pod CIDRs (counted at each full sync)',
        registers,
      }),
      fullSyncBytes: new Gauge({
        name: 'fedmesh_agent_nft_full_sync_bytes',
        help: 'Size of the last full nftables transaction: what it needs in --nft-transaction-dir (chart value agent.nftTransactionSpace)',
        registers,
      }),
      nftSession: new Gauge({
        name: 'fedmesh_agent_nft_session_enabled',
        help: '1 while small nft deltas go through the long-lived nft -i process, 0 once it was turned off for failing',
        registers,
      }),
      remoteObjectsRefused: new Counter({
        name: 'fedmesh_agent_remote_objects_refused_total',
        help: "Remote objects dropped for failing the agent's checks, each time one arrives (listed or watched), by resource",
        labelNames: ['resource'],
        registers,
      }),
      sourceSynced: new Gauge({
        name: 'fedmesh_agent_source_synced',
        help: '1 once a watched collection has listed once',
        labelNames: ['source'],
        registers,
      }),
    };
    this.flushes = new FlushLoop(
      { nft: () => this.flushNft(), overlay: () => this.flushOverlay() },
      {
        onStepError: (driver, err) =>
          this.opts.log.error({ driver, err: errorMessage(err) }, 'flush failed unexpectedly; retrying'),
      },
    );
    this.refusals = new RefusalReporter(this.metrics.remoteObjectsRefused, opts.log);
    this.metrics.nftSession.set(1);
    this.nft = new NftDriver('nft', {
      ...(opts.nftTransactionDir === undefined ? {} : { transactionDir: opts.nftTransactionDir }),
      onSessionOff: (reason) => {
        this.metrics.nftSession.set(0);
        this.opts.log.error({ reason }, 'nft session turned off');
      },
    });
  }

  get ready(): boolean {
    return this.synced.size === sourceCount && this.nft.inSync;
  }

  /** Reads the node, sets up the VXLAN device and VTEP annotations, starts the informers. */
  async start(): Promise<void> {
    const { log } = this.opts;
    await checkTransactionDir(this.opts.nftTransactionDir ?? tmpdir());
    this.node = await this.readNode();
    this.calc.setNodeCIDRs(this.node.podCIDRs.filter((c) => /^\d+\.\d+\.\d+\.\d+\/\d+$/.test(c)));
    const underlay = this.opts.underlayInterface ?? (await interfaceWithAddress(this.node.internalIP));
    const ip = vtepIp(this.node.podCIDRs);
    if (!ip) throw new Error(`node ${this.opts.nodeName} has no IPv4 pod CIDR: its VXLAN tunnel needs an address`);
    const mac = vtepMac(this.opts.clusterName, this.opts.nodeName);
    this.overlay = new OverlayDriver(
      {
        name: this.opts.vxlan.device,
        vni: this.opts.vxlan.vni,
        port: this.opts.vxlan.port,
        mtu: this.opts.vxlan.mtu,
        underlayInterface: underlay,
        localIP: this.node.internalIP,
        mac,
        vtepIP: ip,
      },
      (msg, fields) => log.info(fields ?? {}, msg),
    );
    await this.overlay.ensureDevice();
    this.ownTunnel = { nodeIP: this.node.internalIP, vtepIP: ip, vtepMAC: mac };
    await this.publishVtep(ip, mac);
    log.info({ underlay, vtepIP: ip, vtepMAC: mac, device: this.opts.vxlan.device }, 'VXLAN device ready');
    // A failed read is taken as a table there: the safe side is to keep what the kernel holds.
    this.freshKernel = await this.nft.readExisting().then(filtersNothing, () => false);
    // On a kernel without `peers` (a boot), its elements go to the kernel while the sources list, into a set no rule
    // uses before the first full sync (NftDriver.streamSet); that sync then finds most of them loaded.
    const stream = await this.nft.streamSet(peersSet, peersDecl).catch((err: unknown) => {
      log.warn({ err: errorMessage(err) }, 'could not create the peers set ahead; it is loaded at the first full sync');
      return undefined;
    });
    if (stream) this.calc.streamPeers(stream);
    this.startInformers();
    const resync = this.opts.resyncIntervalMs ?? 90_000;
    this.resyncTimer = setInterval(() => {
      // Policies nft refused are tried again: what it refused may have been the node's fault (a module since loaded).
      const retried = this.calc.retryRefusedPolicies();
      if (retried > 0) this.opts.log.info({ policies: retried }, 'retrying the policies nftables refused');
      this.nftFullPending = true;
      this.overlayDirty = true;
      this.scheduleFlush();
    }, resync);
    this.resyncTimer.unref();
  }

  /** Stops watching. The kernel keeps every rule, set, route and tunnel entry. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.resyncTimer);
    clearTimeout(this.remoteGraceTimer);
    await Promise.all(this.informers.map((i) => i.stop()));
    await this.flushes.stop();
    await this.nft.close();
  }

  private async readNode(): Promise<NodeFacts> {
    const path = `/api/v1/nodes/${encodeURIComponent(this.opts.nodeName)}`;
    for (let attempt = 0; ; attempt++) {
      try {
        const node = await this.opts.client.get<{
          spec?: { podCIDR?: string; podCIDRs?: string[] };
          status?: { addresses?: { type: string; address: string }[] };
        }>(path);
        const internalIP = node.status?.addresses?.find((a) => a.type === 'InternalIP')?.address;
        if (!internalIP || parseIpv4(internalIP) === undefined) {
          throw new Error(`node ${this.opts.nodeName} has no IPv4 InternalIP`);
        }
        const podCIDRs = node.spec?.podCIDRs ?? (node.spec?.podCIDR ? [node.spec.podCIDR] : []);
        return { internalIP, podCIDRs };
      } catch (err) {
        if (this.stopped) throw err;
        this.opts.log.warn({ err: errorMessage(err), attempt }, 'cannot read this node yet; retrying');
        await sleep(Math.min(500 * 2 ** attempt, 10_000));
      }
    }
  }

  private async publishVtep(ip: string, mac: string): Promise<void> {
    await this.opts.client.mergePatch(`/api/v1/nodes/${encodeURIComponent(this.opts.nodeName)}`, {
      metadata: { annotations: { [vtepIpAnnotation]: ip, [vtepMacAnnotation]: mac } },
    });
  }

  private startInformers(): void {
    const local = this.opts.clusterName;
    const endpoints = new Map<string, Endpoint>();
    const upsertEndpoint = (key: string, ep: Endpoint | undefined) => {
      const old = endpoints.get(key);
      if (old && (!ep || old.cluster !== ep.cluster || old.namespace !== ep.namespace || old.name !== ep.name)) {
        this.calc.deleteEndpoint(old.cluster, old.namespace, old.name);
        endpoints.delete(key);
      }
      if (ep) {
        endpoints.set(key, ep);
        this.calc.upsertEndpoint(ep);
      }
      this.metrics.endpoints.set(this.calc.endpointCount);
    };
    const endpointSource = (source: SourceName, path: string, convert: (raw: unknown) => Endpoint | undefined) => {
      const prefix = `${source}:`;
      this.watch<Endpoint>(source, path, convert, {
        onList: (items) => {
          for (const key of [...endpoints.keys()]) {
            if (key.startsWith(prefix) && !items.has(key.slice(prefix.length))) upsertEndpoint(key, undefined);
          }
          for (const [key, ep] of items) upsertEndpoint(prefix + key, ep);
        },
        onUpsert: (key, ep) => upsertEndpoint(prefix + key, ep),
        onDelete: (key) => upsertEndpoint(prefix + key, undefined),
      });
    };
    endpointSource('pods', watchedPaths.pods, (raw) => podEndpoint(raw, local));
    endpointSource(
      'remoteworkloads',
      watchedPaths.remoteworkloads,
      this.refusals.convert('remoteworkloads', (raw) => remoteWorkloadEndpoint(raw, local)),
    );

    const localNetworksChanged = () => {
      this.localNetworks = [...new Set([...this.localNodeNetworks.values()].flat())];
      this.calc.setLocalNetworks(this.localNetworks);
      this.overlayDirty = true;
    };
    this.watch<readonly string[]>('nodes', watchedPaths.nodes, localNodeNetworks, {
      onList: (items) => {
        this.localNodeNetworks.clear();
        for (const [k, networks] of items) this.localNodeNetworks.set(k, networks);
        localNetworksChanged();
      },
      onUpsert: (k, networks) => {
        const old = this.localNodeNetworks.get(k);
        // Nodes change often (status, labels); their networks rarely.
        if (old && old.length === networks.length && old.every((c, i) => c === networks[i])) return;
        this.localNodeNetworks.set(k, networks);
        localNetworksChanged();
      },
      onDelete: (k) => {
        this.localNodeNetworks.delete(k);
        localNetworksChanged();
      },
    });

    const namespaces = new Set<string>();
    this.watch<Record<string, string>>(
      'namespaces',
      watchedPaths.namespaces,
      (raw) => (raw as { metadata?: { labels?: Record<string, string> } }).metadata?.labels ?? {},
      {
        onList: (items) => {
          for (const n of namespaces) if (!items.has(n)) this.calc.setNamespace(n, undefined);
          namespaces.clear();
          for (const [n, labels] of items) {
            namespaces.add(n);
            this.calc.setNamespace(n, labels);
          }
        },
        onUpsert: (n, labels) => {
          namespaces.add(n);
          this.calc.setNamespace(n, labels);
        },
        onDelete: (n) => {
          namespaces.delete(n);
          this.calc.setNamespace(n, undefined);
        },
      },
    );

    const policySource = (
      source: SourceName,
      path: string,
      kind: 'NetworkPolicy' | 'FederatedNetworkPolicy',
      compile: (raw: unknown) => PolicyCompilation,
    ) => {
      const keys = new Set<string>();
      const set = (key: string, raw: unknown) => {
        keys.add(key);
        const [namespace = '', name = ''] = key.split('/');
        const r = compile(raw);
        const id = `${kind}/${key}`;
        if (r.errors.length > 0) {
          const errors = r.errors.map(formatDiagnostic);
          this.policyErrors.set(id, errors.join('; '));
          this.opts.log.error({ policy: id, errors }, 'policy has errors');
        } else this.policyErrors.delete(id);
        // Fail closed: a policy that cannot be read at all still selects its namespace and allows nothing.
        this.calc.upsertPolicy(r.policy ? adaptPolicy(r.policy, local) : denyAllPolicy(kind, namespace, name, local));
        this.policyMetrics();
      };
      const del = (key: string) => {
        keys.delete(key);
        this.policyErrors.delete(`${kind}/${key}`);
        this.calc.deletePolicy(`${kind}/${key}`);
        this.policyMetrics();
      };
      this.watch<unknown>(source, path, (raw) => raw, {
        onList: (items) => {
          for (const k of [...keys]) if (!items.has(k)) del(k);
          for (const [k, raw] of items) set(k, raw);
        },
        onUpsert: set,
        onDelete: del,
      });
    };
    const options = { localCluster: local };
    policySource('networkpolicies', watchedPaths.networkpolicies, 'NetworkPolicy', (raw) =>
      compileNetworkPolicy(raw as NetworkPolicyObject, options),
    );
    policySource('federatednetworkpolicies', watchedPaths.federatednetworkpolicies, 'FederatedNetworkPolicy', (raw) =>
      compileFederatedNetworkPolicy(raw as FederatedNetworkPolicy, options),
    );

    const remoteNode = this.refusals.convert('remotenodes', (raw) => remoteNodeEntry(raw, local));
    this.watch<RemoteNode>('remotenodes', watchedPaths.remotenodes, remoteNode, {
      onList: (items) => {
        this.remoteNodes.clear();
        for (const [k, n] of items) this.remoteNodes.set(k, n);
        this.overlayDirty = true;
      },
      onUpsert: (k, n) => {
        this.remoteNodes.set(k, n);
        this.overlayDirty = true;
      },
      onDelete: (k) => {
        this.remoteNodes.delete(k);
        this.overlayDirty = true;
      },
    });
    this.watch<{ cluster: string; enabled: boolean }>('rccs', watchedPaths.rccs, rccOverlay, {
      onList: (items) => {
        this.overlayClusters.clear();
        for (const r of items.values()) this.overlayClusters.set(r.cluster, r.enabled);
        this.overlayDirty = true;
      },
      onUpsert: (_k, r) => {
        this.overlayClusters.set(r.cluster, r.enabled);
        this.overlayDirty = true;
      },
      onDelete: (k) => {
        this.overlayClusters.delete(k);
        this.overlayDirty = true;
      },
    });
    for (const i of this.informers) i.start();
  }

  private policyMetrics(): void {
    this.metrics.policies.set(this.calc.policyCount);
    this.metrics.policyErrors.set(this.policyErrors.size);
    this.metrics.policiesRefused.set(this.calc.refusedPolicyCount);
  }

  private watch<T>(
    source: SourceName,
    path: string,
    convert: (raw: unknown) => T | undefined,
    h: { onList(items: Map<string, T>): void; onUpsert(key: string, item: T): void; onDelete(key: string): void },
  ): void {
    const markSynced = () => {
      if (this.synced.has(source)) return;
      this.synced.add(source);
      this.metrics.sourceSynced.set({ source }, 1);
      this.opts.log.info({ source }, 'source listed');
      if (this.localSourcesListed() && this.synced.size < sourceCount) this.startRemoteGrace();
    };
    const wrap = (fn: () => void) => {
      try {
        fn();
      } catch (err) {
        // A bug in a calculation must not kill the process and leave the kernel half-programmed: resync.
        this.opts.log.error({ source, err: errorMessage(err) }, 'event handling failed; resyncing in full');
        this.nftFullPending = true;
      }
      this.scheduleFlush();
    };
    const informer = new ResilientInformer<T>({
      client: this.opts.client,
      path,
      convert: (raw) => convert(raw),
      handlers: {
        onList: (items) =>
          wrap(() => {
            h.onList(items);
            markSynced();
          }),
        onUpsert: (k, item) => wrap(() => h.onUpsert(k, item)),
        onDelete: (k) => wrap(() => h.onDelete(k)),
        onPhase: (phase, failure?: InformerFailure) => {
          if (phase !== 'failed' || !failure) return;
          // RemoteClusterConfigurations not served: none (sources.ts). The informer keeps retrying either way.
          if (notServedMeansNone(source, failure.error)) {
            wrap(() => markSynced());
            return;
          }
          if (source === 'federatednetworkpolicies' && isStatus(failure.error, 404)) {
            this.opts.log.warn(
              { source },
              'FederatedNetworkPolicies are not served (404): install the fedmesh CRDs (the chart does); until they can be listed, nothing is programmed and a restarted node keeps its last ruleset',
            );
            return;
          }
          this.opts.log.warn(
            { source, verb: failure.verb, err: errorMessage(failure.error) },
            'watch failed; retrying',
          );
        },
      },
    }) as unknown as ResilientInformer<unknown>;
    this.informers.push(informer);
  }

  /**
   * Runs a flush of each driver now, or once more after its running one: changes are coalesced, never queued one
   * by one. Each driver retries its own failures with its own backoff (flush-loop.ts).
   */
  scheduleFlush(): void {
    if (this.stopped) return;
    if (this.synced.size < sourceCount && !(this.remoteGraceOver && this.localSourcesListed())) return;
    this.flushes.schedule();
  }

  private localSourcesListed(): boolean {
    let n = 0;
    for (const s of this.synced) if (!remoteSources.has(s)) n++;
    return n === localSourceCount;
  }

  /** Once, on a fresh kernel: when the remote sources have not listed within the grace, programs without them. */
  private startRemoteGrace(): void {
    if (!this.freshKernel || this.remoteGraceTimer !== undefined || this.remoteGraceOver) return;
    const grace = this.opts.remoteSourcesGraceMs ?? REMOTE_SOURCES_GRACE_MS;
    this.remoteGraceTimer = setTimeout(() => {
      this.remoteGraceOver = true;
      if (this.stopped || this.synced.size === sourceCount) return;
      this.opts.log.warn(
        { waitedMs: grace, missing: [...remoteSources].filter((s) => !this.synced.has(s)) },
        'the federation API has not listed the remote clusters yet: programming local policy without them (no remote peer is admitted and nothing comes out of the tunnel until it does)',
      );
      this.scheduleFlush();
    }, grace);
    this.remoteGraceTimer.unref();
  }

  private markProgrammed(): void {
    if (this.overlayApplied && this.nft.inSync) this.resolveProgrammed();
  }

  /** The nft driver's share of a flush: a delta, or the full ruleset after a start or a failure. */
  private async flushNft(): Promise<boolean> {
    const full = this.nftFullPending || !this.nft.inSync;
    try {
      this.nftFullPending = false;
      const stats = full
        ? await this.nft.fullSync(() => {
            this.calc.trackChanges(true);
            return this.calc.desired;
          })
        : await this.nft.apply(this.calc.desired, this.calc.takeChanges());
      if (stats.lines > 0) this.metrics.syncSeconds.observe({ driver: 'nft', kind: stats.kind }, stats.ms / 1000);
      if (full) {
        this.metrics.fullSyncBytes.set(stats.bytes);
        // Counted at full syncs (start, every resync): it walks every remote address.
        const refused = this.calc.refusedRemoteAddresses();
        this.metrics.remoteAddressesRefused.set(refused);
        this.opts.log.info(
          { lines: stats.lines, bytes: stats.bytes, ms: Math.round(stats.ms), remoteAddressesRefused: refused },
          'nftables programmed in full',
        );
      }
    } catch (err) {
      this.nftFullPending = true;
      this.metrics.failures.inc({ driver: 'nft' });
      this.opts.log.error({ err: errorMessage(err) }, 'nftables transaction failed; the next flush resyncs in full');
      this.refusePolicies(blamedRules(err, full));
      return false;
    }
    this.markProgrammed();
    return true;
  }

  /**
   * The policies whose rules nft refused are programmed as a drop from now on (fail closed for the endpoints they
   * select), so that the next full sync takes the rest of the ruleset instead of failing on them forever.
   */
  private refusePolicies(rules: readonly RefusedRule[]): void {
    if (rules.length === 0) return;
    const logged = new Set<string>();
    for (const r of rules) {
      const key = this.calc.refuseRule(r.chain, r.index, r.rule, r.reason);
      if (key === undefined || logged.has(key)) continue;
      logged.add(key);
      this.opts.log.error(
        { policy: key, reason: r.reason, rule: r.rule },
        'nftables refused a rule of this policy: it is programmed as a drop until the policy changes',
      );
    }
    this.metrics.policiesRefused.set(this.calc.refusedPolicyCount);
  }

  /** The overlay driver's share of a flush: the whole overlay, recomputed, when anything it depends on changed. */
  private async flushOverlay(): Promise<boolean> {
    if (!this.overlayDirty || !this.overlay || !this.node) return true;
    // Local policy may go in before the federation API has listed (a fresh node); the overlay is made of what it
    // lists, and computed without it, it would remove routes that are still right.
    if (!this.synced.has('remotenodes') || !this.synced.has('rccs')) return true;
    this.overlayDirty = false;
    const started = performance.now();
    try {
      const [localRoutes, localNexthops] = await Promise.all([readMainRoutes(), readNexthops()]);
      const plan = computeOverlay({
        remoteNodes: [...this.remoteNodes.values()],
        enabledClusters: new Set([...this.overlayClusters].filter(([, on]) => on).map(([c]) => c)),
        protectedCIDRs: [...this.node.podCIDRs, `${this.node.internalIP}/32`, ...this.localNetworks],
        localRoutes,
        localNexthops,
        self: this.ownTunnel,
      });
      // Packets out of the tunnel may come from the networks it routes and from no other; the nft lane programs the
      // new set on its own (until then the previous one holds).
      if (this.calc.setTunnelSources(plan.state.routes.keys())) this.flushes.schedule();
      const toLog = this.overlayProblemLog.next(plan.problems);
      for (const p of toLog.lines) this.opts.log.warn({ problem: p }, 'remote node left out of the overlay');
      if (toLog.more > 0) {
        this.opts.log.warn(
          { more: toLog.more, problems: plan.problems.length },
          'more remote nodes left out of the overlay (not logged one by one; fedmesh_agent_overlay_problems counts them)',
        );
      }
      this.metrics.overlayProblems.set(plan.problems.length);
      this.metrics.remoteNodes.set(plan.state.neighbors.size);
      await this.overlay.ensureDevice();
      const r = await this.overlay.apply(plan.state);
      this.metrics.syncSeconds.observe({ driver: 'overlay', kind: 'full' }, (performance.now() - started) / 1000);
      if (r.added + r.removed > 0)
        this.opts.log.info({ ...r, remoteNodes: plan.state.neighbors.size }, 'overlay updated');
    } catch (err) {
      this.overlayDirty = true;
      this.metrics.failures.inc({ driver: 'overlay' });
      this.opts.log.error({ err: errorMessage(err) }, 'overlay update failed; retrying');
      return false;
    }
    this.overlayApplied = true;
    this.markProgrammed();
    return true;
  }
}

/** The interface holding `ip` (the node's InternalIP): the VXLAN device's parent. */
export async function interfaceWithAddress(ip: string): Promise<string> {
  const out = await runToolOk('ip', ['-j', 'addr', 'show']);
  const links = JSON.parse(out) as { ifname: string; addr_info?: { local?: string }[] }[];
  const link = links.find((l) => l.addr_info?.some((a) => a.local === ip));
  if (!link) {
    throw new Error(`no interface holds the node's InternalIP ${ip}; give the underlay with --underlay-interface`);
  }
  return link.ifname;
}

/**
 * Whether fedmesh's table, as read back, filters nothing: no table, or one without the base chain `forward` (all
 * an agent leaves when it stops between creating `peers` to stream it and its first full sync). Such a kernel has
 * no ruleset to keep while the remote sources are missing.
 */
export function filtersNothing(existing: Existing): boolean {
  return !existing.table || !existing.chains.has(forwardChain);
}
