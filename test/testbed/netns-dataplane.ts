// `fedmesh testbed up --netns` and the dataplane e2e: the testbed's nodes and pods become network namespaces
// (netns.ts), and a `fedmesh agent` runs inside each node's namespace as the agent's own ServiceAccount. An agent
// reaches its kube-apiserver through a relay (relay.ts): inside the namespace on 127.0.0.1:<the apiserver's
// port>, on the host through a UNIX socket, so that no packet leaves the testbed's namespaces and loopback.

import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { applyManifest } from '../../core/kube/apply.js';
import { KubeRestClient } from '../../core/kube/rest-client.js';
import { readServiceAccountToken } from '../../core/kube/service-account-token.js';
import { agentAccessManifests, agentServiceAccount, agentTokenSecret } from '../../dataplane-agent/access.js';
import { rccPath } from '../../federation/rcc-spec.js';
import { accessKubeconfig } from '../../federation/remote-access.js';
import { createNetns, type NetnsLayout, type NetnsNode, type NodeSpec, type PodSpec } from './netns.js';
import { isRunning, logTail, startDetached, stopProcess } from './processes.js';
import type { Scenario } from './scenario.js';
import { type ProcessRecord, type TestbedState, writeState } from './state.js';
import { TestbedError } from './up.js';

const repoRoot = join(fileURLToPath(import.meta.url), '..', '..', '..', '..');
const fedmeshBin = join(repoRoot, 'bin', 'fedmesh.js');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const agentNamespace = 'fedmesh-system';
/** The agent's metrics port inside each node namespace (every namespace has its own loopback). */
export const agentMetricsPort = 9466;

/**
 * The scenario part that makes a cluster's address plan fit one shared underlay: cluster i gets pod network
 * 10.(244+i).0.0/16 and node addresses in 172.18.i.0/24 (the underlay is one /16).
 */
export function netnsAddressPlan(clusterIndex: number): Pick<Scenario, 'podCIDR' | 'nodeCIDR'> {
  return { podCIDR: `10.${244 + clusterIndex}.0.0/16`, nodeCIDR: `172.18.${clusterIndex}.0/24` };
}

/** What `testbed up --netns` seeds in cluster i: two nodes, two pods on each. */
export function defaultNetnsScenario(clusterIndex: number): Scenario {
  return {
    ...netnsAddressPlan(clusterIndex),
    namespaces: [{ name: 'demo', labels: { team: 'demo' } }],
    nodes: [{ name: 'node', count: 2 }],
    pods: [
      { namespace: 'demo', name: 'client', node: 'node-0', labels: { app: 'client' } },
      { namespace: 'demo', name: 'server', node: 'node-0', labels: { app: 'server' } },
      { namespace: 'demo', name: 'other', node: 'node-1', labels: { app: 'other' } },
      { namespace: 'demo', name: 'web', node: 'node-1', labels: { app: 'web' } },
    ],
  };
}

interface NodeList {
  items: {
    metadata: { name: string };
    spec?: { podCIDR?: string; podCIDRs?: string[] };
    status?: { addresses?: { type: string; address: string }[] };
  }[];
}
interface PodList {
  items: {
    metadata: { name: string; namespace: string };
    spec?: { nodeName?: string; hostNetwork?: boolean };
    status?: { podIP?: string };
  }[];
}

/**
 * Reads the nodes and pods of every cluster, as a CNI plugin learns them from the kubelet: every node with an
 * InternalIP, or only those named in `only` (`CLUSTER/NODE`), and the pods on them.
 */
async function readTopology(
  state: TestbedState,
  only?: ReadonlySet<string>,
): Promise<{ nodes: NodeSpec[]; pods: PodSpec[] }> {
  const nodes: NodeSpec[] = [];
  const pods: PodSpec[] = [];
  const wanted = (cluster: string, node: string) => !only || only.has(`${cluster}/${node}`);
  for (const c of state.clusters) {
    const client = await KubeRestClient.fromKubeconfigFile(c.kubeconfig, 2);
    try {
      const nl = await client.get<NodeList>('/api/v1/nodes');
      for (const n of nl.items) {
        const ip = n.status?.addresses?.find((a) => a.type === 'InternalIP')?.address;
        if (!ip || !wanted(c.name, n.metadata.name)) continue;
        const podCIDRs = n.spec?.podCIDRs ?? (n.spec?.podCIDR ? [n.spec.podCIDR] : []);
        nodes.push({ cluster: c.name, name: n.metadata.name, underlayIP: ip, podCIDRs });
      }
      const pl = await client.get<PodList>('/api/v1/pods');
      for (const p of pl.items) {
        if (!p.spec?.nodeName || p.spec.hostNetwork || !p.status?.podIP || !wanted(c.name, p.spec.nodeName)) continue;
        pods.push({
          cluster: c.name,
          namespace: p.metadata.namespace,
          name: p.metadata.name,
          node: p.spec.nodeName,
          ip: p.status.podIP,
        });
      }
    } finally {
      client.close();
    }
  }
  if (only) {
    const missing = [...only].filter((k) => !nodes.some((n) => `${n.cluster}/${n.name}` === k));
    if (missing.length > 0) {
      throw new TestbedError(`no node with an InternalIP named ${missing.join(', ')} (give nodes as CLUSTER/NODE)`);
    }
  }
  return { nodes, pods };
}

