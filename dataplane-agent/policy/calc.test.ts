import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compileFederatedNetworkPolicy, compileNetworkPolicy } from '../../core/policy/index.js';
import { adaptPolicy } from './adapt.js';
import {
  type Endpoint,
  egressIsolatedV6Set,
  egressMap,
  exceptNetsSet,
  forwardRules,
  ingressIsolatedV6Set,
  ingressMap,
  localEndpointsSet,
  namedPortsSet,
  PolicyCalculation,
  peersSet,
  portListsSet,
  tunnelSourcesSet,
} from './calc.js';
import type { DataplanePolicy } from './model.js';

/** A NetworkPolicy or FederatedNetworkPolicy of namespace demo, compiled for cluster west as the agent adapts it. */
const np = (name: string, spec: object) =>
  adaptPolicy(
    compileNetworkPolicy(
      { metadata: { namespace: 'demo', name }, spec } as Parameters<typeof compileNetworkPolicy>[0],
      { localCluster: 'west' },
    ).policy!,
    'west',
  );
const fnp = (name: string, spec: object) =>
  adaptPolicy(
    compileFederatedNetworkPolicy(
      { metadata: { namespace: 'demo', name }, spec } as Parameters<typeof compileFederatedNetworkPolicy>[0],
      { localCluster: 'west' },
    ).policy!,
    'west',
  );

const ep = (cluster: string, name: string, ip: string, labels: Record<string, string>, nodeName = 'n0'): Endpoint => ({
  cluster,
  namespace: 'demo',
  name,
  nodeName,
  ips: [ip],
  labels,
  ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
});

const eastClients = np('east-clients', {
  podSelector: { matchLabels: { app: 'server' } },
  ingress: [
    {
      from: [
        {
          podSelector: {
            matchLabels: { app: 'client' },
            matchExpressions: [{ key: 'fedmesh.io/cluster', operator: 'In', values: ['east'] }],
          },
        },
      ],
      ports: [{ port: 'http' }],
    },
  ],
});

function world(): PolicyCalculation {
  const c = new PolicyCalculation('west', 'n0');
  c.setNodeCIDRs(['10.245.0.0/24']);
  c.setNamespace('demo', { team: 'a' });
  c.upsertEndpoint(ep('west', 'server', '10.245.0.2', { app: 'server' }));
  c.upsertEndpoint(ep('west', 'peer', '10.245.1.2', { app: 'client' }, 'n1'));
  c.upsertEndpoint(ep('east', 'client', '10.244.0.2', { app: 'client' }, 'e0'));
  c.upsertEndpoint(ep('east', 'other', '10.244.1.2', { app: 'other' }, 'e1'));
  return c;
}

const peerElements = (c: PolicyCalculation) => [...(c.desired.sets.get(peersSet)?.elements ?? [])];
const tagOf = (s: string) => /\| (0x[0-9a-f]{8})\)/.exec(s)?.[1];

test('the peers set holds exactly the IPs a selector picks across clusters, under its tag; the policy dispatches its endpoint', () => {
  const c = world();
  c.upsertPolicy(eastClients);
  assert.deepEqual(peerElements(c), ['10.244.0.2 . 0x00000001']);
  assert.deepEqual(
    [...(c.desired.sets.get(namedPortsSet)?.elements ?? [])].sort(),
    ['10.245.0.2', '10.245.1.2'].map((ip) => `${ip} . tcp . 8080 . 0x00000001`),
    "every local endpoint with a port named http, under the tag of that name (an ingress rule's port is this node's endpoint's)",
  );
  const verdict = c.desired.maps.get(ingressMap)?.elements.get('10.245.0.2');
  assert.match(verdict ?? '', /^jump prof-/);
  assert.equal(c.desired.maps.get(egressMap)?.elements.size, 0, 'ingress-only policy: egress not dispatched');
  const chain = c.desired.chains.get(verdict!.slice(5))!;
  assert.match(
    chain.rules[0] ?? '',
    /^ip saddr \. \(meta mark & 0x00000000 \| 0x00000001\) @peers meta l4proto 6 ip daddr \. meta l4proto \. th dport \. \(meta mark & 0x00000000 \| 0x00000001\) @named-ports return$/,
  );
  assert.deepEqual(
    [...c.desired.sets.keys()].sort(),
    [
      egressIsolatedV6Set,
      exceptNetsSet,
      ingressIsolatedV6Set,
      localEndpointsSet,
      namedPortsSet,
      'node-cidrs',
      peersSet,
      portListsSet,
    ],
    'no set per selector',
  );
  assert.equal(chain.rules.at(-1), 'drop');
  assert.deepEqual([...(c.desired.sets.get(localEndpointsSet)?.elements ?? [])], ['10.245.0.2']);
});

