import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { KubeConfig } from '@kubernetes/client-node';
import { Gauge, Registry } from 'prom-client';
import { type ApiLimits, loadOrCreateServingCert, servingDnsNames, startFederationApi } from '../apiserver/index.js';
import { bindAddressFlag, clusterNameFlag, commonFlagSpecs, logLevelFlag } from '../core/cli/common-flags.js';
import { parseDuration } from '../core/cli/duration.js';
import { formatFlagHelp, type ParsedFlags, parseFlags } from '../core/cli/parse-flags.js';
import { UsageError } from '../core/cli/usage-error.js';
import { LeaderElector, leaderElectionTimingProblem } from '../core/kube/leader-election.js';
import { KubeRestClient } from '../core/kube/rest-client.js';
import { createLogger, errorMessage } from '../core/log/logger.js';
import { HealthChecks } from '../core/metrics/health-checks.js';
import { startHealthServer } from '../core/metrics/health-server.js';
import {
  DEFAULT_MAX_EXPORTS_PER_CLUSTER,
  FederatedServicesController,
  ServiceImportController,
  startFederation,
} from '../federation/index.js';

function packageVersion(): string {
  const pkg = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'package.json'); // from dist/cli/
  return (JSON.parse(readFileSync(pkg, 'utf8')) as { version: string }).version;
}

const command = 'server';

const flags = {
  'cluster-name': commonFlagSpecs['cluster-name'],
  kubeconfig: commonFlagSpecs.kubeconfig,
  'metrics-bind-address': {
    type: 'string',
    value: 'HOST:PORT',
    description: '/metrics, /healthz and /readyz over HTTP (default 127.0.0.1:9464; port 0 picks one)',
  },
  'log-level': commonFlagSpecs['log-level'],
  'api-bind-address': {
    type: 'string',
    value: 'HOST:PORT',
    description: 'the aggregated API (HTTPS) for federation.fedmesh.io (default 0.0.0.0:8443; port 0 picks one)',
  },
  'tls-cert-file': {
    type: 'string',
    value: 'FILE',
    description: 'serving certificate of the API (PEM; with --tls-private-key-file)',
  },
  'tls-private-key-file': { type: 'string', value: 'FILE', description: 'its private key (PEM)' },
  'cert-dir': {
    type: 'string',
    value: 'DIR',
    description:
      'without --tls-cert-file: generate the serving certificate and its CA here once (ca.crt, tls.crt, tls.key)',
  },
  'api-service': {
    type: 'string',
    value: 'NAMESPACE/NAME',
    description: 'the Service the APIService points to, for the certificate names (default fedmesh-system/fedmesh-api)',
  },
  'leader-elect': {
    type: 'string',
    value: 'true|false',
    description:
      'elect one replica to write RCC status and federated EndpointSlices through a Lease (default true); every replica serves the API either way',
  },
  'leader-election-lease': {
    type: 'string',
    value: 'NAMESPACE/NAME',
    description: 'the Lease (default: the --api-service namespace, name fedmesh-server)',
  },
  'leader-election-lease-duration': {
    type: 'string',
    value: 'DURATION',
    description: 'how long followers wait after the last renewal before taking over (default 15s)',
  },
  'leader-election-renew-deadline': {
    type: 'string',
    value: 'DURATION',
    description: 'how long the leader keeps leading without renewing (default 10s; less than the lease duration)',
  },
  'leader-election-retry-period': {
    type: 'string',
    value: 'DURATION',
    description: 'time between tries to take or renew the lease (default 2s; less than the renew deadline)',
  },
  'max-requests-inflight': {
    type: 'string',
    value: 'N',
    description:
      'API requests other than watches served at once before 429 (default 400); probes and system:masters always pass',
  },
  'max-watches': {
    type: 'string',
    value: 'N',
    description: 'open watches of the API in total before new ones get 429 (default 2000)',
  },
  'max-watches-per-user': {
    type: 'string',
    value: 'N',
    description: 'open watches of one user before new ones get 429 (default 500; every agent of a cluster is one user)',
  },
  'max-exports-per-cluster': {
    type: 'string',
    value: 'N',
    description:
      'exports (ServiceExports) of one remote cluster this cluster imports at most (default 1000): past it the oldest are imported and the rest left out, shown by the metric fedmesh_service_imports_left_out and a Warning Event on the RCC',
  },
  'watch-stall-timeout': {
    type: 'string',
    value: 'DURATION',
    description: 'a watch whose client reads nothing for this long while events wait is cut; it re-lists (default 30s)',
  },
} as const;