/** Starts a process inside a network namespace and records it (the recorded argv is what runs after the exec). */
function launchInNetns(
  state: TestbedState,
  netns: string,
  p: { cluster: string; component: 'netns-relay' | 'fedmesh-agent'; tag: string; argv: string[] },
): ProcessRecord {
  const log = join(state.dir, 'logs', `${p.cluster}-${p.component}-${p.tag}.log`);
  const s = startDetached(['ip', 'netns', 'exec', netns, ...p.argv], log);
  const rec: ProcessRecord = {
    cluster: p.cluster,
    component: p.component,
    pid: s.pid,
    port: null,
    version: 'dev',
    argv: p.argv,
    log,
    startedAt: new Date().toISOString(),
  };
  state.processes.push(rec);
  writeState(state);
  return rec;
}

export interface NetnsDataplane {
  readonly layout: NetnsLayout;
  /** The agent command line of each node, by node namespace. */
  readonly agentArgv: ReadonlyMap<string, string[]>;
}

/**
 * Builds the namespaces from the clusters' nodes and pods (every node, or those in `opts.nodes` as `CLUSTER/NODE`),
 * gives the agent its ServiceAccount and RBAC in every cluster, enables overlay routing on every
 * RemoteClusterConfiguration, and starts a relay and an agent per node. Returns once every agent has programmed
 * its node.
 */
export async function startNetnsDataplane(
  state: TestbedState,
  report: (msg: string) => void,
  opts: { readyTimeoutMs?: number; nodes?: readonly string[] } = {},
): Promise<NetnsDataplane> {
  const topology = await readTopology(state, opts.nodes ? new Set(opts.nodes) : undefined);
  const layout = await createNetns(state.dir, topology.nodes, topology.pods);
  report(`created ${layout.nodes.length} node and ${layout.pods.length} pod network namespaces (${layout.prefix}*)`);
  const socketDir = join(state.dir, 'netns');
  mkdirSync(socketDir, { recursive: true });
  const agentArgv = new Map<string, string[]>();
  // The clusters are independent: their access objects and processes are set up at once.
  await Promise.all(
    state.clusters.map(async (c) => {
      const nodes = layout.nodes.filter((x) => x.cluster === c.name);
      const client = await KubeRestClient.fromKubeconfigFile(c.kubeconfig, 4);
      try {
        for (const m of agentAccessManifests(agentNamespace, { tokenSecret: true })) await applyManifest(client, m);
        const rccs = await client.get<{ items: { metadata: { name: string } }[] }>(rccPath);
        await Promise.all(
          rccs.items.map((r) =>
            client.mergePatch(`${rccPath}/${r.metadata.name}`, { spec: { overlayRoutingMode: 'Enabled' } }),
          ),
        );
        const identity = await readServiceAccountToken(client, agentNamespace, agentTokenSecret);
        const kubeconfig = join(socketDir, `${c.name}-agent.kubeconfig`);
        writeFileSync(
          kubeconfig,
          accessKubeconfig({ clusterName: c.name, server: c.server, ...identity, user: agentServiceAccount }),
          { mode: 0o600 },
        );
        // A cluster without namespaced nodes (`opts.nodes`) still gets the access and the overlay, but no relay.
        if (nodes.length === 0) return;
        const socket = join(socketDir, `${c.name}.sock`);
        launchHostRelay(state, c.name, [
          process.execPath,
          fedmeshBin,
          'testbed',
          'relay',
          `--listen=unix:${socket}`,
          `--connect=tcp:127.0.0.1:${c.apiPort}`,
        ]);
        for (const n of nodes) {
          launchInNetns(state, n.netns, {
            cluster: c.name,
            component: 'netns-relay',
            tag: n.name,
            argv: [
              process.execPath,
              fedmeshBin,
              'testbed',
              'relay',
              `--listen=tcp:127.0.0.1:${c.apiPort}`,
              `--connect=unix:${socket}`,
            ],
          });
          const argv = [
            process.execPath,
            fedmeshBin,
            'agent',
            `--node-name=${n.name}`,
            `--cluster-name=${c.name}`,
            `--kubeconfig=${kubeconfig}`,
            `--metrics-bind-address=127.0.0.1:${agentMetricsPort}`,
          ];
          agentArgv.set(n.netns, argv);
          launchInNetns(state, n.netns, { cluster: n.cluster, component: 'fedmesh-agent', tag: n.name, argv });
        }
      } finally {
        client.close();
      }
    }),
  );
  const dp = { layout, agentArgv };
  await Promise.all(layout.nodes.map((n) => waitForAgent(state, n, opts.readyTimeoutMs ?? 90_000)));
  report(`${layout.nodes.length} agents programmed their nodes`);
  return dp;
}