test('a relabel changes set elements only, reported element by element', () => {
  const c = world();
  c.upsertPolicy(eastClients);
  c.trackChanges(true);
  c.upsertEndpoint(ep('east', 'other', '10.244.1.2', { app: 'client' }, 'e1'));
  const changes = c.takeChanges();
  assert.equal(changes.chains.size, 0);
  assert.equal(changes.maps.size, 0);
  assert.deepEqual(
    [...changes.sets].map(([n, d]) => [n, [...d.added], [...d.removed]]),
    [['peers', ['10.244.1.2 . 0x00000001'], []]],
  );
  c.upsertEndpoint(ep('east', 'other', '10.244.1.9', { app: 'client' }, 'e1'));
  const moved = c.takeChanges().sets.get(peersSet);
  assert.deepEqual(
    [[...(moved?.added ?? [])], [...(moved?.removed ?? [])]],
    [['10.244.1.9 . 0x00000001'], ['10.244.1.2 . 0x00000001']],
  );
});

test('policies in order: an earlier Deny comes before a later Allow in the profile', () => {
  const ordered = (name: string, order: number, action: string) =>
    fnp(name, {
      selector: "app == 'server'",
      order,
      ingress: [{ action, source: { selector: "fedmesh.io/cluster == 'east'" } }],
    });
  const c = world();
  c.upsertPolicy(ordered('allow', 20, 'Allow'));
  c.upsertPolicy(ordered('deny', 10, 'Deny'));
  const chain = c.desired.chains.get(c.desired.maps.get(ingressMap)!.elements.get('10.245.0.2')!.slice(5))!;
  assert.deepEqual(
    chain.rules.map((r) => r.split(' ').at(-1)),
    ['drop', 'return', 'drop'],
  );
});

test('until its namespace is known, an endpoint of this node is dropped (fail closed)', () => {
  const c = new PolicyCalculation('west', 'n0');
  c.upsertEndpoint(ep('west', 'server', '10.245.0.2', { app: 'server' }));
  assert.equal(c.desired.maps.get(ingressMap)?.elements.get('10.245.0.2'), 'drop');
  assert.equal(c.desired.maps.get(egressMap)?.elements.get('10.245.0.2'), 'drop');
  c.setNamespace('demo', {});
  assert.equal(c.desired.maps.get(ingressMap)?.elements.get('10.245.0.2'), undefined, 'no policy: not dispatched');
});

test('deleting the policy removes its chain, its set elements and the dispatch entry', () => {
  const c = world();
  c.upsertPolicy(eastClients);
  c.trackChanges(true);
  c.deletePolicy(eastClients.key);
  const changes = c.takeChanges();
  assert.equal(c.desired.maps.get(ingressMap)?.elements.size, 0);
  assert.deepEqual([...c.desired.chains.keys()], ['forward']);
  assert.equal(peerElements(c).length, 0);
  assert.equal(c.desired.sets.get(namedPortsSet)?.elements.size, 0, 'no rule names the port any more');
  assert.ok(
    [...changes.chains].some((n) => n.startsWith('prof-')),
    'the profile chain is reported for deletion',
  );
  assert.deepEqual(
    [...(changes.sets.get(peersSet)?.removed ?? [])],
    ['10.244.0.2 . 0x00000001'],
    'the peer elements are reported as removed',
  );
});

test('a selector replaced in the same batch gets a new tag: a rule of the old one never matches the new selection', () => {
  const c = world();
  c.upsertPolicy(eastClients);
  c.trackChanges(true);
  const westClients = np('east-clients', {
    podSelector: { matchLabels: { app: 'server' } },
    ingress: [{ from: [{ podSelector: { matchLabels: { app: 'client' } } }] }],
  });
  c.upsertPolicy(westClients);
  assert.deepEqual(peerElements(c), ['10.245.1.2 . 0x00000002']);
  const chain = c.desired.chains.get(c.desired.maps.get(ingressMap)!.elements.get('10.245.0.2')!.slice(5))!;
  assert.equal(tagOf(chain.rules[0] ?? ''), '0x00000002');
  c.takeChanges();
  c.deletePolicy(westClients.key);
  c.upsertPolicy(eastClients);
  assert.deepEqual(peerElements(c), ['10.244.0.2 . 0x00000001'], 'a tag freed by an earlier batch is reused');
});

test('updating a policy in place keeps shared sets and reconciles them element by element', () => {
  const c = world();
  c.upsertPolicy(eastClients);
  c.trackChanges(true);
  c.upsertPolicy({ ...eastClients, order: 5 });
  const changes = c.takeChanges();
  for (const [name, d] of changes.sets) {
    assert.equal(d.added.size + d.removed.size, 0, `${name} did not change`);
  }
});

