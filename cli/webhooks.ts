import { KubeConfig } from '@kubernetes/client-node';
import { Registry } from 'prom-client';
import { servingDnsNames } from '../apiserver/index.js';
import { bindAddressFlag, clusterNameFlag, commonFlagSpecs, logLevelFlag } from '../core/cli/common-flags.js';
import { parseDuration } from '../core/cli/duration.js';
import { formatFlagHelp, parseFlags } from '../core/cli/parse-flags.js';
import { UsageError } from '../core/cli/usage-error.js';
import { KubeRestClient } from '../core/kube/rest-client.js';
import { createLogger, errorMessage } from '../core/log/logger.js';
import { HealthChecks } from '../core/metrics/health-checks.js';
import { startHealthServer } from '../core/metrics/health-server.js';
import { type CertificateSource, defaultWebhookConfigurationName, startWebhooks } from '../webhooks/index.js';

const command = 'webhooks';

const flags = {
  'cluster-name': commonFlagSpecs['cluster-name'],
  kubeconfig: commonFlagSpecs.kubeconfig,
  'bind-address': {
    type: 'string',
    value: 'HOST:PORT',
    description: 'the webhooks over HTTPS, paths /validate/<resource> (default 0.0.0.0:9443; port 0 picks one)',
  },
  'tls-cert-file': {
    type: 'string',
    value: 'FILE',
    description: 'serving certificate (PEM; with --tls-private-key-file), e.g. from cert-manager; re-read on change',
  },
  'tls-private-key-file': { type: 'string', value: 'FILE', description: 'its private key (PEM)' },
  'cert-dir': {
    type: 'string',
    value: 'DIR',
    description:
      'without --tls-cert-file: generate a CA and the serving certificate here (reused after a restart), rotate both before they expire and keep the caBundle of --webhook-configuration in sync',
  },
  'cert-validity': {
    type: 'string',
    value: 'DURATION',
    description:
      'with --cert-dir: lifetime of a generated serving certificate (default 8760h); renewed with a third left',
  },
  'ca-validity': {
    type: 'string',
    value: 'DURATION',
    description: 'with --cert-dir: lifetime of a generated CA (default 87600h); rotated with half of it left',
  },
  'webhook-service': {
    type: 'string',
    value: 'NAMESPACE/NAME',
    description:
      "the webhooks' Service, for the certificate's DNS names; its namespace is where fedmesh server reads access Secrets (default fedmesh-system/fedmesh-webhooks)",
  },
  'webhook-configuration': {
    type: 'string',
    value: 'NAME',
    description: `the ValidatingWebhookConfiguration whose caBundle is kept in sync with generated certificates (default ${defaultWebhookConfigurationName})`,
  },
  'metrics-bind-address': {
    type: 'string',
    value: 'HOST:PORT',
    description: '/metrics, /healthz and /readyz over HTTP (default 127.0.0.1:9465; port 0 picks one)',
  },
  'log-level': commonFlagSpecs['log-level'],
} as const;

function usage(): string {
  return [
    'usage: fedmesh webhooks --cluster-name NAME [--kubeconfig FILE] [flags]',
    '',
    'Serves the validating admission webhooks for NetworkPolicies, FederatedNetworkPolicies,',
    'RemoteClusterConfigurations and federated Services (AdmissionReview v1 over HTTPS).',
    'The webhook configuration to register comes from webhookConfigurationManifest (webhooks/configuration.ts).',
    '',
    'flags:',
    formatFlagHelp(flags),
  ].join('\n');
}

function duration(name: string, text: string | undefined, fallback: string): number {
  const ms = parseDuration(text ?? fallback);
  if (ms === undefined || ms < 1000) {
    throw new UsageError(`--${name} must be a duration of at least 1s such as 720h or 90s, not "${text}"`, command);
  }
  return ms;
}

export async function webhooksMain(argv: string[]): Promise<number> {
  const p = parseFlags(command, argv, flags);
  if (p.help) {
    console.log(usage());
    return 0;
  }
  const f = p.flags;
  const clusterName = clusterNameFlag(f['cluster-name'], command);
  const level = logLevelFlag(f['log-level'], command);
  const bind = bindAddressFlag('bind-address', f['bind-address'], '0.0.0.0:9443', command);
  const metricsBind = bindAddressFlag('metrics-bind-address', f['metrics-bind-address'], '127.0.0.1:9465', command);
  const [namespace, service, ...extra] = (f['webhook-service'] ?? 'fedmesh-system/fedmesh-webhooks').split('/');
  if (!namespace || !service || extra.length > 0)
    throw new UsageError('--webhook-service must be NAMESPACE/NAME', command);
  const configuration = f['webhook-configuration'] ?? defaultWebhookConfigurationName;

  let certificates: CertificateSource;
  if (f['tls-cert-file'] || f['tls-private-key-file']) {
    if (!f['tls-cert-file'] || !f['tls-private-key-file']) {
      throw new UsageError('--tls-cert-file and --tls-private-key-file go together: give both', command);
    }
    if (f['cert-dir'])
      throw new UsageError('--cert-dir generates certificates: give it or the files, not both', command);
    certificates = { kind: 'files', certFile: f['tls-cert-file'], keyFile: f['tls-private-key-file'] };
  } else if (f['cert-dir']) {
    const certValidityMs = duration('cert-validity', f['cert-validity'], '8760h');
    const caValidityMs = duration('ca-validity', f['ca-validity'], '87600h');
    if (caValidityMs < certValidityMs)
      throw new UsageError('--ca-validity must not be shorter than --cert-validity', command);
    certificates = {
      kind: 'generated',
      dir: f['cert-dir'],
      dnsNames: servingDnsNames(service, namespace),
      ipAddresses: ['127.0.0.1'],
      certValidityMs,
      caValidityMs,
    };
  } else {
    throw new UsageError('give --tls-cert-file and --tls-private-key-file, or --cert-dir to generate them', command);
  }

  const log = createLogger('fedmesh-webhooks', level).child({ localCluster: clusterName });
  const kc = new KubeConfig();
  try {
    if (f.kubeconfig) kc.loadFromFile(f.kubeconfig);
    else kc.loadFromCluster();
  } catch (err) {
    log.error({ err: errorMessage(err) }, 'cannot load the local kubeconfig');
    return 1;
  }
  const registry = new Registry();
  let webhooks: Awaited<ReturnType<typeof startWebhooks>>;
  try {
    webhooks = await startWebhooks({
      client: await KubeRestClient.fromKubeConfig(kc, 8),
      localCluster: clusterName,
      namespace,
      webhookConfiguration: configuration,
      host: bind.host,
      port: bind.port,
      certificates,
      log,
      registry,
    });
  } catch (err) {
    log.error({ err: errorMessage(err) }, 'cannot start the webhooks');
    return 1;
  }
  const health = await startHealthServer({
    ...metricsBind,
    registry,
    log,
    checks: new HealthChecks().addReadiness('rcc-informer-synced', () =>
      webhooks.isReady() ? undefined : 'RemoteClusterConfigurations not listed yet',
    ),
  });
  log.info(
    { port: webhooks.server.port, metricsPort: health.port, certificates: certificates.kind },
    'fedmesh webhooks started',
  );
  await new Promise<void>((resolve) => {
    process.once('SIGTERM', resolve);
    process.once('SIGINT', resolve);
  });
  log.info('stopping');
  await Promise.race([Promise.all([webhooks.stop(), health.close()]), new Promise((r) => setTimeout(r, 5000).unref())]);
  return 0;
}
