// The policy calculation against a brute-force model, over random histories: endpoints come, change labels,
// addresses (shared ones too) and nodes, and go; policies come and go, some reading a label key no selector read
// before (identities are regrouped); the cluster's networks change. After every step the `peers` set must hold, per
// peer selector, exactly the counted addresses of the endpoints it matches (evaluated label by label), its size
// must be its element count, the recorded changes must carry a copy of the set along, and the verdict maps must be
// what a calculation built at once from the final state programs.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { seededRandom } from '../../core/random/seeded-random.js';
import { evaluate } from '../../core/selector/evaluate.js';
import { parseSelector } from '../../core/selector/parser.js';
import { type Endpoint, egressMap, ingressMap, PolicyCalculation, peersSet } from './calc.js';
import { endpointLabels, namespaceLabelView } from './endpoint-labels.js';
import type { DataplanePolicy, PolicyRule } from './model.js';

const LOCAL = 'west';
const NODE = 'n0';
const NODE_CIDR = '10.1.0.0/24';

interface World {
  endpoints: Map<string, Endpoint>;
  policies: Map<string, DataplanePolicy>;
  networks: string[];
}

const peerTexts = [
  "app == 'a'",
  "app == 'b' && tier == 'db'",
  "fedmesh.io/cluster == 'east' && app in {'a', 'b'}",
  "has(tier) && fedmesh.io/cluster != 'west'",
  "version == 'v1'", // a key read by no other selector: regroups
  "pcns.team == 'x'",
  'all()',
];

function policy(i: number, peers: readonly string[]): DataplanePolicy {
  const rule = (selector: string): PolicyRule => ({
    action: 'Allow',
    protocol: 6,
    ports: [],
    icmp: null,
    peers: [{ kind: 'selector', selector: parseSelector(selector) }],
  });
  return {
    key: `fnp/demo/p${i}`,
    order: i,
    rank: `p${i}`,
    selector: parseSelector(`fedmesh.io/cluster == 'west' && app == '${['a', 'b'][i % 2]}'`),
    types: ['ingress'],
    ingress: peers.map(rule),
    egress: [],
  };
}

/** `spread`: addresses beyond the few shared ones, so that most are held once (the calculation's fast paths). */
function randomEndpoint(random: () => number, name: string, spread: number): Endpoint {
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(random() * xs.length)]!;
  const cluster = pick([LOCAL, 'east', 'south']);
  // Few addresses: shared ones (two endpoints, a remote one claiming a local one's) happen often.
  const address = () =>
    random() < 0.8 && spread > 0
      ? `10.4.${Math.floor(random() * spread)}.1`
      : pick(['10.1.0.1', '10.1.0.2', '10.2.0.1', '10.2.0.2', '10.2.0.3', '10.3.0.1', '10.3.0.9']);
  const ips = random() < 0.35 ? [address(), address()] : [address()];
  const labels: Record<string, string> = { app: pick(['a', 'b', 'c']) };
  if (random() < 0.5) labels.tier = pick(['db', 'web']);
  if (random() < 0.4) labels.version = pick(['v1', 'v2']);
  if (random() < 0.3) labels['pod-template-hash'] = String(Math.floor(random() * 1000));
  return {
    cluster,
    namespace: pick(['demo', 'other']),
    name,
    nodeName: cluster === LOCAL ? pick([NODE, 'n1']) : 'e0',
    ips,
    labels,
    ports: [],
  };
}

const namespaces: Record<string, Record<string, string>> = { demo: { team: 'x' }, other: { team: 'y' } };

/** What `peers` must hold: per peer selector, the sorted addresses it selects (the tags are the calculation's). */
function expectedPeers(w: World): string[] {
  const localIps = new Set([...w.endpoints.values()].filter((e) => e.cluster === LOCAL).flatMap((e) => e.ips));
  const isLocal = (ip: string) =>
    localIps.has(ip) ||
    ip.startsWith('10.1.0.') ||
    (w.networks.length > 0 && (ip.startsWith('10.3.0.') || ip === '10.2.0.1' || ip === '10.2.0.2'));
  const selectors = new Set<string>();
  for (const p of w.policies.values())
    for (const r of p.ingress)
      for (const peer of r.peers ?? []) {
        if (peer.kind === 'selector') selectors.add(JSON.stringify(peer.selector));
      }
  const out: string[] = [];
  for (const s of selectors) {
    const node = JSON.parse(s);
    const ips = new Set<string>();
    for (const e of w.endpoints.values()) {
      const ns =
        e.cluster === LOCAL && namespaces[e.namespace]
          ? namespaceLabelView(namespaces[e.namespace]!, LOCAL)
          : undefined;
      if (!evaluate(node, endpointLabels(e.labels, e.cluster, e.namespace, ns))) continue;
      for (const ip of e.ips) if (e.cluster === LOCAL || !isLocal(ip)) ips.add(ip);
    }
    if (ips.size > 0) out.push([...ips].sort().join(','));
  }
  return out.sort();
}

