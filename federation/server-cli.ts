import { KubeConfig } from '@kubernetes/client-node';
import { Registry } from 'prom-client';
import { formatFlagHelp, parseFlags } from '../core/cli/parse-flags.js';
import { UsageError } from '../core/cli/usage-error.js';
import { dns1123LabelError } from '../core/kube/names.js';
import { createLogger, errorMessage, isLogLevel } from '../core/log/logger.js';
import { parseBindAddress, startHealthServer } from '../core/metrics/health-server.js';
import { startFederation } from './runtime.js';

const command = 'server';

const flags = {
  'cluster-name': {
    type: 'string',
    value: 'NAME',
    description: 'name of the local cluster in the mesh (chart value cluster.name)',
  },
  kubeconfig: {
    type: 'string',
    value: 'FILE',
    description: 'kubeconfig of the local cluster (default: in-cluster config)',
  },
  'metrics-bind-address': {
    type: 'string',
    value: 'HOST:PORT',
    description: '/metrics, /healthz and /readyz over HTTP (default 127.0.0.1:9464; port 0 picks one)',
  },
  'log-level': { type: 'string', value: 'LEVEL', description: 'debug, info (default), warn or error' },
} as const;

function usage(): string {
  return [
    'usage: fedmesh server --cluster-name NAME [--kubeconfig FILE] [flags]',
    '',
    'Runs the mesh cache: watches the local cluster and every cluster of a RemoteClusterConfiguration,',
    'and keeps each RCC status current. (The aggregated API and the webhooks join this process later.)',
    '',
    'flags:',
    formatFlagHelp(flags),
  ].join('\n');
}

export async function serverMain(argv: string[]): Promise<number> {
  const p = parseFlags(command, argv, flags);
  if (p.help) {
    console.log(usage());
    return 0;
  }
  const clusterName = p.flags['cluster-name'];
  if (!clusterName) throw new UsageError('--cluster-name is required', command);
  const nameError = dns1123LabelError(clusterName);
  if (nameError)
    throw new UsageError(`--cluster-name "${clusterName}" is not a DNS-1123 label: it ${nameError}`, command);
  const level = p.flags['log-level'] ?? 'info';
  if (!isLogLevel(level))
    throw new UsageError(`--log-level must be debug, info, warn or error, not "${level}"`, command);
  const bind = parseBindAddress(p.flags['metrics-bind-address'] ?? '127.0.0.1:9464');
  if (!bind) throw new UsageError('--metrics-bind-address must be HOST:PORT', command);

  const log = createLogger('fedmesh-server', level).child({ localCluster: clusterName });
  const kc = new KubeConfig();
  try {
    if (p.flags.kubeconfig) kc.loadFromFile(p.flags.kubeconfig);
    else kc.loadFromCluster();
  } catch (err) {
    log.error({ err: errorMessage(err) }, 'cannot load the local kubeconfig');
    return 1;
  }
  const registry = new Registry();
  const federation = await startFederation({ localKubeConfig: kc, clusterName, log, registry });
  const health = await startHealthServer({
    ...bind,
    registry,
    ready: () => ({ ok: federation.isReady(), detail: federation.isReady() ? 'ok' : 'mesh cache not synced yet' }),
  });
  log.info({ metricsPort: health.port }, 'fedmesh server started');

  await new Promise<void>((resolve) => {
    process.once('SIGTERM', resolve);
    process.once('SIGINT', resolve);
  });
  log.info('stopping');
  await Promise.race([
    Promise.all([federation.stop(), health.close()]),
    new Promise((r) => setTimeout(r, 5000).unref()),
  ]);
  return 0;
}
