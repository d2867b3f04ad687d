import { readFileSync } from 'node:fs';
import { KubeConfig } from '@kubernetes/client-node';
import yaml from 'js-yaml';
import { formatFlagHelp, parseFlags } from '../core/cli/parse-flags.js';
import { UsageError } from '../core/cli/usage-error.js';
import { dns1123LabelError } from '../core/kube/names.js';
import { KubeApiError, KubeRestClient } from '../core/kube/rest-client.js';
import { errorMessage } from '../core/log/logger.js';
import { type ExplainEndpoint, explainPolicy, type PolicyExplanation } from '../core/policy/explain.js';
import {
  compileFederatedNetworkPolicy,
  compileNetworkPolicy,
  type FederatedNetworkPolicy,
  FNP_API_VERSION,
  FNP_KIND,
  formatDiagnostic,
  type NetworkPolicyObject,
  type PolicyCompilation,
} from '../core/policy/index.js';
import { policyShapeErrors } from '../webhooks/index.js';
import { formatExplanation } from './policy-explain-format.js';

const command = 'policy explain';

const flags = {
  filename: {
    type: 'string',
    short: 'f',
    value: 'FILE',
    description: 'the policy (YAML or JSON, several documents allowed; - reads stdin)',
  },
  'cluster-name': {
    type: 'string',
    value: 'NAME',
    description: 'name of the local cluster in the mesh (as given to fedmesh server)',
  },
  namespace: {
    type: 'string',
    short: 'n',
    value: 'NS',
    description: "namespace for a policy without one (default: the context's, else default)",
  },
  kubeconfig: { type: 'string', value: 'FILE', description: 'kubeconfig (default: $KUBECONFIG, else ~/.kube/config)' },
  context: { type: 'string', value: 'NAME', description: 'kubeconfig context (default: the current one)' },
  output: { type: 'string', short: 'o', value: 'FORMAT', description: 'text (default) or json' },
} as const;

function usage(): string {
  return [
    'usage: fedmesh policy explain -f FILE --cluster-name NAME [--kubeconfig FILE] [--context NAME] [-o json]',
    '',
    'Dry-runs a NetworkPolicy or FederatedNetworkPolicy against the mesh as it is now: the local endpoints it',
    'applies to, the local and remote endpoints each rule takes in (read through the federation API), and for',
    'each endpoint the rule that decides. Nothing is applied.',
    '',
    'flags:',
    formatFlagHelp(flags),
  ].join('\n');
}

export async function policyMain(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === 'explain') return explainMain(rest);
  if (sub === undefined || sub === '--help' || sub === '-h') {
    console.log(usage());
    return sub === undefined ? 2 : 0;
  }
  throw new UsageError(`unknown subcommand "${sub}" (the one there is: explain)`, 'policy');
}

interface Item {
  readonly metadata?: { readonly name?: string; readonly namespace?: string; readonly labels?: Record<string, string> };
}

async function listAll<T extends Item>(client: KubeRestClient, path: string): Promise<T[]> {
  const out: T[] = [];
  let cont = '';
  do {
    const page = await client.get<{ items?: T[]; metadata?: { continue?: string } }>(
      `${path}?limit=500${cont ? `&continue=${encodeURIComponent(cont)}` : ''}`,
    );
    out.push(...(page.items ?? []));
    cont = page.metadata?.continue ?? '';
  } while (cont !== '');
  return out;
}

