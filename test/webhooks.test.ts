// The admission webhooks and `fedmesh policy explain` against real kube-apiservers: three clusters deployed with
// `fedmesh testbed deploy` (a fedmesh server and a fedmesh webhooks process each), objects applied with the real
// kubectl, and a certificate rotation under continuous admission traffic.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { servingDnsNames } from '../apiserver/index.js';
import { applyManifest } from '../core/kube/apply.js';
import { KubeApiError } from '../core/kube/rest-client.js';
import type { PolicyExplanation } from '../core/policy/explain.js';
import { prepareGeneratedCertificates, webhookConfigurationManifest } from '../webhooks/index.js';
import { deployFedmesh } from './testbed/deploy.js';
import { webhookConfigurationName, webhooksService } from './testbed/deploy-webhooks.js';
import { eventually, repoRoot, startTestbed, type Testbed } from './testbed/harness.js';
import { freePort, stopProcess } from './testbed/processes.js';
import { runCommand } from './testbed/run-command.js';
import { writeState } from './testbed/state.js';
import { launchProcess } from './testbed/up.js';

let tb: Testbed;
const fedmeshBin = join(repoRoot, 'bin', 'fedmesh.js');

before(async () => {
  tb = await startTestbed({ name: 'webhooks', clusters: ['east', 'west', 'north'] });
  const ns = [
    { name: 'shop', labels: { team: 'shop' } },
    { name: 'ops', labels: { team: 'ops' } },
  ];
  await Promise.all([
    tb.cluster('east').seed({
      namespaces: ns,
      nodes: [{ name: 'e-node', count: 1 }],
      pods: [
        { namespace: 'shop', name: 'web', count: 2, labels: { app: 'web' } },
        { namespace: 'shop', name: 'db', count: 1, labels: { app: 'db' } },
        { namespace: 'shop', name: 'batch', count: 1, labels: { role: 'batch' } },
        { namespace: 'ops', name: 'web', count: 1, labels: { app: 'web' } },
      ],
    }),
    tb.cluster('west').seed({
      namespaces: ns,
      nodes: [{ name: 'w-node', count: 1 }],
      pods: [
        { namespace: 'shop', name: 'web', count: 2, labels: { app: 'web' } },
        { namespace: 'shop', name: 'batch', count: 1, labels: { role: 'batch' } },
        { namespace: 'ops', name: 'web', count: 1, labels: { app: 'web' } },
      ],
    }),
    tb.cluster('north').seed({
      namespaces: ns,
      nodes: [{ name: 'n-node', count: 1 }],
      pods: [
        { namespace: 'shop', name: 'web', count: 1, labels: { app: 'web' } },
        { namespace: 'shop', name: 'batch', count: 1, labels: { role: 'batch' } },
      ],
    }),
  ]);
  await deployFedmesh(tb.state, (m) => console.error(`[deploy] ${m}`));
});
after(async () => {
  await tb?.down();
});

const fnp = (name: string, spec: unknown) => ({
  apiVersion: 'fedmesh.io/v1alpha1',
  kind: 'FederatedNetworkPolicy',
  metadata: { name, namespace: 'shop' },
  spec,
});
const np = (name: string, spec: unknown) => ({
  apiVersion: 'networking.k8s.io/v1',
  kind: 'NetworkPolicy',
  metadata: { name, namespace: 'shop' },
  spec,
});
const rcc = (name: string, secret: { name: string; namespace: string }) => ({
  apiVersion: 'fedmesh.io/v1alpha1',
  kind: 'RemoteClusterConfiguration',
  metadata: { name },
  spec: { clusterAccessSecret: secret },
});
const fedService = (name: string, annotations: Record<string, string>, spec: Record<string, unknown> = {}) => ({
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name, namespace: 'shop', annotations },
  spec: { ports: [{ name: 'http', port: 80 }], ...spec },
});
const sel = 'federation.fedmesh.io/serviceSelector';
const clusterIn = (...values: string[]) => ({
  matchExpressions: [{ key: 'fedmesh.io/cluster', operator: 'In', values }],
});