function actualPeers(c: PolicyCalculation): { groups: string[]; elements: string[] } {
  const set = c.desired.sets.get(peersSet)!;
  const elements = [...set.elements];
  assert.equal(new Set(elements).size, elements.length, 'an element written twice');
  assert.equal(set.elements.size, elements.length, 'the size is the element count');
  const byTag = new Map<string, string[]>();
  for (const el of elements) {
    const [ip, , tag] = el.split(' ');
    byTag.set(tag!, [...(byTag.get(tag!) ?? []), ip!]);
  }
  return { groups: [...byTag.values()].map((ips) => ips.sort().join(',')).sort(), elements };
}

function fresh(w: World): PolicyCalculation {
  const c = new PolicyCalculation(LOCAL, NODE);
  c.setNodeCIDRs([NODE_CIDR]);
  c.setLocalNetworks(w.networks);
  for (const [name, labels] of Object.entries(namespaces)) c.setNamespace(name, labels);
  for (const p of w.policies.values()) c.upsertPolicy(p);
  for (const e of w.endpoints.values()) c.upsertEndpoint(e);
  return c;
}

for (const [seed, spread] of [
  [1, 0],
  [2, 0],
  [3, 0],
  [4, 0],
  [5, 0],
  [6, 0],
  [7, 200],
  [8, 200],
  [9, 1000],
] as const) {
  test(`random history ${seed} (${spread} more addresses): peers, its size, its recorded changes and the verdict maps stay exact`, () => {
    const random = seededRandom(seed);
    const w: World = { endpoints: new Map(), policies: new Map(), networks: [] };
    const c = new PolicyCalculation(LOCAL, NODE);
    c.setNodeCIDRs([NODE_CIDR]);
    for (const [name, labels] of Object.entries(namespaces)) c.setNamespace(name, labels);
    // Started as the agent starts: policies held, then the first full sync, then deltas carried into a mirror.
    let mirror: Set<string> | undefined;
    for (let step = 0; step < 400; step++) {
      const r = random();
      if (r < 0.45) {
        const name = `pod${Math.floor(random() * 12)}`;
        const e = randomEndpoint(random, name, spread);
        const key = `${e.cluster}/${e.namespace}/${name}`;
        for (const [k, old] of w.endpoints) {
          if (old.name !== name || k === key) continue;
          w.endpoints.delete(k);
          c.deleteEndpoint(old.cluster, old.namespace, old.name);
        }
        w.endpoints.set(key, e);
        c.upsertEndpoint(e);
      } else if (r < 0.6) {
        const [k, e] = [...w.endpoints][Math.floor(random() * w.endpoints.size)] ?? [];
        if (k && e) {
          w.endpoints.delete(k);
          c.deleteEndpoint(e.cluster, e.namespace, e.name);
        }
      } else if (r < 0.8) {
        const i = Math.floor(random() * 6);
        const peers = peerTexts.filter(() => random() < 0.3);
        const p = policy(i, peers.length > 0 ? peers : [peerTexts[0]!]);
        w.policies.set(p.key, p);
        c.upsertPolicy(p);
      } else if (r < 0.9) {
        const key = `fnp/demo/p${Math.floor(random() * 6)}`;
        w.policies.delete(key);
        c.deletePolicy(key);
      } else {
        w.networks = random() < 0.5 ? [] : ['10.3.0.0/24', '10.2.0.0/31', '10.2.0.2/32'];
        c.setLocalNetworks(w.networks);
      }
      if (step === 100) {
        c.trackChanges(true);
        mirror = new Set(c.desired.sets.get(peersSet)!.elements);
      } else if (mirror) {
        const delta = c.takeChanges().sets.get(peersSet);
        for (const el of delta?.removed ?? []) assert.ok(mirror.delete(el), `removed ${el}, which was not there`);
        for (const el of delta?.added ?? []) {
          assert.ok(!mirror.has(el), `added ${el}, which was there`);
          mirror.add(el);
        }
      }
      const { groups, elements } = actualPeers(c);
      assert.deepEqual(groups, expectedPeers(w), `step ${step}`);
      if (mirror) assert.deepEqual([...mirror].sort(), [...elements].sort(), `step ${step}: the changes`);
    }
    const once = fresh(w);
    for (const map of [ingressMap, egressMap]) {
      assert.deepEqual(
        new Map([...c.desired.maps.get(map)!.elements].sort()),
        new Map([...once.desired.maps.get(map)!.elements].sort()),
      );
    }
    assert.deepEqual(actualPeers(c).groups, actualPeers(once).groups);
  });
}