test('port lists live in one tagged set, an equal list shared under one tag; a single port stays inline', () => {
  const withPorts = (name: string, ports: (number | string)[]) =>
    fnp(name, {
      selector: "app == 'server'",
      ingress: [{ action: 'Allow', protocol: 'TCP', destination: { ports } }],
    });
  const c = world();
  c.upsertPolicy(withPorts('a', [80, 443, '8000:8100']));
  c.upsertPolicy(withPorts('b', [443, '8000:8100', 80]));
  c.upsertPolicy(withPorts('c', [9999]));
  const lists = () => [...(c.desired.sets.get(portListsSet)?.elements ?? [])];
  assert.deepEqual(lists(), ['80 . 0x00000001', '443 . 0x00000001', '8000-8100 . 0x00000001']);
  const chain = c.desired.chains.get(c.desired.maps.get(ingressMap)!.elements.get('10.245.0.2')!.slice(5))!;
  assert.ok(
    chain.rules.every((r) => !r.includes('{')),
    `no anonymous sets: ${chain.rules.join(' | ')}`,
  );
  assert.deepEqual(
    chain.rules.filter((r) => r.includes('@port-lists')),
    [
      'meta l4proto 6 th dport . (meta mark & 0x00000000 | 0x00000001) @port-lists return',
      'meta l4proto 6 th dport . (meta mark & 0x00000000 | 0x00000001) @port-lists return',
    ],
  );
  assert.ok(chain.rules.some((r) => r === 'meta l4proto 6 th dport 9999 return'));
  c.deletePolicy('FederatedNetworkPolicy/demo/a');
  assert.equal(lists().length, 3, 'still used by b');
  c.deletePolicy('FederatedNetworkPolicy/demo/b');
  assert.deepEqual(lists(), []);
});

test('ipBlock exceptions live in one tagged set of address ranges; the network stays in the rule', () => {
  const c = world();
  c.upsertPolicy(
    np('nets', {
      podSelector: { matchLabels: { app: 'server' } },
      ingress: [{ from: [{ ipBlock: { cidr: '10.0.0.0/8', except: ['10.1.0.0/16', '10.1.2.0/24'] } }] }],
    }),
  );
  assert.deepEqual([...(c.desired.sets.get(exceptNetsSet)?.elements ?? [])], ['10.1.0.0-10.1.255.255 . 0x00000001']);
  const chain = c.desired.chains.get(c.desired.maps.get(ingressMap)!.elements.get('10.245.0.2')!.slice(5))!;
  assert.deepEqual(chain.rules, [
    'ip saddr 10.0.0.0/8 ip saddr . (meta mark & 0x00000000 | 0x00000001) != @except-nets return',
    'drop',
  ]);
  c.deletePolicy('NetworkPolicy/demo/nets');
  assert.equal(c.desired.sets.get(exceptNetsSet)?.elements.size, 0);
});

test('policies received before the first full sync are applied when it reads the state, to the same result', () => {
  const ingressOf = (c: PolicyCalculation) => c.desired.maps.get(ingressMap)?.elements.get('10.245.0.2');
  // Eager: the first full sync has happened before anything arrives.
  const eager = new PolicyCalculation('west', 'n0');
  eager.trackChanges(true);
  // Deferred: policies and endpoints arrive before it, policies first (as an agent starting up lists them).
  const deferred = new PolicyCalculation('west', 'n0');
  for (const c of [eager, deferred]) {
    c.upsertPolicy(eastClients);
    c.setNodeCIDRs(['10.245.0.0/24']);
    c.setNamespace('demo', { team: 'a' });
    c.upsertEndpoint(ep('west', 'server', '10.245.0.2', { app: 'server' }));
    c.upsertEndpoint(ep('east', 'client', '10.244.0.2', { app: 'client' }, 'e0'));
  }
  assert.equal(deferred.policyCount, 1, 'counted while waiting');
  deferred.deletePolicy('no/such-policy');
  assert.equal(deferred.policyCount, 1);
  assert.deepEqual(peerElements(deferred), peerElements(eager));
  assert.deepEqual(peerElements(deferred), ['10.244.0.2 . 0x00000001']);
  assert.equal(ingressOf(deferred), ingressOf(eager));
  assert.match(ingressOf(deferred) ?? '', /^jump prof-/);
  // A policy deleted before the sync never shows.
  const gone = new PolicyCalculation('west', 'n0');
  gone.upsertPolicy(eastClients);
  gone.upsertEndpoint(ep('east', 'client', '10.244.0.2', { app: 'client' }, 'e0'));
  gone.deletePolicy(eastClients.key);
  assert.equal(gone.policyCount, 0);
  gone.trackChanges(true);
  assert.deepEqual(peerElements(gone), []);
});

