// The Helm chart (charts/fedmesh) against a real kube-apiserver with the real helm and kubectl: lint, server-side
// dry runs of every certificate mode, the schema refusing bad values, the RBAC being the TypeScript manifests'
// rules, and a full install → helm test → uninstall with a fedmesh server (and, once `fedmesh webhooks` exists in
// cli/main.ts, the webhooks) running on the host for that cluster. The testbed has no kubelet: the Deployments'
// pods stay Pending, and the `helm test` pods are run on the host by test/testbed/test-pods.ts.

import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import yaml from 'js-yaml';
import { registrationManifests } from '../apiserver/index.js';
import { ruleSets } from '../charts/generate/chart-sources.js';
import type { Manifest } from '../core/kube/apply.js';
import { rccCrd } from '../federation/rcc-crd.js';
import { accessKubeconfig, remoteAccessClusterRole } from '../federation/remote-access.js';
import { serverAccessManifests } from '../federation/server-access.js';
import { readManifest } from './testbed/build.js';
import { eventually, repoRoot, startTestbed, type Testbed, type TestCluster } from './testbed/harness.js';
import { freePort, type Started, startDetached, stopProcess } from './testbed/processes.js';
import { type CommandResult, runCommand } from './testbed/run-command.js';
import { runHelmTestPods } from './testbed/test-pods.js';

