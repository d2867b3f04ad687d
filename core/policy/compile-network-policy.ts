// A Kubernetes NetworkPolicy (networking.k8s.io/v1) in the normalized form, with fedmesh's reading of it: peers
// that never mention fedmesh.io/cluster select local endpoints only, so a standard NetworkPolicy means exactly what
// it meant before; a peer with fedmesh.io/cluster terms selects in those clusters, in the same-named namespace (or
// the namespaces its namespaceSelector picks there).

import type { SelectorNode } from '../selector/ast.js';
import { all } from '../selector/ast.js';
import { canonicalSelector } from '../selector/canonical.js';
import type { LabelSelector } from '../selector/label-selector.js';
import { type Cidr, cidrContains, formatCidr, parseCidr } from './cidr.js';
import { at, Diagnostics, item } from './diagnostics.js';
import type { Peer, PolicyRule, PolicyType, PortMatch, Protocol } from './model.js';
import { NETWORK_POLICY_ORDER } from './model.js';
import { parseNetworkPolicyPort, parseProtocol } from './ports.js';
import type { PolicyCompilation } from './result.js';
import { finish } from './result.js';
import {
  checkClusterNames,
  checkMainSelectorClusters,
  compileLabelSelectorAt,
  endpointPeer,
  labelSelectorParts,
  warnNegativeClusterTerms,
} from './selectors.js';

/** Structurally networking.k8s.io/v1 NetworkPolicy (and @kubernetes/client-node's V1NetworkPolicy). */
export interface NetworkPolicyObject {
  readonly metadata?: { readonly name?: string; readonly namespace?: string } | null;
  readonly spec?: NetworkPolicySpec | null;
}

export interface NetworkPolicySpec {
  readonly podSelector?: LabelSelector | null;
  readonly policyTypes?: readonly string[] | null;
  readonly ingress?:
    | readonly {
        readonly from?: readonly NetworkPolicyPeer[] | null;
        readonly ports?: readonly NetworkPolicyPort[] | null;
      }[]
    | null;
  readonly egress?:
    | readonly {
        readonly to?: readonly NetworkPolicyPeer[] | null;
        readonly ports?: readonly NetworkPolicyPort[] | null;
      }[]
    | null;
}

export interface NetworkPolicyPeer {
  readonly podSelector?: LabelSelector | null;
  readonly namespaceSelector?: LabelSelector | null;
  readonly ipBlock?: { readonly cidr: string; readonly except?: readonly string[] | null } | null;
}

export interface NetworkPolicyPort {
  readonly protocol?: string | null;
  readonly port?: number | string | null;
  readonly endPort?: number | null;
}

export interface CompileOptions {
  /** This cluster's name (the value of the virtual fedmesh.io/cluster on local endpoints). */
  readonly localCluster: string;
}

export function compileNetworkPolicy(np: NetworkPolicyObject, options: CompileOptions): PolicyCompilation {
  const d = new Diagnostics();
  const namespace = np.metadata?.namespace ?? '';
  const name = np.metadata?.name ?? '';
  const spec = np.spec ?? {};

  const main = compileLabelSelectorAt(spec.podSelector ?? {}, 'spec.podSelector', d);
  if (main !== null) {
    checkMainSelectorClusters(main, 'spec.podSelector', options.localCluster, d);
    checkClusterNames(main, 'spec.podSelector', d);
  }

  const ingress: PolicyRule[] = [];
  const ingressIn = spec.ingress ?? [];
  for (let i = 0; i < ingressIn.length; i++) {
    const r = ingressIn[i]!;
    ingress.push(...compileRule(r.from, r.ports, item('spec.ingress', i), 'from', namespace, d));
  }
  const egress: PolicyRule[] = [];
  const egressIn = spec.egress ?? [];
  for (let i = 0; i < egressIn.length; i++) {
    const r = egressIn[i]!;
    egress.push(...compileRule(r.to, r.ports, item('spec.egress', i), 'to', namespace, d));
  }

  // Kubernetes' default: Ingress always, Egress when there are egress rules.
  const declared = spec.policyTypes ?? [];
  const types: PolicyType[] =
    declared.length > 0
      ? (['Ingress', 'Egress'] as const).filter((t) => declared.includes(t))
      : (spec.egress ?? []).length > 0
        ? ['Ingress', 'Egress']
        : ['Ingress'];

  return finish(d, () => ({
    kind: 'NetworkPolicy',
    namespace,
    name,
    order: NETWORK_POLICY_ORDER,
    appliesTo: main ?? all(),
    appliesToText: canonicalSelector(main ?? all()),
    types,
    ingress,
    egress,
  }));
}