test('held policies applied together (endpoints refreshed once at the end) give what applying them one by one gives', () => {
  const policies = [0, 1, 2, 3].map((i) =>
    np(`p${i}`, {
      podSelector: { matchLabels: { app: 'server' } },
      ingress: [{ from: [{ podSelector: { matchLabels: { app: `client${i}` } } }], ports: [{ port: 8000 + i }] }],
    }),
  );
  const edited = np('p1', {
    podSelector: { matchLabels: { app: 'server' } },
    ingress: [{ from: [{ podSelector: { matchLabels: { app: 'client9' } } }] }],
  });
  const eager = new PolicyCalculation('west', 'n0');
  eager.trackChanges(true);
  const held = new PolicyCalculation('west', 'n0');
  for (const c of [eager, held]) {
    c.setNodeCIDRs(['10.245.0.0/24']);
    c.setNamespace('demo', { team: 'a' });
    c.upsertEndpoint(ep('west', 'server', '10.245.0.2', { app: 'server' }));
    c.upsertEndpoint(ep('west', 'server2', '10.245.0.3', { app: 'server' }));
    for (const p of policies) c.upsertPolicy(p);
    c.upsertPolicy(edited); // an update while held: the newest version counts
    c.deletePolicy('NetworkPolicy/demo/p3');
    c.upsertEndpoint(ep('west', 'client9', '10.245.0.9', { app: 'client9' }));
  }
  // Tags are numbered as they are taken, which differs between the two histories: compare each rule with its tag
  // replaced by the addresses the tag selects.
  const chains = (c: PolicyCalculation) => {
    const byTag = (tag: string) =>
      peerElements(c)
        .filter((e) => e.endsWith(` . ${tag}`))
        .map((e) => e.split(' ')[0])
        .sort()
        .join(',');
    return [...c.desired.chains]
      .map(([n, ch]) => [n, ch.rules.map((r) => r.replace(/\| (0x[0-9a-f]{8})\) @peers/, (_, t) => `[${byTag(t)}]`))])
      .sort();
  };
  const maps = (c: PolicyCalculation) => [...c.desired.maps].map(([n, m]) => [n, [...m.elements].sort()]);
  assert.deepEqual(chains(held), chains(eager));
  assert.match(JSON.stringify(chains(held)), /\[10\.245\.0\.9\] return/, 'the edited policy admits client9');
  assert.deepEqual(maps(held), maps(eager));
  assert.equal(peerElements(held).length, peerElements(eager).length);
  // One profile for the two servers (same three policies), besides the base chain.
  assert.equal(held.desired.chains.size, 2);
  assert.equal(held.policyCount, 3);
});

/** A policy nft cannot take (an ICMP type under TCP, which adapt.ts leaves out of compiled policies). */
function withIcmpUnderTcp(p: DataplanePolicy): DataplanePolicy {
  return { ...p, ingress: p.ingress.map((r) => ({ ...r, protocol: 6, ports: [], icmp: { type: 8, code: null } })) };
}

test('a policy whose rule nft refused is programmed as a drop in its place until it changes or goes', () => {
  const c = world();
  const fromClients = np('from-clients', {
    podSelector: { matchLabels: { app: 'server' } },
    ingress: [{ from: [{ podSelector: { matchLabels: { app: 'client' } } }] }],
  });
  const bad = withIcmpUnderTcp(fromClients);
  c.upsertPolicy(eastClients);
  c.upsertPolicy(bad);
  c.trackChanges(true);
  const chainName = c.desired.maps.get(ingressMap)!.elements.get('10.245.0.2')!.slice('jump '.length);
  const rules = () => c.desired.chains.get(chainName)!.rules;
  const at = rules().findIndex((r) => r.includes('icmp type 8'));
  assert.ok(at > 0, 'the refused rule comes after east-clients (ordered by name)');
  const refusedRule = rules()[at]!;
  assert.equal(c.refuseRule(chainName, at, 'tcp dport 1 return', 'x'), undefined, 'the chain changed since: no guess');
  assert.equal(c.refuseRule('forward', 0, 'ct state established,related accept', 'x'), undefined, 'no policy rule');
  assert.equal(c.refuseRule(chainName, at, refusedRule, 'conflicting protocols'), bad.key);
  assert.deepEqual(rules().slice(at), ['drop', 'drop'], 'a drop where its rules were, then the profile end');
  assert.ok(rules()[0]!.includes('@named-ports'), "east-clients' rule before it stays");
  assert.ok(c.takeChanges().chains.has(chainName), 'the next flush programs it');
  assert.deepEqual([...c.refusedPolicies()], [[bad.key, 'conflicting protocols']]);

  c.upsertPolicy(withIcmpUnderTcp(fromClients)); // a relist: the same policy again
  assert.equal(c.refusedPolicies().size, 1);
  assert.deepEqual(rules().slice(at), ['drop', 'drop']);

  c.upsertPolicy(fromClients); // fixed: tried again
  assert.equal(c.refusedPolicies().size, 0);
  assert.ok(rules()[at]!.includes('@peers return'));

  c.upsertPolicy(bad);
  assert.equal(c.refuseRule(chainName, at, rules()[at]!, 'again'), bad.key);
  c.deletePolicy(bad.key);
  assert.equal(c.refusedPolicies().size, 0);
});