const chart = join(repoRoot, 'charts', 'fedmesh');
const namespace = 'fedmesh-system';
const fedmeshBin = join(repoRoot, 'bin', 'fedmesh.js');
/** The webhook parts run once `fedmesh webhooks` is registered in the CLI; until then they are left out. */
const webhooksBuilt = /^\s*webhooks: \{/m.test(readFileSync(join(repoRoot, 'cli', 'main.ts'), 'utf8'));

let tb: Testbed;
let east: TestCluster;
const hostProcesses: { started: Started; argv: string[] }[] = [];

function helm(args: readonly string[]): Promise<CommandResult> {
  const home = join(tb.dir, 'helm');
  return runCommand(tb.helmPath, args, {
    env: {
      ...process.env,
      KUBECONFIG: east.kubeconfig,
      KUBECACHEDIR: join(home, 'kube-cache'), // not kubectl's: helm would cache discovery from before the API is up
      HELM_CACHE_HOME: join(home, 'cache'),
      HELM_CONFIG_HOME: join(home, 'config'),
      HELM_DATA_HOME: join(home, 'data'),
    },
  });
}
async function helmOk(args: readonly string[]): Promise<string> {
  const r = await helm(args);
  assert.equal(r.code, 0, `helm ${args.join(' ')}:\n${r.stderr}${r.stdout.slice(0, 2000)}`);
  return r.stdout;
}
/**
 * `helm VERB fedmesh charts/fedmesh -n fedmesh-system --set cluster.name=east EXTRA…`. `helm template` is told the
 * testbed's Kubernetes version: without a cluster, a helm built from source assumes 1.20 (below the chart's
 * kubeVersion); `helm install` asks the cluster.
 */
const release = (verb: 'template' | 'install', ...extra: string[]) => [
  verb,
  'fedmesh',
  chart,
  '-n',
  namespace,
  '--set',
  'cluster.name=east',
  ...(verb === 'template' ? ['--kube-version', kubernetesVersion()] : []),
  ...extra,
];
const kubernetesVersion = () => readManifest(tb.state.cache)?.versions.kubernetes ?? 'unknown';
const docs = (text: string) => (yaml.loadAll(text) as (Manifest | null)[]).filter((d): d is Manifest => !!d);
const find = (objs: readonly Manifest[], kind: string, name: string) => {
  const o = objs.find((d) => d.kind === kind && d.metadata.name === name);
  assert.ok(o, `the chart renders ${kind} ${name}`);
  return o;
};

before(async () => {
  tb = await startTestbed({ name: 'chart', clusters: ['east'] });
  // kubectl caches discovery per host:port for hours; another testbed that had this port would leave stale kinds.
  process.env.KUBECACHEDIR = join(tb.dir, 'kubectl-cache');
  east = tb.cluster('east');
  await east.kubectlOk(['create', 'namespace', namespace]);
});
after(async () => {
  for (const p of hostProcesses) await stopProcess({ pid: p.started.pid, argv: p.argv });
  await tb?.down();
});

describe('the fedmesh Helm chart', () => {
  test('helm lint is clean with every ci values file', async () => {
    const ci = readdirSync(join(chart, 'ci')).filter((f) => f.endsWith('.yaml'));
    assert.ok(ci.length >= 2);
    for (const f of ci) {
      const out = await helmOk(['lint', chart, '--strict', '-f', join(chart, 'ci', f)]);
      assert.match(out, /1 chart\(s\) linted, 0 chart\(s\) failed/);
      assert.doesNotMatch(out, /\[(WARNING|ERROR)\]/, out);
    }
  });

  test('cluster.name is required, and ServiceMonitors need their API, with messages that say what to set', async () => {
    const r = await helm(['template', 'fedmesh', chart, '-n', namespace, '--kube-version', kubernetesVersion()]);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /cluster\.name is required: the name of this cluster in the mesh/);
    const monitors = await helm(release('template', '--set', 'metrics.serviceMonitor.enabled=true'));
    assert.notEqual(monitors.code, 0);
    assert.match(monitors.stderr, /metrics\.serviceMonitor\.enabled needs the Prometheus Operator/);
  });

  test('the chart carries the same RBAC rules as the TypeScript manifests', async () => {
    const objs = docs(await helmOk(release('template')));
    const server = serverAccessManifests(namespace);
    const tsRules = (kind: string) => server.find((m) => m.kind === kind)?.rules;
    assert.deepEqual(find(objs, 'ClusterRole', 'fedmesh:server').rules, tsRules('ClusterRole'));
    assert.deepEqual(find(objs, 'Role', 'fedmesh:server').rules, tsRules('Role'));
    assert.deepEqual(find(objs, 'ClusterRole', 'fedmesh-remote-access').rules, remoteAccessClusterRole().rules);
    const reg = registrationManifests({
      namespace,
      serviceName: 'fedmesh-api',
      port: 443,
      caBundlePem: '',
      serviceAccount: 'fedmesh-server',
    });
    for (const m of reg.filter((x) => x.kind === 'ClusterRole' || x.kind.endsWith('Binding'))) {
      const o = find(objs, m.kind, m.metadata.name);
      if (m.kind === 'ClusterRole') assert.deepEqual(o.rules, m.rules);
      else {
        assert.deepEqual(o.roleRef, m.roleRef);
        assert.deepEqual(o.subjects, m.subjects);
        assert.equal(o.metadata.namespace, m.metadata.namespace);
      }
    }
    // The webhooks' and the agent's rules, from the definitions chart generation reads for them.
    const sets = ruleSets();
    assert.deepEqual(find(objs, 'ClusterRole', 'fedmesh:webhooks').rules, sets.webhooksCluster);
    assert.deepEqual(find(objs, 'Role', 'fedmesh:webhooks').rules, sets.webhooksNamespace);
    assert.deepEqual(find(objs, 'ClusterRole', 'fedmesh:agent').rules, sets.agentCluster);
    // Bindings give the rules to the ServiceAccount the Deployment runs as.
    const subjects = find(objs, 'ClusterRoleBinding', 'fedmesh:server').subjects;
    assert.deepEqual(subjects, [{ kind: 'ServiceAccount', name: 'fedmesh-server', namespace }]);
    const pod = (find(objs, 'Deployment', 'fedmesh-server').spec as { template: { spec: Record<string, unknown> } })
      .template.spec;
    assert.equal(pod.serviceAccountName, 'fedmesh-server');
  });

  test('the workloads: 2 server replicas spread and guarded, probes, resources, projected tokens, an agent with NET_ADMIN only', async () => {
    const objs = docs(await helmOk(release('template')));
    type PodSpec = {
      hostNetwork?: boolean;
      automountServiceAccountToken?: boolean;
      affinity?: { podAntiAffinity?: unknown };
      volumes?: { name: string; projected?: { sources: Record<string, unknown>[] } }[];
      containers: {
        args: string[];
        resources?: { requests?: unknown };
        livenessProbe?: unknown;
        readinessProbe?: unknown;
        securityContext: {
          runAsNonRoot?: boolean;
          privileged?: boolean;
          readOnlyRootFilesystem?: boolean;
          allowPrivilegeEscalation?: boolean;
          capabilities: { add?: string[]; drop: string[] };
        };
      }[];
    };
    const podOf = (kind: string, name: string) =>
      (find(objs, kind, name).spec as { replicas?: number; template: { spec: PodSpec } }).template.spec;
    const server = find(objs, 'Deployment', 'fedmesh-server').spec as { replicas: number };
    assert.equal(server.replicas, 2);
    assert.equal(
      (find(objs, 'PodDisruptionBudget', 'fedmesh-server').spec as { maxUnavailable: number }).maxUnavailable,
      1,
    );
    for (const [kind, name] of [
      ['Deployment', 'fedmesh-server'],
      ['Deployment', 'fedmesh-webhooks'],
      ['DaemonSet', 'fedmesh-agent'],
    ] as const) {
      const pod = podOf(kind, name);
      const c = pod.containers[0];
      assert.ok(c?.livenessProbe && c.readinessProbe && c.resources?.requests, `${name}: probes and resources`);
      assert.ok(c.args.includes('--cluster-name=east'), `${name}: the cluster name`);
      assert.equal(c.securityContext.allowPrivilegeEscalation, false);
      assert.equal(c.securityContext.readOnlyRootFilesystem, true);
      assert.deepEqual(c.securityContext.capabilities.drop, ['ALL']);
      // The token is a projected, expiring one; the ServiceAccount mounts none by default.
      assert.equal(pod.automountServiceAccountToken, false);
      const token = pod.volumes?.find((v) => v.name === 'kube-api-access')?.projected?.sources[0];
      assert.ok(token && 'serviceAccountToken' in token, `${name}: projected token`);
      if (kind === 'Deployment') {
        assert.ok(pod.affinity?.podAntiAffinity, `${name}: replicas spread over nodes`);
        assert.equal(c.securityContext.runAsNonRoot, true);
        assert.equal(c.securityContext.capabilities.add, undefined);
      }
    }
    const agent = podOf('DaemonSet', 'fedmesh-agent');
    assert.equal(agent.hostNetwork, true);
    assert.deepEqual(agent.containers[0]?.securityContext.capabilities.add, ['NET_ADMIN']);
    assert.equal(agent.containers[0]?.securityContext.privileged, false);
    for (const sa of ['fedmesh-server', 'fedmesh-webhooks', 'fedmesh-agent']) {
      assert.equal(find(objs, 'ServiceAccount', sa).automountServiceAccountToken, false);
    }
    const noWebhooks = await helm(release('template', '--set', 'webhooks.enabled=false'));
    assert.match(noWebhooks.stderr, /tests\.webhooks=true checks the webhooks, but webhooks\.enabled=false/);
  });

  test('helm template in each certificate mode passes kubectl apply --dry-run=server', async () => {
    // cert-manager and the Prometheus Operator are not installed in the testbed: their kinds are registered
    // schemaless so that the dry run checks everything else.
    await east.kubectlOk(['apply', '-f', '-'], operatorKindsYaml());
    await eventually(async () => {
      assert.equal((await east.kubectl(['get', 'certificates.cert-manager.io', '-A'])).code, 0);
      assert.equal((await east.kubectl(['get', 'servicemonitors.monitoring.coreos.com', '-A'])).code, 0);
    });
    const modes: Record<string, string[]> = {
      generated: [],
      provided: ['--set', 'tls.mode=provided', '--set-string', 'tls.provided.caBundle=-----BEGIN CERTIFICATE-----'],
      'cert-manager': ['--set', 'tls.mode=cert-manager', '--api-versions', 'cert-manager.io/v1'],
      'generated, with ServiceMonitors': [
        '--set',
        'metrics.serviceMonitor.enabled=true',
        '--api-versions',
        'monitoring.coreos.com/v1',
      ],
    };
    for (const [mode, extra] of Object.entries(modes)) {
      // The test hooks are left out: their Pods name a ServiceAccount that only a real install creates first.
      const rendered = await helmOk(release('template', '--skip-tests', ...extra));
      const out = await east.kubectlOk(['apply', '--dry-run=server', '-f', '-'], rendered);
      assert.match(out, /deployment\.apps\/fedmesh-server created \(server dry run\)/, mode);
      assert.match(out, /apiservice\.apiregistration\.k8s\.io\/v1alpha1\.federation\.fedmesh\.io created/, mode);
      assert.match(out, /validatingwebhookconfiguration\.admissionregistration\.k8s\.io\/fedmesh created/, mode);
      assert.match(out, /daemonset\.apps\/fedmesh-agent created/, mode);
      if (mode.includes('ServiceMonitors'))
        assert.match(out, /servicemonitor\.monitoring\.coreos\.com\/fedmesh-agent created/);
      if (mode === 'cert-manager') assert.match(out, /certificate\.cert-manager\.io\/fedmesh-api created/);
      else
        assert.match(
          out,
          mode.startsWith('generated') ? /secret\/fedmesh-api-tls created/ : /^(?![\s\S]*secret\/fedmesh-api-tls)/,
        );
    }
  });

  test('a value that breaks the schema fails helm install, naming the value; nothing is installed', async () => {
    const bad = async (set: string, want: RegExp) => {
      const r = await helm(release('install', '--set', set));
      assert.notEqual(r.code, 0, set);
      assert.match(r.stderr, /values don't meet the specifications of the schema/, r.stderr);
      assert.match(r.stderr, want, r.stderr);
    };
    await bad('server.replicas=two', /server[./]replicas/);
    await bad('sever.replicas=1', /sever/);
    await bad('tls.mode=self-signed', /tls[./]mode/);
    assert.equal((await helmOk(['list', '-n', namespace, '-q'])).trim(), '');
  });

  test('helm install creates every object, an upgrade keeps the certificates, uninstall removes all but the CRDs', async () => {
    const notes = await helmOk(release('install'));
    assert.match(notes, /fedmesh remote-access --cluster-name OTHER/);
    const manifest = await helmOk(['get', 'manifest', 'fedmesh', '-n', namespace]);
    const objects = docs(manifest);
    const kinds = new Set(objects.map((o) => o.kind));
    for (const k of [
      'Deployment',
      'DaemonSet',
      'PodDisruptionBudget',
      'APIService',
      'ValidatingWebhookConfiguration',
    ]) {
      assert.ok(kinds.has(k), `the release has a ${k}`);
    }
    // Every object of the release exists (kubectl get fails on the first missing one).
    const listed = await east.kubectlOk(['get', '-f', '-', '-o', 'name'], manifest);
    assert.equal(listed.trim().split('\n').length, objects.length);
    await east.kubectlOk(['get', 'crd', rccCrd.metadata.name]);

    // An upgrade keeps the generated CA and certificates (they are looked up, not generated again).
    const caOf = async () => ({
      secret: await east.kubectlOk([
        'get',
        'secret',
        'fedmesh-api-tls',
        '-n',
        namespace,
        '-o',
        'jsonpath={.data.ca\\.crt}',
      ]),
      apiService: await east.kubectlOk([
        'get',
        'apiservice',
        'v1alpha1.federation.fedmesh.io',
        '-o',
        'jsonpath={.spec.caBundle}',
      ]),
    });
    const before = await caOf();
    assert.equal(before.secret, before.apiService);
    await helmOk(['upgrade', 'fedmesh', chart, '-n', namespace, '--reuse-values', '--set', 'logLevel=debug']);
    assert.deepEqual(await caOf(), before);
    await uninstallAndCheck(manifest);
  });

  test('helm test fails with nothing serving, and passes against fedmesh running on the host for the cluster', async () => {
    const apiPort = await freePort();
    const webhooksPort = await freePort();
    const notes = await helmOk(
      release(
        'install',
        '--set',
        'externalProcessHost=127.0.0.1',
        '--set',
        `server.service.port=${apiPort}`,
        '--set',
        `webhooks.service.port=${webhooksPort}`,
        '--set',
        `tests.webhooks=${webhooksBuilt}`,
      ),
    );
    assert.match(notes, /WARNINGS:[\s\S]*externalProcessHost=127\.0\.0\.1/);
    const manifest = await helmOk(['get', 'manifest', 'fedmesh', '-n', namespace]);
    assert.ok(!docs(manifest).some((o) => o.kind === 'Deployment'), 'no Deployment when the processes run outside');

    const files = join(tb.dir, 'chart-host');
    mkdirSync(files, { recursive: true });
    const caPem = await east.kubectlOk([
      'get',
      'cm',
      'kube-root-ca.crt',
      '-n',
      namespace,
      '-o',
      'jsonpath={.data.ca\\.crt}',
    ]);
    const apiServer = new URL(east.server);

    // Before any fedmesh process runs, `helm test` fails: the checks do check.
    const early = await helmTestWithPods(apiServer, caPem);
    assert.notEqual(early.result.code, 0, 'helm test passes with nothing serving the API');
    assert.match(
      early.outputs.get('fedmesh-test-api-served') ?? '',
      /FAIL: GET \/apis\/federation\.fedmesh\.io\/v1alpha1 answered 503/,
    );

    // The server runs as the chart's ServiceAccount, with the certificate the chart generated.
    await startHostProcess(files, 'server', 'fedmesh-server', 'fedmesh-api-tls', caPem, [
      'server',
      '--cluster-name=east',
      `--api-bind-address=127.0.0.1:${apiPort}`,
      '--metrics-bind-address=127.0.0.1:0',
      `--api-service=${namespace}/fedmesh-api`,
      `--leader-election-lease=${namespace}/fedmesh-server`,
    ]);
    if (webhooksBuilt) {
      await startHostProcess(files, 'webhooks', 'fedmesh-webhooks', 'fedmesh-webhooks-tls', caPem, [
        'webhooks',
        '--cluster-name=east',
        `--bind-address=127.0.0.1:${webhooksPort}`,
        '--metrics-bind-address=127.0.0.1:0',
        `--webhook-service=${namespace}/fedmesh-webhooks`,
      ]);
    }
    await eventually(async () => {
      const status = await east.kubectlOk([
        'get',
        'apiservice',
        'v1alpha1.federation.fedmesh.io',
        '-o',
        'jsonpath={.status.conditions[?(@.type=="Available")].status}',
      ]);
      assert.equal(status, 'True');
    }, 60_000);

    const passed = await helmTestWithPods(apiServer, caPem);
    assert.equal(passed.result.code, 0, `${passed.result.stderr}\n${[...passed.outputs.values()].join('\n')}`);
    assert.match(passed.result.stdout, /TEST SUITE:\s+fedmesh-test-api-served[\s\S]*Phase:\s+Succeeded/);
    assert.match(
      passed.outputs.get('fedmesh-test-api-served') ?? '',
      /ok: \/apis\/federation\.fedmesh\.io\/v1alpha1 serves/,
    );
    if (webhooksBuilt) {
      assert.match(passed.outputs.get('fedmesh-test-webhooks-answer') ?? '', /ok: the webhooks refused the bad policy/);
    }
    await uninstallAndCheck(manifest);
  });
});

async function uninstallAndCheck(manifest: string): Promise<void> {
  await helmOk(['uninstall', 'fedmesh', '-n', namespace, '--wait', '--timeout', '60s']);
  const gone = await east.kubectl(['get', '-f', '-', '-o', 'name', '--ignore-not-found'], manifest);
  assert.equal(gone.code, 0, gone.stderr);
  assert.equal(gone.stdout.trim(), '', `left after uninstall:\n${gone.stdout}`);
  // Helm keeps the CRDs (and with them every RemoteClusterConfiguration).
  await east.kubectlOk(['get', 'crd', rccCrd.metadata.name]);
  // The test hooks deleted themselves after passing.
  assert.equal(
    (
      await east.kubectlOk([
        'get',
        'pods,serviceaccounts',
        '-n',
        namespace,
        '-l',
        'app.kubernetes.io/component=test',
        '-o',
        'name',
      ])
    ).trim(),
    '',
  );
}

/** `helm test` while the host runs its pods; the pods' outputs by name. */
async function helmTestWithPods(apiServer: URL, caPem: string) {
  const stop = new AbortController();
  const pods = runHelmTestPods(
    east.client,
    namespace,
    { host: apiServer.hostname, port: apiServer.port },
    caPem,
    stop.signal,
  );
  try {
    const result = await helm(['test', 'fedmesh', '-n', namespace, '--timeout', '90s']);
    stop.abort();
    return { result, outputs: await pods };
  } finally {
    stop.abort();
    await pods.catch(() => undefined);
  }
}

/** Starts a fedmesh process on the host as the chart's ServiceAccount, serving the certificate of `tlsSecret`. */
async function startHostProcess(
  dir: string,
  name: string,
  serviceAccount: string,
  tlsSecret: string,
  caPem: string,
  args: string[],
): Promise<void> {
  const token = (await east.kubectlOk(['create', 'token', serviceAccount, '-n', namespace, '--duration=1h'])).trim();
  const kubeconfig = join(dir, `${name}.kubeconfig`);
  writeFileSync(
    kubeconfig,
    accessKubeconfig({ clusterName: 'east', server: east.server, caPem, token, user: serviceAccount }),
    { mode: 0o600 },
  );
  const secret = JSON.parse(await east.kubectlOk(['get', 'secret', tlsSecret, '-n', namespace, '-o', 'json'])) as {
    data: Record<string, string>;
  };
  const cert = join(dir, `${name}.crt`);
  const key = join(dir, `${name}.key`);
  writeFileSync(cert, Buffer.from(secret.data['tls.crt'] ?? '', 'base64'));
  writeFileSync(key, Buffer.from(secret.data['tls.key'] ?? '', 'base64'), { mode: 0o600 });
  const argv = [
    process.execPath,
    fedmeshBin,
    ...args,
    `--kubeconfig=${kubeconfig}`,
    `--tls-cert-file=${cert}`,
    `--tls-private-key-file=${key}`,
  ];
  hostProcesses.push({ started: startDetached(argv, join(dir, `${name}.log`)), argv });
}

/** cert-manager's and the Prometheus Operator's kinds, schemaless: the dry runs check everything else. */
function operatorKindsYaml(): string {
  const crd = (group: string, kind: string, plural: string) => ({
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `${plural}.${group}` },
    spec: {
      group,
      scope: 'Namespaced',
      names: { kind, plural, singular: kind.toLowerCase(), listKind: `${kind}List` },
      versions: [
        {
          name: 'v1',
          served: true,
          storage: true,
          schema: { openAPIV3Schema: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } },
        },
      ],
    },
  });
  return [
    crd('cert-manager.io', 'Certificate', 'certificates'),
    crd('cert-manager.io', 'Issuer', 'issuers'),
    crd('monitoring.coreos.com', 'ServiceMonitor', 'servicemonitors'),
  ]
    .map((d) => yaml.dump(d))
    .join('---\n');
}