/** Invalid objects: [object, webhook path, expected text of the denial]. */
const invalid: [unknown, string, string][] = [
  [
    np('np-main-west', { podSelector: { matchLabels: { 'fedmesh.io/cluster': 'west' } } }),
    'networkpolicies',
    '* spec.podSelector: names the cluster "west" in fedmesh.io/cluster, but a policy applies to local endpoints only (this cluster is "east")',
  ],
  [
    np('np-main-two', { podSelector: clusterIn('west', 'north') }),
    'networkpolicies',
    'spec.podSelector: names the clusters "north", "west"',
  ],
  [
    np('np-main-notin', {
      podSelector: { matchExpressions: [{ key: 'fedmesh.io/cluster', operator: 'NotIn', values: ['north'] }] },
    }),
    'networkpolicies',
    'spec.podSelector: names the cluster "north"',
  ],
  [
    np('np-peer-bad', { podSelector: {}, ingress: [{ from: [{ podSelector: clusterIn('West_1') }] }] }),
    'networkpolicies',
    '* spec.ingress[0].from[0].podSelector.matchExpressions[0]: fedmesh.io/cluster names the cluster "West_1", which is not a valid cluster name',
  ],
  [
    np('np-peer-dots', {
      podSelector: {},
      egress: [{ to: [{ podSelector: { matchLabels: { 'fedmesh.io/cluster': 'west.eu' } } }] }],
    }),
    'networkpolicies',
    'spec.egress[0].to[0].podSelector.matchLabels: fedmesh.io/cluster names the cluster "west.eu"',
  ],
  [
    np('np-ns-bad', { podSelector: {}, ingress: [{ from: [{ namespaceSelector: clusterIn('North') }] }] }),
    'networkpolicies',
    'spec.ingress[0].from[0].namespaceSelector.matchExpressions[0]: fedmesh.io/cluster names the cluster "North"',
  ],
  [
    fnp('fnp-syntax', { selector: "app == 'web' &&" }),
    'federatednetworkpolicies',
    "* spec.selector: invalid selector at position 15: expected a label, has(…), all(), global(), '!' or '(', found end of selector\n    app == 'web' &&\n                   ^",
  ],
  [
    fnp('fnp-quote', { ingress: [{ action: 'Allow', source: { selector: "app == 'web" } }] }),
    'federatednetworkpolicies',
    "* spec.ingress[0].source.selector: invalid selector at position 11: expected a closing ' for the string that starts at 7, found end of selector",
  ],
  [
    fnp('fnp-main-west', { selector: "fedmesh.io/cluster == 'west'" }),
    'federatednetworkpolicies',
    'spec.selector: names the cluster "west"',
  ],
  [
    fnp('fnp-ports-noproto', { ingress: [{ action: 'Allow', destination: { ports: [80] } }] }),
    'federatednetworkpolicies',
    'spec.ingress[0].destination.ports: Forbidden: ports need a protocol',
  ],
  [
    fnp('fnp-icmp-ports', { ingress: [{ action: 'Allow', protocol: 'ICMP', destination: { ports: [80] } }] }),
    'federatednetworkpolicies',
    'protocol ICMP has no ports',
  ],
  [
    fnp('fnp-port-zero', { ingress: [{ action: 'Allow', protocol: 'TCP', destination: { ports: [0] } }] }),
    'federatednetworkpolicies',
    'spec.ingress[0].destination.ports[0]: Invalid value: 0: a port must be from 1 to 65535',
  ],
  [
    fnp('fnp-port-range', { ingress: [{ action: 'Allow', protocol: 'TCP', destination: { ports: ['90:80'] } }] }),
    'federatednetworkpolicies',
    'a range is "first:last" with first <= last',
  ],
  [
    fnp('fnp-port-name', { ingress: [{ action: 'Allow', protocol: 'UDP', destination: { ports: ['DNS_PORT'] } }] }),
    'federatednetworkpolicies',
    'spec.ingress[0].destination.ports[0]: Invalid value: "DNS_PORT": not a port number, a range',
  ],
  [
    fnp('fnp-cidr', { egress: [{ action: 'Allow', destination: { nets: ['10.0.0.0/33'] } }] }),
    'federatednetworkpolicies',
    'spec.egress[0].destination.nets[0]: Invalid value: "10.0.0.0/33": the prefix length must be a number from 0 to 32',
  ],
  [
    fnp('fnp-nets-selector', {
      egress: [{ action: 'Allow', destination: { nets: ['10.0.0.0/8'], selector: 'all()' } }],
    }),
    'federatednetworkpolicies',
    'spec.egress[0].destination: Forbidden: a peer selects endpoints (selector, namespaceSelector) or addresses (nets), not both',
  ],
  [
    fnp('fnp-icmp-tcp', { ingress: [{ action: 'Allow', protocol: 'TCP', icmp: { type: 8 } }] }),
    'federatednetworkpolicies',
    'spec.ingress[0].icmp: Forbidden: icmp needs protocol ICMP or ICMPv6',
  ],
  [
    fnp('fnp-proto', { ingress: [{ action: 'Allow', protocol: 'GRE' }] }),
    'federatednetworkpolicies',
    'spec.ingress[0].protocol: Unsupported value: "GRE"',
  ],
  [
    fnp('fnp-own-side', { ingress: [{ action: 'Allow', destination: { selector: "app == 'db'" } }] }),
    'federatednetworkpolicies',
    "spec.ingress[0].destination.selector: Forbidden: the destination of an ingress rule is the policy's own endpoints",
  ],
  [
    fnp('fnp-src-ports', { ingress: [{ action: 'Allow', protocol: 'TCP', source: { ports: [1234] } }] }),
    'federatednetworkpolicies',
    'spec.ingress[0].source.ports: Forbidden: source ports are not supported',
  ],
  [
    fnp('fnp-global', { ingress: [{ action: 'Allow', source: { namespaceSelector: 'global()' } }] }),
    'federatednetworkpolicies',
    'spec.ingress[0].source.namespaceSelector: Forbidden: global()',
  ],
  [
    fnp('fnp-cluster-name', { ingress: [{ action: 'Allow', source: { selector: "fedmesh.io/cluster in {'West'}" } }] }),
    'federatednetworkpolicies',
    'spec.ingress[0].source.selector: fedmesh.io/cluster names the cluster "West", which is not a valid cluster name',
  ],
  [
    fnp('fnp-icmp-code', { ingress: [{ action: 'Allow', protocol: 'ICMP', icmp: { code: 3 } }] }),
    'federatednetworkpolicies',
    'spec.ingress[0].icmp.type: Required value: a code needs its type',
  ],
  [
    fnp('fnp-types-dup', { types: ['Ingress', 'Ingress'] }),
    'federatednetworkpolicies',
    'spec.types[1]: Duplicate value: "Ingress"',
  ],
  [
    rcc('east', { name: 'east-access', namespace: 'fedmesh-system' }),
    'remoteclusterconfigurations',
    `metadata.name: Invalid value: "east": this is the local cluster's own name`,
  ],
  [
    rcc('far', { name: 'Bad_Name', namespace: 'fedmesh-system' }),
    'remoteclusterconfigurations',
    'spec.clusterAccessSecret.name: Invalid value: "Bad_Name": a lowercase RFC 1123 subdomain',
  ],
  [
    rcc('far', { name: 'far-access', namespace: 'Fedmesh' }),
    'remoteclusterconfigurations',
    'spec.clusterAccessSecret.namespace: Invalid value: "Fedmesh": a namespace name must consist of lower case',
  ],
  [
    fedService('svc-syntax', { [sel]: "app == 'web' ||" }),
    'services',
    `* metadata.annotations[${sel}]: invalid selector at position 15`,
  ],
  [
    fedService('svc-selector', { [sel]: "app == 'web'" }, { selector: { app: 'web' } }),
    'services',
    '* spec.selector: Forbidden: a federated Service gets its endpoints from the mesh',
  ],
  [
    fedService('svc-unnamed', { [sel]: "app == 'web'" }, { ports: [{ port: 80 }] }),
    'services',
    '* spec.ports[0].name: Required value: federated Services match ports by name and protocol across clusters',
  ],
  [
    fedService('svc-cluster', { [sel]: "fedmesh.io/cluster == 'West'" }),
    'services',
    'fedmesh.io/cluster names the cluster "West", which is not a valid cluster name',
  ],
  [
    fedService('svc-both', { [sel]: "app == 'a'", 'federation.tigera.io/serviceSelector': "app == 'b'" }),
    'services',
    'metadata.annotations[federation.tigera.io/serviceSelector]: Invalid value: differs from federation.fedmesh.io/serviceSelector',
  ],
];