function launchHostRelay(state: TestbedState, cluster: string, argv: string[]): ProcessRecord {
  const log = join(state.dir, 'logs', `${cluster}-netns-relay-host.log`);
  const s = startDetached(argv, log);
  const rec: ProcessRecord = {
    cluster,
    component: 'netns-relay',
    pid: s.pid,
    port: null,
    version: 'dev',
    argv,
    log,
    startedAt: new Date().toISOString(),
  };
  state.processes.push(rec);
  writeState(state);
  return rec;
}

function agentRecord(state: TestbedState, node: NetnsNode): ProcessRecord | undefined {
  return state.processes.find(
    (p) => p.component === 'fedmesh-agent' && p.cluster === node.cluster && p.argv.includes(`--node-name=${node.name}`),
  );
}

/**
 * Waits until the agent's /readyz inside its namespace says ready. One prober process polls it from inside the
 * namespace (a process per poll would cost a Node.js start each time on a loaded machine); meanwhile the agent's
 * own process is watched, so that an agent that exits fails at once with its log.
 */
export async function waitForAgent(state: TestbedState, node: NetnsNode, timeoutMs: number): Promise<void> {
  const probe = `const end = Date.now() + Number(process.argv[1]);
const poll = () => fetch('http://127.0.0.1:${agentMetricsPort}/readyz', { signal: AbortSignal.timeout(2000) })
  .then((r) => r.ok, () => false)
  .then((ok) => (ok ? process.exit(0) : Date.now() > end ? process.exit(1) : setTimeout(poll, 100)));
poll();`;
  const prober = spawn('ip', ['netns', 'exec', node.netns, process.execPath, '-e', probe, String(timeoutMs)], {
    stdio: 'ignore',
  });
  const exited = new Promise<number | null>((resolve) => {
    prober.on('close', (code) => resolve(code));
    prober.on('error', () => resolve(null));
  });
  let code: number | null | undefined;
  void exited.then((c) => {
    code = c;
  });
  try {
    while (code === undefined) {
      const rec = agentRecord(state, node);
      if (rec && !isRunning(rec) && Date.now() - Date.parse(rec.startedAt) > 2000) {
        throw new TestbedError(
          `the agent of ${node.cluster}/${node.name} exited. Last lines of its log:\n${logTail(rec.log)}`,
        );
      }
      await Promise.race([exited, sleep(300)]);
    }
  } finally {
    if (code === undefined) prober.kill('SIGKILL');
  }
  if (code !== 0) {
    const rec = agentRecord(state, node);
    throw new TestbedError(
      `the agent of ${node.cluster}/${node.name} is not ready after ${timeoutMs / 1000}s. Last lines of its log:\n${rec ? logTail(rec.log) : ''}`,
    );
  }
}

/** Stops a node's agent (SIGTERM, as a DaemonSet rollout would), leaving the kernel state it programmed. */
export async function stopAgent(state: TestbedState, node: NetnsNode): Promise<void> {
  const rec = agentRecord(state, node);
  if (!rec) return;
  await stopProcess(rec);
  state.processes = state.processes.filter((p) => p !== rec);
  writeState(state);
}

/** Starts a node's agent again with the same command line; resolves once it is ready (unless told not to wait). */
export async function startAgentAgain(
  state: TestbedState,
  dp: NetnsDataplane,
  node: NetnsNode,
  opts: { readonly waitReady?: boolean } = {},
): Promise<void> {
  const argv = dp.agentArgv.get(node.netns);
  if (!argv) throw new Error(`no agent command line for ${node.netns}`);
  launchInNetns(state, node.netns, { cluster: node.cluster, component: 'fedmesh-agent', tag: node.name, argv });
  if (opts.waitReady ?? true) await waitForAgent(state, node, 60_000);
}
