import { readFileSync } from 'node:fs';
import { KubeConfig } from '@kubernetes/client-node';
import yaml from 'js-yaml';
import { clusterNameFlag } from '../core/cli/common-flags.js';
import { formatFlagHelp, parseFlags } from '../core/cli/parse-flags.js';
import { UsageError } from '../core/cli/usage-error.js';
import { KubeRestClient } from '../core/kube/rest-client.js';
import {
  accessKubeconfig,
  defaultAccessNamespace,
  localJoinManifests,
  remoteAccessManifests,
  remoteAccessTokenSecret,
} from './remote-access.js';
import { grantRemoteAccess } from './remote-access-grant.js';

const command = 'remote-access';

const flags = {
  'cluster-name': {
    type: 'string',
    value: 'NAME',
    description: 'the name the remote cluster gets in the mesh (the RCC name)',
  },
  kubeconfig: {
    type: 'string',
    value: 'FILE',
    description: 'admin kubeconfig of the remote cluster (its current context)',
  },
  namespace: {
    type: 'string',
    value: 'NS',
    description: `namespace of the ServiceAccount in the remote cluster (default ${defaultAccessNamespace})`,
  },
  'secret-namespace': {
    type: 'string',
    value: 'NS',
    description: `namespace of the Secret in the local cluster (default ${defaultAccessNamespace})`,
  },
  server: {
    type: 'string',
    value: 'URL',
    description: "the remote API server's URL as the local cluster reaches it (default: the kubeconfig's)",
  },
  'overlay-routing-mode': {
    type: 'string',
    value: 'MODE',
    description:
      "Enabled or Disabled: sets spec.overlayRoutingMode in the printed RCC (default: left out, so that applying the output again keeps the RCC's setting; a new RCC gets Disabled)",
  },
  'dry-run': { type: 'boolean', description: 'print what would be created in the remote cluster, create nothing' },
} as const;

function usage(): string {
  return [
    'usage: fedmesh remote-access --cluster-name NAME --kubeconfig REMOTE_KUBECONFIG [flags] > join.yaml',
    '',
    'Grants the mesh read-only access to a remote cluster (ServiceAccount, ClusterRole with list/watch of pods,',
    'nodes, namespaces, services and endpointslices, binding, token), then prints the Secret and the',
    'RemoteClusterConfiguration to apply in the local cluster:  kubectl apply -f join.yaml',
    '',
    'flags:',
    formatFlagHelp(flags),
  ].join('\n');
}

function overlayModeFlag(value: string | undefined): 'Enabled' | 'Disabled' | undefined {
  if (value === undefined || value === 'Enabled' || value === 'Disabled') return value;
  throw new UsageError(`--overlay-routing-mode must be Enabled or Disabled, not "${value}"`, command);
}

const toYaml = (docs: readonly unknown[]) =>
  docs.map((d) => yaml.dump(d, { lineWidth: -1, noRefs: true })).join('---\n');

export async function remoteAccessMain(argv: string[]): Promise<number> {
  const p = parseFlags(command, argv, flags);
  if (p.help) {
    console.log(usage());
    return 0;
  }
  const name = clusterNameFlag(p.flags['cluster-name'], command);
  const kcFile = p.flags.kubeconfig;
  if (!kcFile) throw new UsageError('--kubeconfig is required', command);
  const namespace = p.flags.namespace ?? defaultAccessNamespace;
  const secretNamespace = p.flags['secret-namespace'] ?? defaultAccessNamespace;
  const overlayRoutingMode = overlayModeFlag(p.flags['overlay-routing-mode']);
  const kc = new KubeConfig();
  try {
    kc.loadFromString(readFileSync(kcFile, 'utf8'));
  } catch (err) {
    console.error(`fedmesh ${command}: cannot read kubeconfig ${kcFile}: ${(err as Error).message.split('\n')[0]}`);
    return 1;
  }
  const server = p.flags.server ?? kc.getCurrentCluster()?.server;
  if (!server) {
    console.error(`fedmesh ${command}: the kubeconfig ${kcFile} has no current cluster`);
    return 1;
  }
  if (p.flags['dry-run']) {
    const placeholder = accessKubeconfig({
      clusterName: name,
      server,
      caPem: '<ca.crt of the token secret>',
      token: `<token of secret ${namespace}/${remoteAccessTokenSecret} in the remote cluster>`,
    });
    console.log('# In the remote cluster (dry run: nothing was created):');
    console.log(toYaml(remoteAccessManifests(namespace)));
    console.log('---\n# Then, in the local cluster (the kubeconfig below holds placeholders):');
    console.log(
      toYaml(localJoinManifests({ clusterName: name, kubeconfig: placeholder, secretNamespace, overlayRoutingMode })),
    );
    return 0;
  }
  const client = await KubeRestClient.fromKubeConfig(kc, 4);
  try {
    const access = await grantRemoteAccess(client, { namespace });
    const kubeconfig = accessKubeconfig({ clusterName: name, server, caPem: access.caPem, token: access.token });
    console.error(
      `granted read-only access in ${server} (serviceaccount ${namespace}/fedmesh-remote-access); apply the output in the local cluster`,
    );
    console.log(`# Apply in the local cluster: joins remote cluster "${name}"`);
    console.log(toYaml(localJoinManifests({ clusterName: name, kubeconfig, secretNamespace, overlayRoutingMode })));
    return 0;
  } catch (err) {
    console.error(`fedmesh ${command}: ${(err as Error).message}`);
    return 1;
  } finally {
    client.close();
  }
}