/** Valid objects: [object, the warnings kubectl must print (empty: none)]. */
const valid: [unknown, string[]][] = [
  [
    np('ok-ipv6-block', {
      podSelector: {},
      ingress: [{ from: [{ ipBlock: { cidr: '10.0.0.0/8' } }, { ipBlock: { cidr: 'fd00::/8' } }] }],
    }),
    [
      'Warning: spec.ingress[0].from[1].ipBlock: fd00::/8 is IPv6, and fedmesh enforces policy for IPv4 only: this matches no traffic, and the IPv6 traffic of the pods this policy selects is dropped',
    ],
  ],
  [
    fnp('ok-clean', {
      selector: "app == 'db'",
      order: 10,
      ingress: [
        {
          action: 'Allow',
          protocol: 'TCP',
          source: { selector: "fedmesh.io/cluster == 'west'" },
          destination: { ports: [5432] },
        },
      ],
    }),
    [],
  ],
  [
    np('ok-notin', {
      podSelector: {},
      ingress: [
        {
          from: [
            { podSelector: { matchExpressions: [{ key: 'fedmesh.io/cluster', operator: 'NotIn', values: ['west'] }] } },
          ],
        },
      ],
    }),
    [
      'Warning: spec.ingress[0].from[0].podSelector.matchExpressions[0]: fedmesh.io/cluster not in "west" selects local endpoints AND the endpoints of every other remote cluster',
    ],
  ],
  [
    np('ok-doesnotexist', {
      podSelector: {},
      ingress: [
        { from: [{ podSelector: { matchExpressions: [{ key: 'fedmesh.io/cluster', operator: 'DoesNotExist' }] } }] },
      ],
    }),
    ['!has(fedmesh.io/cluster) (DoesNotExist) matches no endpoint'],
  ],
  [
    fnp('ok-unknown-cluster', {
      ingress: [{ action: 'Allow', source: { selector: "fedmesh.io/cluster == 'nowhere'" } }],
    }),
    [
      'Warning: spec.ingress[0].source: fedmesh.io/cluster names "nowhere", but no RemoteClusterConfiguration "nowhere" exists',
    ],
  ],
  [
    fnp('ok-hostbits', { egress: [{ action: 'Allow', destination: { nets: ['10.1.2.3/8'] } }] }),
    ['Warning: spec.egress[0].destination.nets[0]: "10.1.2.3/8" has host bits set: it means 10.0.0.0/8'],
  ],
  [
    fnp('ok-never', { types: ['Egress'], ingress: [{ action: 'Allow' }] }),
    ['Warning: spec.ingress: these rules never apply: spec.types does not include Ingress'],
  ],
  [
    rcc('far', { name: 'far-access', namespace: 'fedmesh-system' }),
    ['Warning: spec.clusterAccessSecret: the Secret fedmesh-system/far-access does not exist (yet)'],
  ],
  [
    rcc('farther', { name: 'farther-access', namespace: 'default' }),
    ['fedmesh server reads cluster access Secrets only in its own namespace "fedmesh-system"'],
  ],
  [
    fedService('ok-svc', { [sel]: "app == 'web' && fedmesh.io/cluster in {'west', 'nowhere'}" }),
    ['no RemoteClusterConfiguration "nowhere" exists: no endpoints come from there'],
  ],
];

