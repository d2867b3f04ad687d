import { mkdirSync, readFileSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { dns1123LabelError } from '../../core/kube/names.js';
import { isStatus, KubeRestClient } from '../../core/kube/rest-client.js';
import { binaryPath, buildControlPlane } from './build.js';
import { removeNetns } from './netns.js';
import { createClusterPki, frontProxyClientName, kubeconfigYaml } from './pki.js';
import { freePort, isRunning, logTail, type Started, startDetached, stopProcess } from './processes.js';
import {
  type ClusterRecord,
  type Component,
  type ProcessRecord,
  readState,
  type TestbedState,
  writeState,
} from './state.js';
import { cacheDir } from './versions.js';

export interface UpOptions {
  readonly clusters: readonly string[];
  readonly dir: string;
  readonly cache?: string;
  /** Extra kube-apiserver flags, e.g. a feature gate (and, in tests, a bad flag to prove cleanup). */
  readonly apiserverArgs?: readonly string[];
  readonly report?: (msg: string) => void;
  /** How long each cluster may take to become ready. */
  readonly readyTimeoutMs?: number;
}

export class TestbedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TestbedError';
  }
}

const repoRoot = join(fileURLToPath(import.meta.url), '..', '..', '..', '..');
const fedmeshBin = join(repoRoot, 'bin', 'fedmesh.js');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Checks the cluster list: DNS-1123 labels (they become kubeconfig names, etcd prefixes and fedmesh cluster names), no duplicates. */
export function validateClusterNames(names: readonly string[]): void {
  if (names.length === 0) throw new TestbedError('give at least one cluster name, e.g. --clusters east,west');
  const seen = new Set<string>();
  for (const n of names) {
    const err = dns1123LabelError(n);
    if (err) throw new TestbedError(`cluster name "${n}" is not a DNS-1123 label: it ${err}`);
    if (seen.has(n)) throw new TestbedError(`cluster name "${n}" is given twice`);
    seen.add(n);
  }
}

/** Running processes of an existing testbed in `dir` (empty when there is none or it is dead). */
export function runningProcesses(dir: string): ProcessRecord[] {
  return readState(dir)?.processes.filter(isRunning) ?? [];
}

/**
 * Starts etcd and, per cluster, kube-apiserver (aggregation layer on), kube-controller-manager and the
 * kubelet stand-in; writes .testbed/<cluster>.kubeconfig; returns once every cluster answers and its
 * controllers work. On any failure it stops what it started and throws, leaving no process behind.
 */
