// `fedmesh policy explain`: what a policy selects now. For each rule, the local and remote endpoints its peers take
// in; for each endpoint, the rule that decides (the first that takes it in). Selectors are matched through the
// selector index (the labels carry the virtual fedmesh.io/cluster); clusters and namespaces are then checked as
// match.ts says, so the answer is the one enforcement gives.

import { CLUSTER_LABEL } from '../selector/cluster-scope.js';
import type { Labels } from '../selector/evaluate.js';
import { SelectorIndex } from '../selector/index.js';
import { addressInCidr, parseCidr } from './cidr.js';
import { type MeshFacts, peerAdmitsLocation, policyAppliesTo } from './match.js';
import type { NormalizedPolicy, Peer, PolicyRule, PolicyType, PortMatch, Protocol } from './model.js';

export interface ExplainEndpoint {
  readonly cluster: string;
  readonly namespace: string;
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly ips: readonly string[];
}

export interface ExplainMesh extends MeshFacts {
  /** Whether namespace labels of remote clusters are known (the federation API does not serve them). */
  readonly remoteNamespaceLabels: boolean;
}

/** An endpoint as `cluster/namespace/name`. */
export type EndpointRef = string;

export interface PeerExplanation {
  readonly path: string;
  /** The peer in words: selector, namespaces, clusters (or the nets). */
  readonly description: string;
  readonly selects: readonly EndpointRef[];
  /** Why part of what the peer could select is not listed, when that is so. */
  readonly note?: string;
}

export interface RuleExplanation {
  readonly index: number;
  readonly path: string;
  readonly action: PolicyRule['action'];
  readonly traffic: string;
  /** null: the rule takes in any peer at all. */
  readonly peers: readonly PeerExplanation[] | null;
}

export interface DirectionExplanation {
  readonly direction: PolicyType;
  readonly rules: readonly RuleExplanation[];
  /** Every endpoint some rule takes in, with the index of the first such rule and its action. */
  readonly decisions: readonly { readonly endpoint: EndpointRef; readonly rule: number; readonly action: string }[];
}

export interface PolicyExplanation {
  readonly kind: NormalizedPolicy['kind'];
  readonly namespace: string;
  readonly name: string;
  readonly order: number | null;
  readonly appliesTo: { readonly selector: string; readonly endpoints: readonly EndpointRef[] };
  readonly directions: readonly DirectionExplanation[];
}

export const refOf = (e: Pick<ExplainEndpoint, 'cluster' | 'namespace' | 'name'>): EndpointRef =>
  `${e.cluster}/${e.namespace}/${e.name}`;

export function explainPolicy(
  policy: NormalizedPolicy,
  endpoints: readonly ExplainEndpoint[],
  mesh: ExplainMesh,
): PolicyExplanation {
  const byRef = new Map(endpoints.map((e) => [refOf(e), e]));
  const index = new SelectorIndex<string, EndpointRef>();
  for (const [ref, e] of byRef) index.setItem(ref, withCluster(e.labels, e.cluster));

  const rulesOf = (direction: PolicyType) => (direction === 'Ingress' ? policy.ingress : policy.egress);
  const directions = policy.types.map((direction): DirectionExplanation => {
    const rules = rulesOf(direction).map((rule, i) => explainRule(rule, i, direction, index, byRef, mesh));
    const decisions: { endpoint: EndpointRef; rule: number; action: string }[] = [];
    const decided = new Set<EndpointRef>();
    rules.forEach((r) => {
      const taken = r.peers === null ? [...byRef.keys()] : r.peers.flatMap((p) => p.selects);
      for (const ref of [...taken].sort()) {
        if (decided.has(ref)) continue;
        decided.add(ref);
        decisions.push({ endpoint: ref, rule: r.index, action: r.action });
      }
    });
    decisions.sort((a, b) => (a.endpoint < b.endpoint ? -1 : a.endpoint > b.endpoint ? 1 : 0));
    return { direction, rules, decisions };
  });

  return {
    kind: policy.kind,
    namespace: policy.namespace,
    name: policy.name,
    order: Number.isFinite(policy.order) ? policy.order : null,
    appliesTo: {
      selector: policy.appliesToText,
      endpoints: [...byRef.values()]
        .filter((e) => policyAppliesTo(policy, e, mesh))
        .map(refOf)
        .sort(),
    },
    directions,
  };
}