async function inBatches<T, R>(items: readonly T[], size: number, fn: (t: T) => Promise<R>): Promise<R[]> {
  const out: R[] = [];
  for (let i = 0; i < items.length; i += size) out.push(...(await Promise.all(items.slice(i, i + size).map(fn))));
  return out;
}

describe('admission webhooks', () => {
  test(`kubectl apply: ${invalid.length} invalid objects are denied with their messages`, async () => {
    const east = tb.cluster('east');
    const results = await inBatches(invalid, 8, async ([obj, path, expected]) => ({
      r: await east.kubectl(['apply', '-f', '-'], JSON.stringify(obj)),
      path,
      expected,
      name: (obj as { metadata: { name: string } }).metadata.name,
    }));
    for (const { r, path, expected, name } of results) {
      assert.notEqual(r.code, 0, `${name} was admitted: ${r.stdout}`);
      assert.ok(
        r.stderr.includes(`admission webhook "${path}.webhooks.fedmesh.io" denied the request`),
        `${name}: ${r.stderr}`,
      );
      assert.ok(r.stderr.includes(expected), `${name}: expected ${JSON.stringify(expected)} in:\n${r.stderr}`);
    }
    assert.ok(invalid.length >= 25);
  });

  test(`kubectl apply: ${valid.length} valid objects apply, with exactly the expected warnings`, async () => {
    const east = tb.cluster('east');
    for (const [obj, warnings] of valid) {
      const name = (obj as { metadata: { name: string } }).metadata.name;
      const r = await east.kubectl(['apply', '-f', '-'], JSON.stringify(obj));
      assert.equal(r.code, 0, `${name}: ${r.stderr}`);
      const printed = r.stderr.split('\n').filter((l) => l.startsWith('Warning:'));
      assert.equal(printed.length, warnings.length, `${name}: ${r.stderr}`);
      for (const w of warnings)
        assert.ok(r.stderr.includes(w), `${name}: expected ${JSON.stringify(w)} in:\n${r.stderr}`);
    }
    await east.kubectlOk(['delete', 'rcc', 'far', 'farther']);
  });

  test('kubectl get fnp shows the printer columns; webhooks skip kube-system', async () => {
    const east = tb.cluster('east');
    const table = await east.kubectlOk(['get', 'fnp', '-n', 'shop', 'ok-clean']);
    assert.match(table, /^NAME\s+ORDER\s+SELECTOR\s+AGE\n/);
    assert.match(table, /^ok-clean\s+10\s+app == 'db'\s+\d+s\n/m);
    // kube-system is excluded: an invalid policy there is not sent to the webhooks at all.
    const r = await east.kubectl(
      ['apply', '-f', '-'],
      JSON.stringify({ ...fnp('sys', { selector: '(' }), metadata: { name: 'sys', namespace: 'kube-system' } }),
    );
    assert.equal(r.code, 0, r.stderr);
    await east.kubectlOk(['delete', 'fnp', '-n', 'kube-system', 'sys']);
  });

  test('the webhooks run as their ServiceAccount, with only what they need', async () => {
    const east = tb.cluster('east');
    const can = async (...args: string[]) =>
      (
        await east.kubectl(['auth', 'can-i', ...args, '--as=system:serviceaccount:fedmesh-system:fedmesh-webhooks'])
      ).stdout.trim();
    assert.equal(await can('watch', 'remoteclusterconfigurations.fedmesh.io'), 'yes');
    assert.equal(await can('patch', `validatingwebhookconfigurations/${webhookConfigurationName}`), 'yes');
    assert.equal(await can('patch', 'validatingwebhookconfigurations/other'), 'no');
    assert.equal(await can('get', 'secrets', '-n', 'fedmesh-system'), 'yes');
    assert.equal(await can('list', 'secrets', '-n', 'fedmesh-system'), 'no');
    assert.equal(await can('get', 'secrets', '-n', 'kube-system'), 'no');
    assert.equal(await can('update', 'remoteclusterconfigurations.fedmesh.io'), 'no');
  });
});