function compileRule(
  peersIn: readonly NetworkPolicyPeer[] | null | undefined,
  portsIn: readonly NetworkPolicyPort[] | null | undefined,
  path: string,
  peersField: 'from' | 'to',
  namespace: string,
  d: Diagnostics,
): PolicyRule[] {
  // Plain loops: this runs for every rule of every admission review.
  const peerList = peersIn ?? [];
  let peers: Peer[] | null = null;
  if (peerList.length > 0) {
    peers = [];
    const peersPath = at(path, peersField);
    for (let i = 0; i < peerList.length; i++) {
      const peer = compilePeer(peerList[i]!, item(peersPath, i), namespace, d);
      if (peer !== null) peers.push(peer);
    }
  }

  const ports = portsIn ?? [];
  if (ports.length === 0) return [{ action: 'Allow', protocol: null, ports: [], icmp: null, peers, path }];

  // One rule per protocol, in order of first appearance; a protocol entry without a port opens all its ports.
  const byProtocol = new Map<Protocol, PortMatch[] | 'all'>();
  const portsPath = at(path, 'ports');
  for (let i = 0; i < ports.length; i++) {
    const p = ports[i]!;
    const portPath = item(portsPath, i);
    const protocol = parseProtocol(p.protocol ?? 'TCP', at(portPath, 'protocol'), d);
    if (protocol === null) continue;
    const match = parseNetworkPolicyPort(p.port, p.endPort, portPath, d);
    const seen = byProtocol.get(protocol);
    if (match === null || p.port === undefined || p.port === null) byProtocol.set(protocol, 'all');
    else if (seen === undefined) byProtocol.set(protocol, [match]);
    else if (seen !== 'all') seen.push(match);
  }
  const rules: PolicyRule[] = [];
  for (const [protocol, list] of byProtocol) {
    rules.push({ action: 'Allow', protocol, ports: list === 'all' ? [] : list, icmp: null, peers, path });
  }
  return rules;
}

function compilePeer(peer: NetworkPolicyPeer, path: string, namespace: string, d: Diagnostics): Peer | null {
  const { podSelector, namespaceSelector, ipBlock } = peer;
  if (ipBlock !== undefined && ipBlock !== null) {
    if ((podSelector ?? null) !== null || (namespaceSelector ?? null) !== null) {
      d.fail(path, 'Forbidden: may not specify more than 1 peer type (ipBlock with podSelector or namespaceSelector)');
      return null;
    }
    return compileIpBlock(ipBlock, at(path, 'ipBlock'), d);
  }
  if ((podSelector ?? null) === null && (namespaceSelector ?? null) === null) {
    d.fail(path, 'Required value: must specify a peer (podSelector, namespaceSelector or ipBlock)');
    return null;
  }
  const selector = checkedLabelSelector(podSelector, at(path, 'podSelector'), d);
  const nsSelector =
    namespaceSelector === undefined || namespaceSelector === null
      ? null
      : checkedLabelSelector(namespaceSelector, at(path, 'namespaceSelector'), d);
  if (selector === null || (namespaceSelector != null && nsSelector === null)) return null;
  return endpointPeer(selector, nsSelector, namespace, path, d);
}

// A peer's LabelSelector (absent: all()), checked for valid cluster names and negative cluster terms.
function checkedLabelSelector(
  sel: LabelSelector | null | undefined,
  path: string,
  d: Diagnostics,
): SelectorNode | null {
  if (sel === undefined || sel === null) return all();
  const node = compileLabelSelectorAt(sel, path, d);
  if (node === null) return null;
  for (const part of labelSelectorParts(sel, path)) {
    checkClusterNames(part.node, part.path, d);
    warnNegativeClusterTerms(part.node, part.path, d);
  }
  return node;
}

function compileIpBlock(
  block: { readonly cidr: string; readonly except?: readonly string[] | null },
  path: string,
  d: Diagnostics,
): Peer | null {
  const parsed = parseCidr(block.cidr);
  if (!parsed.ok) {
    d.fail(at(path, 'cidr'), `Invalid value: ${JSON.stringify(block.cidr)}: ${parsed.reason}`);
    return null;
  }
  const except: Cidr[] = [];
  (block.except ?? []).forEach((e, i) => {
    const ePath = item(at(path, 'except'), i);
    const p = parseCidr(e);
    if (!p.ok) d.fail(ePath, `Invalid value: ${JSON.stringify(e)}: ${p.reason}`);
    else if (!cidrContains(parsed.cidr, p.cidr) || p.cidr.prefix === parsed.cidr.prefix) {
      d.fail(ePath, `Invalid value: ${JSON.stringify(e)}: must be a strict subset of \`cidr\``);
    } else except.push(p.cidr);
  });
  return { kind: 'nets', nets: [{ cidr: formatCidr(parsed.cidr), except: except.map(formatCidr) }], path };
}