function usage(): string {
  return [
    'usage: fedmesh server --cluster-name NAME [--kubeconfig FILE] [flags]',
    '',
    'Runs the mesh cache: watches the local cluster and every cluster of a RemoteClusterConfiguration,',
    'keeps each RCC status current, and serves the aggregated API federation.fedmesh.io/v1alpha1',
    '(remoteworkloads, federatedendpoints, remotenodes) from that cache. The leader also writes the',
    'EndpointSlices of federated Services, and ServiceImports for the ServiceExports of every cluster',
    '(multi-cluster services API; docs/federated-services.md).',
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
  const clusterName = clusterNameFlag(p.flags['cluster-name'], command);
  const level = logLevelFlag(p.flags['log-level'], command);
  const bind = bindAddressFlag('metrics-bind-address', p.flags['metrics-bind-address'], '127.0.0.1:9464', command);

  const apiBind = bindAddressFlag('api-bind-address', p.flags['api-bind-address'], '0.0.0.0:8443', command);
  const [svcNamespace, svcName, ...extra] = (p.flags['api-service'] ?? 'fedmesh-system/fedmesh-api').split('/');
  if (!svcNamespace || !svcName || extra.length > 0)
    throw new UsageError('--api-service must be NAMESPACE/NAME', command);
  let serving: ReturnType<typeof loadOrCreateServingCert>;
  try {
    serving = loadOrCreateServingCert({
      ...(p.flags['tls-cert-file'] ? { certFile: p.flags['tls-cert-file'] } : {}),
      ...(p.flags['tls-private-key-file'] ? { keyFile: p.flags['tls-private-key-file'] } : {}),
      ...(p.flags['cert-dir'] ? { certDir: p.flags['cert-dir'] } : {}),
      dnsNames: servingDnsNames(svcName, svcNamespace),
    });
  } catch (err) {
    throw new UsageError(`serving certificate: ${errorMessage(err)}`, command);
  }

  const election = leaderElectionFlags(p.flags, svcNamespace);
  const apiLimits = apiLimitFlags(p.flags);
  const maxExportsPerCluster = positiveIntegerFlag(p.flags, 'max-exports-per-cluster', DEFAULT_MAX_EXPORTS_PER_CLUSTER);

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
  let elector: LeaderElector | undefined;
  const federation = await startFederation({
    localKubeConfig: kc,
    clusterName,
    log,
    registry,
    writeStatus: election ? () => elector?.isLeader() === true : true,
  });
  // The leader's controllers: EndpointSlices of federated Services, and the multi-cluster services API.
  const shared = {
    cache: federation.cache,
    meshReady: federation.ready,
    localCluster: clusterName,
    registry,
    mayWrite: election ? () => elector?.isLeader() === true : () => true,
  };
  const services = new FederatedServicesController({
    ...shared,
    client: await KubeRestClient.fromKubeConfig(kc, 16),
    log: log.child({ controller: 'federated-services' }),
    instance: hostname(),
  });
  services.start();
  const imports = new ServiceImportController({
    ...shared,
    maxExportsPerCluster,
    client: await KubeRestClient.fromKubeConfig(kc, 8),
    log: log.child({ controller: 'service-imports' }),
    instance: hostname(),
  });
  imports.start();
  if (election) {
    const leading = new Gauge({
      name: 'fedmesh_leader',
      help: '1 while this replica holds the leader Lease (and writes RCC status, federated EndpointSlices and ServiceImports), else 0',
      labelNames: ['lease'],
      registers: [registry],
    });
    const lease = `${election.namespace}/${election.name}`;
    leading.set({ lease }, 0);
    elector = new LeaderElector({
      client: await KubeRestClient.fromKubeConfig(kc, 2),
      ...election,
      log,
      onStartedLeading: () => {
        leading.set({ lease }, 1);
        federation.resumeStatusWrites();
        services.resume();
        imports.resume();
      },
      onStoppedLeading: () => leading.set({ lease }, 0),
    });
    elector.start();
  }
  const health = await startHealthServer({
    ...bind,
    registry,
    log,
    checks: new HealthChecks().addReadiness('mesh-cache-synced', () =>
      federation.isReady() ? undefined : 'the mesh cache has not completed its first sync',
    ),
  });
  const api = await startFederationApi({
    cache: federation.cache,
    localCluster: clusterName,
    kube: await KubeRestClient.fromKubeConfig(kc, 16),
    host: apiBind.host,
    port: apiBind.port,
    certPem: serving.certPem,
    keyPem: serving.keyPem,
    meshReady: () => federation.isReady(),
    log,
    registry,
    version: `v${packageVersion()}`,
    limits: apiLimits,
  });
  log.info({ metricsPort: health.port, apiPort: api.port, servingCert: serving.source }, 'fedmesh server started');

  await new Promise<void>((resolve) => {
    process.once('SIGTERM', resolve);
    process.once('SIGINT', resolve);
  });
  log.info('stopping');
  await Promise.race([
    Promise.all([elector?.stop(), services.stop(), imports.stop(), api.stop(), federation.stop(), health.close()]),
    new Promise((r) => setTimeout(r, 5000).unref()),
  ]);
  return 0;
}

interface LeaderElectionSettings {
  readonly namespace: string;
  readonly name: string;
  readonly leaseDurationMs: number;
  readonly renewDeadlineMs: number;
  readonly retryPeriodMs: number;
}

/** The leader election flags, checked; undefined with --leader-elect=false. */
function leaderElectionFlags(
  f: ParsedFlags<typeof flags>,
  defaultNamespace: string,
): LeaderElectionSettings | undefined {
  const elect = f['leader-elect'] ?? 'true';
  if (elect !== 'true' && elect !== 'false') {
    throw new UsageError(`--leader-elect must be true or false, not "${elect}"`, command);
  }
  if (elect === 'false') return undefined;
  const [namespace, name, ...extra] = (f['leader-election-lease'] ?? `${defaultNamespace}/fedmesh-server`).split('/');
  if (!namespace || !name || extra.length > 0) {
    throw new UsageError('--leader-election-lease must be NAMESPACE/NAME', command);
  }
  const duration = (flag: keyof typeof flags, fallback: string): number => {
    const text = (f[flag] as string | undefined) ?? fallback;
    const ms = parseDuration(text);
    if (ms === undefined || ms <= 0) {
      throw new UsageError(`--${flag} must be a positive duration such as 15s or 500ms, not "${text}"`, command);
    }
    return ms;
  };
  const settings = {
    namespace,
    name,
    leaseDurationMs: duration('leader-election-lease-duration', '15s'),
    renewDeadlineMs: duration('leader-election-renew-deadline', '10s'),
    retryPeriodMs: duration('leader-election-retry-period', '2s'),
  };
  const problem = leaderElectionTimingProblem(settings);
  if (problem) throw new UsageError(`leader election: ${problem} (--leader-election-* flags)`, command);
  return settings;
}

type CountFlag = 'max-requests-inflight' | 'max-watches' | 'max-watches-per-user' | 'max-exports-per-cluster';

function positiveIntegerFlag(f: ParsedFlags<typeof flags>, flag: CountFlag, fallback: number): number {
  const text = f[flag];
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n < 1)
    throw new UsageError(`--${flag} must be a positive integer, not "${text}"`, command);
  return n;
}

/** The API's protective limits (docs/federation-api.md, Security), checked. */
function apiLimitFlags(f: ParsedFlags<typeof flags>): ApiLimits {
  const count = (flag: CountFlag, fallback: number) => positiveIntegerFlag(f, flag, fallback);
  const stallText = f['watch-stall-timeout'] ?? '30s';
  const stallMs = parseDuration(stallText);
  if (stallMs === undefined || stallMs <= 0) {
    throw new UsageError(`--watch-stall-timeout must be a positive duration such as 30s, not "${stallText}"`, command);
  }
  return {
    maxInFlight: count('max-requests-inflight', 400),
    watchLimits: { maxWatches: count('max-watches', 2000), maxWatchesPerUser: count('max-watches-per-user', 500) },
    watchStallTimeoutMs: stallMs,
  };
}
