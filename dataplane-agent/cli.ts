import { KubeConfig } from '@kubernetes/client-node';
import { Registry } from 'prom-client';
import { bindAddressFlag, clusterNameFlag, logLevelFlag } from '../core/cli/common-flags.js';
import { formatFlagHelp, parseFlags } from '../core/cli/parse-flags.js';
import { UsageError } from '../core/cli/usage-error.js';
import { KubeRestClient } from '../core/kube/rest-client.js';
import { createLogger, errorMessage } from '../core/log/logger.js';
import { HealthChecks } from '../core/metrics/health-checks.js';
import { startHealthServer } from '../core/metrics/health-server.js';
import { Agent } from './agent.js';

const command = 'agent';

export const agentFlags = {
  'node-name': {
    type: 'string',
    value: 'NAME',
    description: 'the Node this agent runs on (required; in a pod: spec.nodeName)',
  },
  'cluster-name': {
    type: 'string',
    value: 'NAME',
    description: 'name of the local cluster in the mesh (required; chart value cluster.name)',
  },
  kubeconfig: {
    type: 'string',
    value: 'FILE',
    description:
      'kubeconfig of the local cluster (default: in-cluster config); remote workloads and nodes are read through it from the federation API',
  },
  'vxlan-device': { type: 'string', value: 'NAME', description: 'name of the VXLAN device (default fedmesh.vxlan)' },
  'vxlan-vni': { type: 'string', value: 'N', description: 'VXLAN network identifier, 1-16777215 (default 4097)' },
  'vxlan-port': { type: 'string', value: 'PORT', description: 'UDP port of the VXLAN tunnels (default 4789)' },
  'vxlan-mtu': { type: 'string', value: 'BYTES', description: 'MTU of the VXLAN device (default 1450: 1500 - 50)' },
  'underlay-interface': {
    type: 'string',
    value: 'NAME',
    description: "interface the tunnels run over (default: the interface holding the node's InternalIP)",
  },
  'nft-transaction-dir': {
    type: 'string',
    value: 'DIR',
    description:
      'writable directory where each full nftables transaction is written before nft reads it, so that an agent dying mid-write never commits part of one; a tmpfs keeps it in memory (default: the OS temporary directory, $TMPDIR or /tmp)',
  },
  'metrics-bind-address': {
    type: 'string',
    value: 'HOST:PORT',
    description: '/metrics, /healthz and /readyz over HTTP (default 127.0.0.1:9466; port 0 picks one)',
  },
  'log-level': { type: 'string', value: 'LEVEL', description: 'debug, info (default), warn or error' },
} as const;

function usage(): string {
  return [
    'usage: fedmesh agent --node-name NAME --cluster-name NAME [--kubeconfig FILE] [flags]',
    '',
    "The node agent: a VXLAN overlay to the pod CIDRs of remote clusters' nodes (RemoteClusterConfiguration",
    'overlayRoutingMode: Enabled), and NetworkPolicy and FederatedNetworkPolicy enforcement in nftables (table',
    "inet fedmesh) for this node's pods, with local and remote peers. Publishes the node's VXLAN tunnel endpoint",
    'as the Node annotations fedmesh.io/vtep-ip and fedmesh.io/vtep-mac. Needs root (CAP_NET_ADMIN).',
    'Stopping it leaves every rule and route in place: policy stays enforced while it restarts.',
    '',
    'flags:',
    formatFlagHelp(agentFlags),
  ].join('\n');
}

function intFlag(name: string, text: string | undefined, fallback: number, min: number, max: number): number {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!/^\d+$/.test(text) || n < min || n > max) {
    throw new UsageError(`--${name} must be an integer from ${min} to ${max}, not "${text}"`, command);
  }
  return n;
}

export async function agentMain(argv: string[]): Promise<number> {
  const p = parseFlags(command, argv, agentFlags);
  if (p.help) {
    console.log(usage());
    return 0;
  }
  const f = p.flags;
  const nodeName = f['node-name'];
  if (!nodeName) throw new UsageError('--node-name is required', command);
  const clusterName = clusterNameFlag(f['cluster-name'], command);
  const level = logLevelFlag(f['log-level'], command);
  const bind = bindAddressFlag('metrics-bind-address', f['metrics-bind-address'], '127.0.0.1:9466', command);
  const device = f['vxlan-device'] ?? 'fedmesh.vxlan';
  // Linux interface names: at most 15 bytes, no '/', whitespace or ':' (ip would refuse it later, less clearly).
  if (!/^[A-Za-z0-9_.-]{1,15}$/.test(device)) {
    throw new UsageError(`--vxlan-device must be 1-15 letters, digits, '.', '_' or '-', not "${device}"`, command);
  }
  const underlay = f['underlay-interface'];
  if (underlay !== undefined && !/^[A-Za-z0-9_.@-]{1,15}$/.test(underlay)) {
    throw new UsageError(`--underlay-interface "${underlay}" is not an interface name`, command);
  }
  const vxlan = {
    device,
    vni: intFlag('vxlan-vni', f['vxlan-vni'], 4097, 1, 16_777_215),
    port: intFlag('vxlan-port', f['vxlan-port'], 4789, 1, 65_535),
    mtu: intFlag('vxlan-mtu', f['vxlan-mtu'], 1450, 576, 65_535),
  };

  const log = createLogger('fedmesh-agent', level).child({ cluster: clusterName, node: nodeName });
  const kc = new KubeConfig();
  try {
    if (f.kubeconfig) kc.loadFromFile(f.kubeconfig);
    else kc.loadFromCluster();
  } catch (err) {
    log.error({ err: errorMessage(err) }, 'cannot load the kubeconfig');
    return 1;
  }
  const registry = new Registry();
  const agent = new Agent({
    client: await KubeRestClient.fromKubeConfig(kc, 16),
    nodeName,
    clusterName,
    vxlan,
    ...(underlay ? { underlayInterface: underlay } : {}),
    ...(f['nft-transaction-dir'] ? { nftTransactionDir: f['nft-transaction-dir'] } : {}),
    log,
    registry,
  });
  const health = await startHealthServer({
    ...bind,
    registry,
    log,
    checks: new HealthChecks().addReadiness('dataplane-programmed', () =>
      agent.ready ? undefined : 'not every source listed and programmed yet',
    ),
  });
  const stop = new Promise<void>((resolve) => {
    process.once('SIGTERM', resolve);
    process.once('SIGINT', resolve);
  });
  try {
    await Promise.race([agent.start(), stop]);
  } catch (err) {
    log.error({ err: errorMessage(err) }, 'cannot start');
    await health.close();
    return 1;
  }
  log.info({ metricsPort: health.port, ...vxlan }, 'fedmesh agent started');
  await stop;
  log.info('stopping; the kernel keeps its rules and routes');
  await Promise.race([Promise.all([agent.stop(), health.close()]), new Promise((r) => setTimeout(r, 5000).unref())]);
  return 0;
}