test('a refusal covers the direction of the refused rule only, and retrying lifts every refusal', () => {
  const c = world();
  const both = np('both-ways', {
    podSelector: { matchLabels: { app: 'server' } },
    policyTypes: ['Ingress', 'Egress'],
    ingress: [{ from: [{ podSelector: { matchLabels: { app: 'client' } } }] }],
    egress: [{ ports: [{ port: 53, protocol: 'UDP' }] }],
  });
  c.upsertPolicy(withIcmpUnderTcp(both));
  c.trackChanges(true);
  const chainOf = (map: string) => c.desired.maps.get(map)!.elements.get('10.245.0.2')!.slice('jump '.length);
  const ingress = () => c.desired.chains.get(chainOf(ingressMap))!.rules;
  const egress = () => c.desired.chains.get(chainOf(egressMap))!.rules;
  assert.equal(c.refuseRule(chainOf(ingressMap), 0, ingress()[0]!, 'conflicting protocols'), both.key);
  assert.deepEqual(ingress(), ['drop', 'drop']);
  assert.deepEqual(egress(), ['meta l4proto 17 th dport 53 return', 'drop'], 'its egress rules are not in question');
  assert.equal(c.retryRefusedPolicies(), 1);
  assert.equal(c.refusedPolicies().size, 0);
  assert.match(ingress()[0]!, /icmp type 8/, 'tried again as it is');
  assert.equal(c.retryRefusedPolicies(), 0);
});

test('a pod cannot claim namespace labels: own pcns.* labels and the known-marker are ignored, local or remote', () => {
  const fromFrontendNamespaces = np('from-frontend-namespaces', {
    podSelector: { matchLabels: { app: 'server' } },
    ingress: [{ from: [{ namespaceSelector: { matchLabels: { team: 'frontend' } } }] }],
  });
  const fnpFromFrontendNamespaces = fnp('fnp-from-frontend-namespaces', {
    selector: "app == 'server'",
    ingress: [
      {
        action: 'Allow',
        source: { selector: 'has(fedmesh.io/cluster)', namespaceSelector: "team == 'frontend'" },
      },
    ],
  });
  const c = new PolicyCalculation('west', 'n0');
  c.trackChanges(true);
  c.setNodeCIDRs(['10.245.0.0/24']);
  c.setNamespace('demo', { team: 'backend' });
  c.setNamespace('shop', { team: 'frontend' });
  c.setNamespace('evil', {});
  c.upsertEndpoint(ep('west', 'server', '10.245.0.2', { app: 'server' }));
  c.upsertEndpoint({ ...ep('west', 'honest', '10.245.0.3', {}), namespace: 'shop' });
  const forged = {
    'pcns.team': 'frontend',
    'fedmesh.io/namespace-labels-known': 'true',
    'projectcalico.org/namespace': 'shop',
  };
  c.upsertEndpoint({ ...ep('west', 'local-attacker', '10.245.0.66', forged), namespace: 'evil' });
  c.upsertEndpoint(ep('east', 'remote-attacker', '10.244.9.7', { ...forged, 'fedmesh.io/cluster': 'west' }, 'e9'));
  c.upsertPolicy(fromFrontendNamespaces);
  c.upsertPolicy(fnpFromFrontendNamespaces);
  const members = peerElements(c).map((e) => e.split(' ')[0]);
  assert.deepEqual([...new Set(members)], ['10.245.0.3'], 'only the pod of the namespace labelled team=frontend');
});

test('two pods of this node on one address: deleting either leaves the other filtered (the stricter verdict holds)', () => {
  const c = world();
  c.trackChanges(true);
  c.upsertPolicy(eastClients);
  const ingress = () => c.desired.maps.get(ingressMap)?.elements.get('10.245.0.9');
  // The address is reused while the old pod terminates: both are servers, both selected (default deny).
  c.upsertEndpoint(ep('west', 'server-old', '10.245.0.9', { app: 'server' }));
  c.upsertEndpoint(ep('west', 'server-new', '10.245.0.9', { app: 'server' }));
  const selected = ingress();
  assert.match(selected ?? '', /^jump prof-/);
  c.takeChanges();
  c.deleteEndpoint('west', 'demo', 'server-old');
  assert.equal(ingress(), selected, 'the new pod keeps its profile');
  assert.equal(c.takeChanges().maps.size, 0, 'nothing to program: the entry stays as it was');
  // An unselected pod on the same address does not open it; a pod whose namespace is unknown closes it.
  c.upsertEndpoint(ep('west', 'plain', '10.245.0.9', { app: 'none' }));
  assert.equal(ingress(), selected);
  c.upsertEndpoint({ ...ep('west', 'unknown-ns', '10.245.0.9', { app: 'server' }), namespace: 'not-listed-yet' });
  assert.equal(ingress(), 'drop');
  c.deleteEndpoint('west', 'not-listed-yet', 'unknown-ns');
  c.deleteEndpoint('west', 'demo', 'server-new');
  assert.equal(ingress(), undefined, 'only the unselected pod is left: not dispatched');
  assert.deepEqual([...(c.desired.sets.get(localEndpointsSet)?.elements ?? [])].sort(), ['10.245.0.2', '10.245.0.9']);
  c.deleteEndpoint('west', 'demo', 'plain');
  assert.deepEqual([...(c.desired.sets.get(localEndpointsSet)?.elements ?? [])], ['10.245.0.2']);
});