describe('fedmesh policy explain', () => {
  test('lists the local and remote pods each rule takes in, and the rule that decides for each', async () => {
    const east = tb.cluster('east');
    // The remote pods must be in east's mesh cache first.
    await eventually(async () => {
      const names = await east.kubectlOk(['get', 'rwl', '-n', 'shop', '-o', 'name']);
      assert.equal(names.trim().split('\n').length, 5, names);
    }, 60_000);
    const dir = mkdtempSync(join(tmpdir(), 'fedmesh-explain-'));
    const file = join(dir, 'policy.yaml');
    writeFileSync(
      file,
      [
        'apiVersion: fedmesh.io/v1alpha1',
        'kind: FederatedNetworkPolicy',
        'metadata: {name: db-access, namespace: shop}',
        'spec:',
        "  selector: app == 'db'",
        '  order: 10',
        '  ingress:',
        '  - action: Deny',
        "    source: {selector: \"role == 'batch' && fedmesh.io/cluster == 'west'\"}",
        '  - action: Allow',
        '    source: {selector: "app == \'web\'"}',
        '  - action: Allow',
        '    protocol: TCP',
        "    source: {selector: \"has(fedmesh.io/cluster) && (app == 'web' || role == 'batch')\"}",
        '    destination: {ports: [5432]}',
      ].join('\n'),
    );
    const explain = (args: string[]) =>
      runCommand(process.execPath, [
        fedmeshBin,
        'policy',
        'explain',
        '-f',
        file,
        '--cluster-name=east',
        `--kubeconfig=${east.kubeconfig}`,
        ...args,
      ]);
    const r = await explain(['-o', 'json']);
    assert.equal(r.code, 0, r.stderr);
    const [x] = JSON.parse(r.stdout) as PolicyExplanation[];
    assert.ok(x);
    assert.deepEqual(x.appliesTo.endpoints, ['east/shop/db-0']);
    const [ingress] = x.directions;
    assert.equal(ingress?.direction, 'Ingress');
    const selects = ingress!.rules.map((rule) => rule.peers?.flatMap((p) => p.selects));
    assert.deepEqual(selects, [
      ['west/shop/batch-0'],
      ['east/shop/web-0', 'east/shop/web-1'],
      [
        'east/shop/batch-0',
        'east/shop/web-0',
        'east/shop/web-1',
        'north/shop/batch-0',
        'north/shop/web-0',
        'west/shop/batch-0',
        'west/shop/web-0',
        'west/shop/web-1',
      ],
    ]);
    assert.deepEqual(
      ingress!.decisions.map((d) => `${d.endpoint} ${d.rule} ${d.action}`),
      [
        'east/shop/batch-0 2 Allow',
        'east/shop/web-0 1 Allow',
        'east/shop/web-1 1 Allow',
        'north/shop/batch-0 2 Allow',
        'north/shop/web-0 2 Allow',
        'west/shop/batch-0 0 Deny',
        'west/shop/web-0 2 Allow',
        'west/shop/web-1 2 Allow',
      ],
    );
    const text = await explain([]);
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /FederatedNetworkPolicy shop\/db-access \(order 10\)/);
    assert.match(text.stdout, /endpoints matching app == "web" in namespace shop, in the local cluster only \(east\)/);
    assert.match(text.stdout, /west\/shop\/batch-0\s+\[0\] Deny/);
  });
});