function withCluster(labels: Readonly<Record<string, string>>, cluster: string): Labels {
  const m = new Map(Object.entries(labels));
  m.set(CLUSTER_LABEL, cluster);
  return m;
}

function explainRule(
  rule: PolicyRule,
  i: number,
  direction: PolicyType,
  index: SelectorIndex<string, EndpointRef>,
  byRef: ReadonlyMap<EndpointRef, ExplainEndpoint>,
  mesh: ExplainMesh,
): RuleExplanation {
  const peerWord = direction === 'Ingress' ? 'from' : 'to';
  return {
    index: i,
    path: rule.path,
    action: rule.action,
    traffic: `${describeProtocol(rule.protocol, rule.ports, rule.icmp)} ${peerWord}`,
    peers: rule.peers === null ? null : rule.peers.map((p) => explainPeer(p, index, byRef, mesh)),
  };
}

function explainPeer(
  peer: Peer,
  index: SelectorIndex<string, EndpointRef>,
  byRef: ReadonlyMap<EndpointRef, ExplainEndpoint>,
  mesh: ExplainMesh,
): PeerExplanation {
  if (peer.kind === 'nets') {
    const nets = peer.nets.map((n) => (n.except.length > 0 ? `${n.cidr} except ${n.except.join(', ')}` : n.cidr));
    const selects = [...byRef.values()]
      .filter((e) => e.ips.some((ip) => inNets(ip, peer.nets)))
      .map(refOf)
      .sort();
    return { path: peer.path, description: `addresses in ${nets.join(', ')}`, selects };
  }
  index.setSelector(peer.path, peer.selector);
  const selects = index
    .matchingItems(peer.path)
    .filter((ref) => {
      const e = byRef.get(ref);
      return e !== undefined && peerAdmitsLocation(peer, e, mesh);
    })
    .sort();
  index.deleteSelector(peer.path);
  const namespaces =
    peer.namespaces.kind === 'same'
      ? `namespace ${peer.namespaces.name}`
      : `namespaces matching ${peer.namespaces.text}`;
  const clusters =
    peer.clusters.kind === 'local'
      ? `the local cluster only (${mesh.localCluster})`
      : peer.clusters.kind === 'any'
        ? 'any cluster'
        : `clusters ${peer.clusters.names.join(', ') || '(none)'}`;
  const note =
    peer.namespaces.kind === 'selector' && peer.clusters.kind !== 'local' && !mesh.remoteNamespaceLabels
      ? 'namespace labels of remote clusters are not served by the federation API: only local endpoints are listed for this peer'
      : undefined;
  return {
    path: peer.path,
    description: `endpoints matching ${peer.text} in ${namespaces}, in ${clusters}`,
    selects,
    ...(note === undefined ? {} : { note }),
  };
}

function describeProtocol(protocol: Protocol | null, ports: readonly PortMatch[], icmp: PolicyRule['icmp']): string {
  if (protocol === null) return 'any traffic';
  const p = typeof protocol === 'number' ? `protocol ${protocol}` : protocol;
  if (icmp !== null) return `${p} type ${icmp.type}${icmp.code === null ? '' : ` code ${icmp.code}`}`;
  if (ports.length === 0) return p;
  const list = ports.map((x) => (x.kind === 'named' ? x.name : x.from === x.to ? `${x.from}` : `${x.from}-${x.to}`));
  return `${p} port ${list.join(', ')}`;
}

function inNets(ip: string, nets: readonly { cidr: string; except: readonly string[] }[]): boolean {
  const inside = (cidr: string) => {
    const c = parseCidr(cidr);
    return c.ok && addressInCidr(ip, c.cidr);
  };
  return nets.some((n) => inside(n.cidr) && !n.except.some(inside));
}