test('a remote endpoint never counts with an address a local pod holds or of this node pod CIDRs, while it is so', () => {
  const trustsWestFe = fnp('from-west-fe', {
    selector: "app == 'server'",
    ingress: [{ action: 'Allow', source: { selector: "app == 'fe' && fedmesh.io/cluster == 'west-2'" } }],
  });
  const c = world();
  c.trackChanges(true);
  c.upsertPolicy(trustsWestFe);
  // A remote cluster claims for its pod the address of a local pod (of another node), one of this node's pod CIDRs,
  // and one of its own.
  c.upsertEndpoint({
    ...ep('west-2', 'fe', '10.245.1.2', { app: 'fe' }, 'w2'),
    ips: ['10.245.1.2', '10.245.0.77', '10.250.0.5'],
  });
  const members = () =>
    peerElements(c)
      .map((e) => e.split(' ')[0])
      .sort();
  assert.deepEqual(members(), ['10.250.0.5']);
  assert.equal(c.refusedRemoteAddresses(), 2);
  // The local pod goes: its address is the remote pod's to count with; it comes back: no longer.
  c.deleteEndpoint('west', 'demo', 'peer');
  assert.deepEqual(members(), ['10.245.1.2', '10.250.0.5']);
  c.upsertEndpoint(ep('west', 'peer-again', '10.245.1.2', { app: 'client' }, 'n1'));
  assert.deepEqual(members(), ['10.250.0.5']);
  // The node's pod CIDRs change: the address outside them counts again.
  c.setNodeCIDRs(['10.245.0.0/25']);
  assert.deepEqual(members(), ['10.250.0.5']);
  c.setNodeCIDRs(['10.245.0.0/26']);
  assert.deepEqual(members(), ['10.245.0.77', '10.250.0.5']);
  // The remote pod moves to an address of a local pod: it leaves the selection with its old addresses.
  c.upsertEndpoint({ ...ep('west-2', 'fe', '10.245.0.2', { app: 'fe' }, 'w2'), ips: ['10.245.0.2'] });
  assert.deepEqual(members(), []);
  c.deleteEndpoint('west-2', 'demo', 'fe');
  assert.deepEqual(members(), []);
  assert.equal(c.refusedRemoteAddresses(), 0);
});

test("remote addresses in this node's pod CIDRs are refused, octet-aligned or not, and only those", () => {
  const c = new PolicyCalculation('west', 'n0');
  c.setNodeCIDRs(['10.245.3.0/24', '10.246.0.0/23', '12.0.0.0/8']);
  const remote = (name: string, ip: string) => c.upsertEndpoint(ep('east', name, ip, { app: 'client' }, 'e0'));
  remote('in-24', '10.245.3.7');
  remote('text-prefix-only', '10.245.30.7'); // starts with "10.245.3" but is not in 10.245.3.0/24
  remote('in-23-low', '10.246.0.9');
  remote('in-23-high', '10.246.1.9');
  remote('past-23', '10.246.2.9');
  remote('in-8', '12.99.0.1');
  remote('outside', '11.0.0.1');
  assert.equal(c.refusedRemoteAddresses(), 4);
  c.setNodeCIDRs(['10.245.3.0/24']);
  assert.equal(c.refusedRemoteAddresses(), 1);
});