async function explainMain(argv: string[]): Promise<number> {
  const p = parseFlags(command, argv, flags);
  if (p.help) {
    console.log(usage());
    return 0;
  }
  const f = p.flags;
  if (!f.filename) throw new UsageError('-f FILE is required', command);
  const clusterName = f['cluster-name'];
  if (!clusterName) throw new UsageError("--cluster-name is required (this cluster's name in the mesh)", command);
  const nameError = dns1123LabelError(clusterName);
  if (nameError)
    throw new UsageError(`--cluster-name "${clusterName}" is not a DNS-1123 label: it ${nameError}`, command);
  const output = f.output ?? 'text';
  if (output !== 'text' && output !== 'json') throw new UsageError(`-o must be text or json, not "${output}"`, command);

  let docs: unknown[];
  try {
    const text = readFileSync(f.filename === '-' ? 0 : f.filename, 'utf8');
    docs = yaml.loadAll(text).filter((d) => d !== null && d !== undefined);
  } catch (err) {
    console.error(`fedmesh ${command}: cannot read ${f.filename}: ${errorMessage(err)}`);
    return 1;
  }
  // A policy without a namespace goes to -n, else the kubeconfig context's namespace (read without connecting).
  const namespace = f.namespace ?? contextNamespace(f.kubeconfig, f.context) ?? 'default';
  const compiled: PolicyCompilation[] = [];
  for (const [i, doc] of docs.entries()) {
    const d = doc as { apiVersion?: unknown; kind?: unknown; metadata?: { namespace?: string } };
    const withNs = { ...(doc as object), metadata: { ...d.metadata, namespace: d.metadata?.namespace ?? namespace } };
    const kind = d.kind === 'NetworkPolicy' || d.kind === FNP_KIND ? d.kind : undefined;
    const shape = kind === undefined ? [] : policyShapeErrors(kind, withNs);
    if (shape.length > 0) {
      for (const e of shape) console.error(`error: document ${i + 1}: ${formatDiagnostic(e)}`);
      return 1;
    }
    if (d.apiVersion === 'networking.k8s.io/v1' && d.kind === 'NetworkPolicy') {
      compiled.push(compileNetworkPolicy(withNs as NetworkPolicyObject, { localCluster: clusterName }));
    } else if (d.apiVersion === FNP_API_VERSION && d.kind === FNP_KIND) {
      compiled.push(compileFederatedNetworkPolicy(withNs as FederatedNetworkPolicy, { localCluster: clusterName }));
    } else {
      console.error(
        `fedmesh ${command}: document ${i + 1} of ${f.filename} is ${String(d.apiVersion)} ${String(d.kind)}, not a networking.k8s.io/v1 NetworkPolicy or ${FNP_API_VERSION} ${FNP_KIND}`,
      );
      return 1;
    }
  }
  let failed = false;
  for (const c of compiled) {
    for (const w of c.warnings) console.error(`Warning: ${formatDiagnostic(w)}`);
    for (const e of c.errors) console.error(`error: ${formatDiagnostic(e)}`);
    if (c.errors.length > 0 || c.policy === null) failed = true;
  }
  if (failed) return 1;

  const kc = new KubeConfig();
  try {
    if (f.kubeconfig) kc.loadFromFile(f.kubeconfig);
    else kc.loadFromDefault();
    if (f.context) kc.setCurrentContext(f.context);
    if (!kc.getCurrentCluster()) throw new Error(`context "${kc.getCurrentContext()}" has no cluster`);
  } catch (err) {
    console.error(`fedmesh ${command}: kubeconfig: ${errorMessage(err)}`);
    return 1;
  }

  const client = await KubeRestClient.fromKubeConfig(kc, 4);
  let explanations: PolicyExplanation[];
  try {
    const [pods, namespaces, remote] = await Promise.all([
      listAll<PodItem>(client, '/api/v1/pods'),
      listAll<Item>(client, '/api/v1/namespaces'),
      listAll<RemoteWorkloadItem>(client, '/apis/federation.fedmesh.io/v1alpha1/remoteworkloads').catch(
        (err: unknown) => {
          throw new Error(
            `the federation API (federation.fedmesh.io/v1alpha1 remoteworkloads) cannot be read, so remote endpoints are unknown: ${errorMessage(err)}`,
          );
        },
      ),
    ]);
    const endpoints: ExplainEndpoint[] = [
      ...pods
        .filter((pod) => pod.status?.phase !== 'Succeeded' && pod.status?.phase !== 'Failed')
        .map((pod) => ({
          cluster: clusterName,
          namespace: pod.metadata?.namespace ?? '',
          name: pod.metadata?.name ?? '',
          labels: pod.metadata?.labels ?? {},
          ips: (pod.status?.podIPs ?? []).map((x) => x.ip),
        })),
      ...remote.map((w) => ({
        cluster: w.spec?.cluster ?? '',
        namespace: w.metadata?.namespace ?? '',
        name: w.spec?.podName ?? w.metadata?.name ?? '',
        labels: w.metadata?.labels ?? {},
        ips: w.spec?.ips ?? [],
      })),
    ];
    const nsLabels = new Map(namespaces.map((n) => [n.metadata?.name ?? '', n.metadata?.labels ?? {}]));
    const mesh = {
      localCluster: clusterName,
      remoteNamespaceLabels: false,
      namespaceLabels: (cluster: string, ns: string) => (cluster === clusterName ? nsLabels.get(ns) : undefined),
    };
    explanations = compiled.map((c) => explainPolicy(c.policy!, endpoints, mesh));
  } catch (err) {
    console.error(
      `fedmesh ${command}: ${err instanceof KubeApiError || err instanceof Error ? err.message : String(err)}`,
    );
    return 1;
  } finally {
    client.close();
  }
  console.log(
    output === 'json' ? JSON.stringify(explanations, null, 2) : explanations.map(formatExplanation).join('\n\n'),
  );
  return 0;
}

function contextNamespace(file: string | undefined, context: string | undefined): string | undefined {
  try {
    const kc = new KubeConfig();
    if (file) kc.loadFromFile(file);
    else kc.loadFromDefault();
    return kc.getContextObject(context ?? kc.getCurrentContext())?.namespace;
  } catch {
    return undefined; // reported when the kubeconfig is loaded to connect
  }
}

interface PodItem extends Item {
  readonly status?: { readonly phase?: string; readonly podIPs?: readonly { readonly ip: string }[] };
}

interface RemoteWorkloadItem extends Item {
  readonly spec?: { readonly cluster?: string; readonly podName?: string; readonly ips?: string[] };
}