export async function up(opts: UpOptions): Promise<TestbedState> {
  validateClusterNames(opts.clusters);
  const report = opts.report ?? ((m: string) => console.error(`[testbed] ${m}`));
  const running = runningProcesses(opts.dir);
  if (running.length > 0) {
    const clusters = [...new Set(running.map((p) => p.cluster).filter((c) => c !== null))].join(', ');
    throw new TestbedError(
      `a testbed is already running in ${opts.dir} (clusters: ${clusters || 'none'}; ${running.length} processes). ` +
        'Use it (`fedmesh testbed status`), or stop it first with `fedmesh testbed down`.',
    );
  }
  if (readState(opts.dir)) {
    report(`removing the state of a testbed whose processes are all gone (${opts.dir})`);
    await down({ dir: opts.dir, report: () => {} });
  }
  const cache = opts.cache ?? cacheDir();
  const { manifest } = await buildControlPlane({ cache, report: (m) => report(`build: ${m}`) });
  const state: TestbedState = {
    dir: opts.dir,
    cache,
    createdAt: new Date().toISOString(),
    clusters: [],
    processes: [],
  };
  mkdirSync(join(opts.dir, 'logs'), { recursive: true });
  const launcher = new Launcher(state, report);
  const onSignal = () => {
    report('interrupted: stopping what was started');
    void launcher.abort().finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const etcdClient = await freePort();
    const etcdPeer = await freePort();
    const etcdUrl = `http://127.0.0.1:${etcdClient}`;
    const etcd = launcher.start(null, 'etcd', etcdClient, manifest.binaries.etcd.version, [
      binaryPath('etcd', cache),
      '--name=testbed',
      `--data-dir=${join(opts.dir, 'etcd')}`,
      `--listen-client-urls=${etcdUrl}`,
      `--advertise-client-urls=${etcdUrl}`,
      `--listen-peer-urls=http://127.0.0.1:${etcdPeer}`,
      `--initial-advertise-peer-urls=http://127.0.0.1:${etcdPeer}`,
      `--initial-cluster=testbed=http://127.0.0.1:${etcdPeer}`,
      '--unsafe-no-fsync=true', // a throwaway store: durability costs seconds per seed and buys nothing
      '--quota-backend-bytes=8589934592',
      '--log-level=warn',
    ]);
    await launcher.waitFor(etcd, 'etcd', 30_000, async () => {
      const res = await fetch(`${etcdUrl}/health`);
      return res.ok;
    });

    // One etcd, one key prefix per cluster: the clusters share nothing else.
    const clusters = await Promise.all(
      opts.clusters.map(async (name, i) => {
        const pki = createClusterPki(join(opts.dir, 'pki', name), name);
        const apiPort = await freePort();
        const server = `https://127.0.0.1:${apiPort}`;
        const kubeconfig = join(opts.dir, `${name}.kubeconfig`);
        writeFileSync(
          kubeconfig,
          kubeconfigYaml({ cluster: name, server, caPem: pki.ca.certPem, user: `${name}-admin`, client: pki.admin }),
          { mode: 0o600 },
        );
        const kcmKubeconfig = join(pki.dir, 'kube-controller-manager.kubeconfig');
        writeFileSync(
          kcmKubeconfig,
          kubeconfigYaml({
            cluster: name,
            server,
            caPem: pki.ca.certPem,
            user: 'system:kube-controller-manager',
            client: pki.controllerManager,
          }),
          { mode: 0o600 },
        );
        const rec: ClusterRecord = {
          name,
          apiPort,
          server,
          kubeconfig,
          etcdPrefix: `/fedmesh-testbed/${name}`,
          serviceCidr: `10.${96 + i}.0.0/16`,
        };
        return { rec, pki, kcmKubeconfig, index: i };
      }),
    );
    state.clusters = clusters.map((c) => c.rec);
    writeState(state);

    const apiservers = clusters.map((c) =>
      launcher.start(c.rec.name, 'kube-apiserver', c.rec.apiPort, manifest.binaries['kube-apiserver'].version, [
        binaryPath('kube-apiserver', cache),
        `--etcd-servers=${etcdUrl}`,
        `--etcd-prefix=${c.rec.etcdPrefix}`,
        // etcd is shared: let only the first cluster compact it, so the others do not race on its key.
        ...(c.index === 0 ? [] : ['--etcd-compaction-interval=0']),
        '--bind-address=127.0.0.1',
        '--advertise-address=127.0.0.1',
        `--secure-port=${c.rec.apiPort}`,
        `--cert-dir=${join(c.pki.dir, 'generated')}`,
        `--tls-cert-file=${c.pki.apiserverCert}`,
        `--tls-private-key-file=${c.pki.apiserverKey}`,
        `--client-ca-file=${c.pki.caCert}`,
        '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
        `--service-account-key-file=${c.pki.saPublicKey}`,
        `--service-account-signing-key-file=${c.pki.saPrivateKey}`,
        `--service-cluster-ip-range=${c.rec.serviceCidr}`,
        '--authorization-mode=Node,RBAC',
        '--allow-privileged=true',
        // The loopback advertise address is refused by the endpoint reconciler; nothing needs it here.
        '--endpoint-reconciler-type=none',
        `--requestheader-client-ca-file=${c.pki.frontProxyCaCert}`,
        `--requestheader-allowed-names=${frontProxyClientName}`,
        '--requestheader-username-headers=X-Remote-User',
        '--requestheader-group-headers=X-Remote-Group',
        '--requestheader-uid-headers=X-Remote-Uid',
        '--requestheader-extra-headers-prefix=X-Remote-Extra-',
        `--proxy-client-cert-file=${c.pki.frontProxyClientCert}`,
        `--proxy-client-key-file=${c.pki.frontProxyClientKey}`,
        // APIServices and webhooks reach host processes through ExternalName Services to 127.0.0.1.
        '--enable-aggregator-routing=false',
        '--profiling=false',
        // `{cluster}` in an extra flag is the cluster's name: one audit log per cluster, for instance.
        ...(opts.apiserverArgs ?? []).map((a) => a.replaceAll('{cluster}', c.rec.name)),
      ]),
    );
    const readyTimeout = opts.readyTimeoutMs ?? 120_000;
    const clients = await Promise.all(
      clusters.map(async (c, i) => {
        const client = await KubeRestClient.fromKubeconfigFile(c.rec.kubeconfig, 4);
        const apiserver = apiservers[i];
        if (!apiserver) throw new Error('unreachable');
        await launcher.waitFor(apiserver, `kube-apiserver of ${c.rec.name}`, readyTimeout, async () => {
          const res = await client.request<string>('GET', '/readyz', { accept: 'text/plain', timeoutMs: 5000 });
          return res.statusCode === 200;
        });
        return client;
      }),
    );

    const kcms = clusters.map((c) =>
      launcher.start(
        c.rec.name,
        'kube-controller-manager',
        null,
        manifest.binaries['kube-controller-manager'].version,
        [
          binaryPath('kube-controller-manager', cache),
          `--kubeconfig=${c.kcmKubeconfig}`,
          '--leader-elect=false',
          '--bind-address=127.0.0.1',
          '--secure-port=0',
          // Each controller acts as its own service account, as in a real cluster.
          '--use-service-account-credentials=true',
          `--service-account-private-key-file=${c.pki.saPrivateKey}`,
          `--root-ca-file=${c.pki.caCert}`,
          `--cluster-signing-cert-file=${c.pki.caCert}`,
          `--cluster-signing-key-file=${c.pki.caKey}`,
          `--service-cluster-ip-range=${c.rec.serviceCidr}`,
          // No kubelet renews node leases here: node lifecycle would mark every node NotReady and evict pods.
          '--controllers=*,-node-lifecycle-controller',
          '--kube-api-qps=500',
          '--kube-api-burst=1000',
          '--concurrent-service-endpoint-syncs=10',
        ],
      ),
    );
    const sims = clusters.map((c) =>
      launcher.start(c.rec.name, 'kubelet-sim', null, `v${packageVersion()}`, [
        process.execPath,
        fedmeshBin,
        'testbed',
        'kubelet-sim',
        `--kubeconfig=${c.rec.kubeconfig}`,
      ]),
    );
    await Promise.all(
      clusters.map(async (c, i) => {
        const client = clients[i];
        const kcm = kcms[i];
        const sim = sims[i];
        if (!client || !kcm || !sim) throw new Error('unreachable');
        // The service-account controller of kube-controller-manager creates default/default: proof that it runs.
        await launcher.waitFor(kcm, `kube-controller-manager of ${c.rec.name}`, readyTimeout, async () => {
          try {
            await client.get('/api/v1/namespaces/default/serviceaccounts/default');
            return true;
          } catch (err) {
            if (isStatus(err, 404)) return false;
            throw err;
          }
        });
        launcher.checkAlive(sim, `kubelet-sim of ${c.rec.name}`);
        client.close();
      }),
    );
    return state;
  } catch (err) {
    await launcher.abort();
    throw err;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

function packageVersion(): string {
  return (JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { version: string }).version;
}

/**
 * Starts a long-running process of the testbed (detached, output in .testbed/logs/) and records it in the
 * state at once, so that `down` stops it whatever happens next. Other parts (fedmesh's own processes) use
 * this too.
 */
export function launchProcess(
  state: TestbedState,
  p: {
    cluster: string | null;
    component: Component;
    port: number | null;
    version: string;
    argv: string[];
    env?: NodeJS.ProcessEnv;
  },
): Started {
  mkdirSync(join(state.dir, 'logs'), { recursive: true });
  const log = join(state.dir, 'logs', `${p.cluster ?? 'shared'}-${p.component}.log`);
  const s = startDetached(p.argv, log, p.env);
  state.processes.push({
    cluster: p.cluster,
    component: p.component,
    pid: s.pid,
    port: p.port,
    version: p.version,
    argv: p.argv,
    log,
    startedAt: new Date().toISOString(),
  });
  writeState(state);
  return s;
}

/** Starts processes into the state, and knows how to tell a dead one from a slow one. */
class Launcher {
  constructor(
    private readonly state: TestbedState,
    private readonly report: (msg: string) => void,
  ) {}

  start(cluster: string | null, component: Component, port: number | null, version: string, argv: string[]): Started {
    return launchProcess(this.state, { cluster, component, port, version, argv });
  }

  private recordOf(s: Started): ProcessRecord | undefined {
    return this.state.processes.find((p) => p.pid === s.pid);
  }

  checkAlive(s: Started, what: string): void {
    if (s.exitCode !== undefined) {
      const rec = this.recordOf(s);
      const log = rec ? relative(process.cwd(), rec.log) : '(no log)';
      throw new TestbedError(
        `${what} exited with code ${s.exitCode} while the testbed was starting. Last lines of ${log}:\n${rec ? logTail(rec.log) : ''}`,
      );
    }
  }

  /** Polls `probe` until it says yes; fails at once if the process died, or after `timeoutMs`. */
  async waitFor(s: Started, what: string, timeoutMs: number, probe: () => Promise<boolean>): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let lastError = '';
    for (;;) {
      this.checkAlive(s, what);
      try {
        if (await probe()) return;
      } catch (err) {
        lastError = err instanceof Error ? err.message : String(err);
      }
      if (Date.now() > deadline) {
        const rec = this.recordOf(s);
        throw new TestbedError(
          `${what} was not ready after ${Math.round(timeoutMs / 1000)}s${lastError ? ` (last error: ${lastError})` : ''}. ` +
            `Last lines of its log:\n${rec ? logTail(rec.log) : ''}`,
        );
      }
      await sleep(250);
    }
  }

  async abort(): Promise<void> {
    const procs = [...this.state.processes].reverse();
    await Promise.all(procs.map((p) => stopProcess(p, 5000)));
    this.state.processes = [];
    this.report(`stopped ${procs.length} processes; logs kept in ${join(this.state.dir, 'logs')}`);
    await down({ dir: this.state.dir, report: () => {}, keepLogs: true });
  }
}

/** Stops every process of the testbed in `dir` (newest first) and removes its state. */
export async function down(opts: { dir: string; report?: (msg: string) => void; keepLogs?: boolean }): Promise<number> {
  const report = opts.report ?? ((m: string) => console.error(`[testbed] ${m}`));
  const state = readState(opts.dir);
  const procs = state ? [...state.processes].reverse() : [];
  // Clients first, then the servers they talk to, etcd last.
  const order: Component[] = [
    'fedmesh-agent',
    'netns-relay',
    'fedmesh-webhooks',
    'fedmesh-server',
    'kubelet-sim',
    'kube-controller-manager',
    'kube-apiserver',
    'etcd',
  ];
  let stopped = 0;
  for (const component of order) {
    const batch = procs.filter((p) => p.component === component && isRunning(p));
    await Promise.all(batch.map((p) => stopProcess(p)));
    stopped += batch.length;
  }
  // The network namespaces go by a name derived from the directory: found even without a state file.
  const namespaces = await removeNetns(opts.dir);
  if (namespaces > 0) report(`removed ${namespaces} network namespaces`);
  for (const entry of ['state.json', 'state.json.tmp', 'pki', 'etcd', 'netns', ...(opts.keepLogs ? [] : ['logs'])]) {
    rmSync(join(opts.dir, entry), { recursive: true, force: true });
  }
  for (const c of state?.clusters ?? []) rmSync(c.kubeconfig, { force: true });
  if (!opts.keepLogs) {
    try {
      rmdirSync(opts.dir);
    } catch {
      // not empty: something else lives there; leave it
    }
  }
  if (state) report(`stopped ${stopped} processes and removed the testbed state in ${opts.dir}`);
  else report(`no testbed in ${opts.dir}`);
  return stopped;
}