test('IPv6 addresses of a pod a policy isolates are dropped in that direction only, and freed when none does', () => {
  // Policy is decided for IPv4; without these sets a dual-stack pod's IPv6 traffic would pass unfiltered.
  const c = world();
  const v6 = (set: string) => [...(c.desired.sets.get(set)?.elements ?? [])].sort();
  c.upsertEndpoint({ ...ep('west', 'server', '10.245.0.2', { app: 'server' }), ipv6: ['fd00:245::2'] });
  c.upsertEndpoint({ ...ep('west', 'free', '10.245.0.5', { app: 'free' }), ipv6: ['fd00:245::5'] });
  c.upsertEndpoint({ ...ep('west', 'elsewhere', '10.245.1.9', { app: 'server' }, 'n1'), ipv6: ['fd00:245::9'] });
  assert.deepEqual([v6(ingressIsolatedV6Set), v6(egressIsolatedV6Set)], [[], []], 'no policy: not isolated');
  c.upsertPolicy(eastClients); // ingress only, selects app=server
  assert.deepEqual(v6(ingressIsolatedV6Set), ['fd00:245::2'], 'this node only, the selected pod only');
  assert.deepEqual(v6(egressIsolatedV6Set), []);
  c.trackChanges(true);
  c.upsertEndpoint({ ...ep('west', 'server', '10.245.0.2', { app: 'server' }), ipv6: ['fd00:245::22'] });
  assert.deepEqual(v6(ingressIsolatedV6Set), ['fd00:245::22']);
  const changes = c.takeChanges().sets.get(ingressIsolatedV6Set);
  assert.deepEqual([[...(changes?.added ?? [])], [...(changes?.removed ?? [])]], [['fd00:245::22'], ['fd00:245::2']]);
  c.deletePolicy(eastClients.key);
  assert.deepEqual(v6(ingressIsolatedV6Set), []);
  // Fail closed: a pod whose namespace is not known yet is isolated both ways.
  c.upsertEndpoint({ ...ep('west', 'lost', '10.245.0.7', {}), namespace: 'unknown', ipv6: ['fd00:245::7'] });
  assert.deepEqual([v6(ingressIsolatedV6Set), v6(egressIsolatedV6Set)], [['fd00:245::7'], ['fd00:245::7']]);
  assert.ok(forwardRules().includes(`ip6 daddr @${ingressIsolatedV6Set} drop`));
  assert.ok(forwardRules().includes(`ip6 saddr @${egressIsolatedV6Set} drop`));
});

test('a remote endpoint listing an address twice leaves no element behind once a local pod takes it, or once it goes', () => {
  const c = world();
  c.upsertPolicy(eastClients);
  c.trackChanges(true);
  const members = () =>
    peerElements(c)
      .map((e) => e.split(' ')[0])
      .sort();
  // Before a local pod holds 10.245.1.7, a remote client lists it twice.
  c.upsertEndpoint({
    ...ep('east', 'twice', '10.245.1.7', { app: 'client' }, 'e2'),
    ips: ['10.245.1.7', '10.245.1.7'],
  });
  assert.deepEqual(members(), ['10.244.0.2', '10.245.1.7']);
  // A local pod (another node, not trusted by the policy) gets the address: the remote claim stops counting at once.
  c.upsertEndpoint(ep('west', 'other', '10.245.1.7', { app: 'other' }, 'n1'));
  assert.deepEqual(members(), ['10.244.0.2']);
  c.deleteEndpoint('east', 'demo', 'twice');
  c.deleteEndpoint('west', 'demo', 'other');
  assert.deepEqual(members(), ['10.244.0.2'], 'nothing of the twice-listed address is left');
});

test("a named port resolves on remote endpoints only for a peer that names their cluster: a remote pod cannot open a plain policy's port", () => {
  // A plain NetworkPolicy: web may send to the port named http of anything, as Kubernetes means it (local pods).
  const plain = np('web-egress', {
    podSelector: { matchLabels: { app: 'web' } },
    policyTypes: ['Egress'],
    egress: [{ ports: [{ port: 'http' }] }],
  });
  // A remote cluster claims for its pod a local node's address and another local pod's, with the kubelet's and
  // etcd's ports under the name http.
  const hostile: Endpoint = {
    ...ep('east', 'x', '10.0.0.11', {}, 'e9'),
    ips: ['10.0.0.11', '10.245.1.50'],
    ports: [
      { name: 'http', port: 10250, protocol: 'TCP' },
      { name: 'http', port: 2379, protocol: 'TCP' },
    ],
  };
  const namedPorts = (c: PolicyCalculation) => [...(c.desired.sets.get(namedPortsSet)?.elements ?? [])].sort();
  const c = world();
  c.upsertEndpoint(ep('west', 'web', '10.245.0.3', { app: 'web' }));
  c.upsertEndpoint(hostile);
  c.upsertPolicy(plain);
  assert.deepEqual(
    namedPorts(c).map((e) => e.split(' . ')[0]),
    ['10.245.0.2', '10.245.0.3', '10.245.1.2'],
    'local endpoints only',
  );
  // A policy whose peer names east: its rule resolves the name on east's endpoints too, under a tag of its own,
  // and only its line (the one matching east's peers) reads that tag.
  const toEast = np('to-east', {
    podSelector: { matchLabels: { app: 'web' } },
    policyTypes: ['Egress'],
    egress: [
      {
        to: [
          { podSelector: {} },
          { podSelector: { matchExpressions: [{ key: 'fedmesh.io/cluster', operator: 'In', values: ['east'] }] } },
        ],
        ports: [{ port: 'http' }],
      },
    ],
  });
  c.upsertPolicy(toEast);
  const byTag = new Map<string, string[]>();
  for (const e of namedPorts(c)) {
    const [ip, , port, tag] = e.split(' . ');
    byTag.set(tag ?? '', [...(byTag.get(tag ?? '') ?? []), `${ip}:${port}`]);
  }
  const tags = [...byTag.keys()].sort();
  assert.equal(tags.length, 2);
  const [localTag, meshTag] = tags.sort((a, b) => (byTag.get(a)?.length ?? 0) - (byTag.get(b)?.length ?? 0));
  assert.deepEqual(byTag.get(localTag ?? ''), ['10.245.0.2:8080', '10.245.0.3:8080', '10.245.1.2:8080']);
  assert.deepEqual(byTag.get(meshTag ?? '')?.sort(), [
    '10.0.0.11:10250',
    '10.0.0.11:2379',
    '10.244.0.2:8080',
    '10.244.1.2:8080',
    '10.245.0.2:8080',
    '10.245.0.3:8080',
    '10.245.1.2:8080',
    '10.245.1.50:10250',
    '10.245.1.50:2379',
  ]);
  const profile = [...c.desired.chains]
    .filter(([name]) => name.startsWith('prof-'))
    .flatMap(([, chain]) => chain.rules)
    .filter((r) => r.includes('@named-ports'));
  const plainLine = profile.find((r) => !r.includes('@peers'));
  assert.ok(plainLine?.includes(localTag ?? '?'), plainLine);
  assert.equal(profile.filter((r) => r.includes(meshTag ?? '?')).length, 1, 'only the line of the peer naming east');
  // The policy naming east goes: its tag and elements go; the plain policy's stay.
  c.deletePolicy(toEast.key);
  assert.deepEqual(
    namedPorts(c).map((e) => e.split(' . ')[0]),
    ['10.245.0.2', '10.245.0.3', '10.245.1.2'],
  );
});