describe('serving certificate rotation', () => {
  test('short-lived serving certificate and CA rotate under continuous admission traffic: zero failed reviews', async () => {
    const east = tb.cluster('east');
    const state = tb.state;
    // Replace east's webhooks with one whose certificates live seconds, in a fresh directory.
    const old = state.processes.filter((p) => p.cluster === 'east' && p.component === 'fedmesh-webhooks');
    await Promise.all(old.map((p) => stopProcess(p)));
    state.processes = state.processes.filter((p) => !old.includes(p));
    writeState(state);
    const port = await freePort();
    const metricsPort = await freePort();
    const certDir = mkdtempSync(join(tmpdir(), 'fedmesh-rotation-'));
    const lifetimes = { certValidityMs: 6_000, caValidityMs: 20_000 };
    const caBundle = prepareGeneratedCertificates({
      dir: certDir,
      dnsNames: servingDnsNames(webhooksService.name, webhooksService.namespace),
      ipAddresses: ['127.0.0.1'],
      ...lifetimes,
    });
    await applyManifest(
      east.client,
      webhookConfigurationManifest({
        name: webhookConfigurationName,
        endpoint: { url: `https://127.0.0.1:${port}` },
        caBundlePem: caBundle.join(''),
        excludedNamespaces: [webhooksService.namespace],
      }),
    );
    launchProcess(state, {
      cluster: 'east',
      component: 'fedmesh-webhooks',
      port: metricsPort,
      version: 'test',
      argv: [
        process.execPath,
        fedmeshBin,
        'webhooks',
        '--cluster-name=east',
        `--kubeconfig=${join(state.dir, 'fedmesh', 'east', 'webhooks.kubeconfig')}`,
        `--bind-address=127.0.0.1:${port}`,
        `--metrics-bind-address=127.0.0.1:${metricsPort}`,
        `--cert-dir=${certDir}`,
        '--cert-validity=6s',
        '--ca-validity=20s',
      ],
    });
    const rotations = async () => {
      const text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
      const count = (c: string) =>
        Number(
          new RegExp(`^fedmesh_webhook_certificate_rotations_total\\{certificate="${c}"\\} (\\d+)`, 'm').exec(
            text,
          )?.[1] ?? 0,
        );
      return { serving: count('serving'), ca: count('ca') };
    };
    await eventually(() => rotations(), 20_000);

    // Continuous traffic: server-side dry runs go through admission (sideEffects None) but store nothing.
    const path = '/apis/fedmesh.io/v1alpha1/namespaces/shop/federatednetworkpolicies?dryRun=All';
    const failures: string[] = [];
    let admitted = 0;
    let denied = 0;
    let done = false;
    const traffic = async (worker: number) => {
      for (let i = 0; !done; i++) {
        const bad = i % 4 === 0;
        const body = fnp(`rot-${worker}-${i}`, bad ? { selector: '(' } : { selector: "app == 'db'" });
        try {
          await east.client.request('POST', path, { body, timeoutMs: 15_000 });
          if (bad) failures.push(`rot-${worker}-${i}: an invalid policy was admitted`);
          else admitted++;
        } catch (err) {
          if (bad && err instanceof KubeApiError && err.message.includes('denied the request')) denied++;
          else failures.push(`rot-${worker}-${i}: ${err instanceof Error ? err.message : String(err)}`);
        }
      }
    };
    // The first answers prove the new process serves before the clock starts.
    await eventually(async () => {
      await east.client.request('POST', path, { body: fnp('rot-probe', {}), timeoutMs: 10_000 });
    }, 30_000);
    const workers = [0, 1, 2, 3].map(traffic);
    const start = await rotations();
    try {
      await eventually(
        async () => {
          const now = await rotations();
          assert.ok(now.ca >= start.ca + 1 && now.serving >= start.serving + 3, JSON.stringify({ start, now }));
        },
        40_000,
        500,
      );
    } finally {
      done = true;
      await Promise.all(workers);
    }
    assert.deepEqual(failures.slice(0, 5), []);
    assert.ok(admitted > 50 && denied > 10, `admitted ${admitted}, denied ${denied}`);
    // The configuration trusts the CA in use, and no expired one.
    const config = await east.client.get<{ webhooks: { clientConfig: { caBundle: string } }[] }>(
      `/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations/${webhookConfigurationName}`,
    );
    const bundle = Buffer.from(config.webhooks[0]!.clientConfig.caBundle, 'base64').toString();
    const { X509Certificate } = await import('node:crypto');
    const certs = bundle.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
    assert.ok(certs.length >= 1 && certs.length <= 3, `${certs.length} CAs in caBundle`);
    for (const c of certs) assert.ok(new Date(new X509Certificate(c).validTo) > new Date(Date.now() - 2000));
  });
});