test('with a tunnel device: what comes out of it must have a source it routes, checked before established flows', () => {
  const c = new PolicyCalculation('west', 'n0', { tunnelDevice: 'fedmesh.vxlan' });
  const rules = c.desired.chains.get('forward')?.rules ?? [];
  assert.deepEqual(rules.slice(0, 3), [
    'iifname "fedmesh.vxlan" meta nfproto ipv6 drop',
    'iifname "fedmesh.vxlan" ip saddr . (meta mark & 0x00000000 | 0x00000000) != @tunnel-sources drop',
    'ct state established,related accept',
  ]);
  const sources = () => [...(c.desired.sets.get(tunnelSourcesSet)?.elements ?? [])].sort();
  assert.deepEqual(sources(), [], 'nothing routed yet: nothing out of the tunnel passes');
  c.trackChanges(true);
  assert.equal(c.setTunnelSources(['10.244.0.0/24', '10.244.1.0/24', 'not-a-cidr']), true);
  assert.deepEqual(sources(), ['10.244.0.0-10.244.0.255 . 0x00000000', '10.244.1.0-10.244.1.255 . 0x00000000']);
  assert.equal(c.setTunnelSources(['10.244.1.0/24', '10.244.0.0/24']), false, 'the same networks: no change');
  c.takeChanges();
  c.setTunnelSources(['10.244.1.0/24']);
  const delta = c.takeChanges().sets.get(tunnelSourcesSet);
  assert.deepEqual([...(delta?.removed ?? [])], ['10.244.0.0-10.244.0.255 . 0x00000000']);
  assert.deepEqual([...(delta?.added ?? [])], []);
  // Without a tunnel device (no overlay on the node), no such rule and no such set.
  const plain = new PolicyCalculation('west', 'n0');
  assert.equal(plain.desired.sets.has(tunnelSourcesSet), false);
  assert.equal(plain.desired.chains.get('forward')?.rules[0], 'ct state established,related accept');
});

test("a remote endpoint never counts with an address of the cluster's own networks (other nodes' pod CIDRs, node addresses)", () => {
  const c = world();
  c.upsertPolicy(eastClients);
  const members = () =>
    peerElements(c)
      .map((e) => e.split(' ')[0])
      .sort();
  // An east client claims a local node's address (where host-network pods answer) and a free address of another
  // node's pod CIDR, beside its own.
  c.upsertEndpoint({
    ...ep('east', 'claims', '10.0.0.11', { app: 'client' }, 'e3'),
    ips: ['10.0.0.11', '10.245.1.99', '10.244.3.3'],
  });
  assert.deepEqual(members(), ['10.0.0.11', '10.244.0.2', '10.244.3.3', '10.245.1.99']);
  c.trackChanges(true);
  c.setLocalNetworks(['10.245.1.0/24', '10.0.0.11/32', '10.0.0.12/32']);
  assert.deepEqual(members(), ['10.244.0.2', '10.244.3.3']);
  assert.equal(c.refusedRemoteAddresses(), 2);
  const delta = c.takeChanges().sets.get(peersSet);
  assert.deepEqual([...(delta?.removed ?? [])].map((e) => e.split(' ')[0]).sort(), ['10.0.0.11', '10.245.1.99']);
  // The node goes (its networks with it): the address is the remote pod's again.
  c.setLocalNetworks(['10.245.1.0/24']);
  assert.deepEqual(members(), ['10.0.0.11', '10.244.0.2', '10.244.3.3']);
});
