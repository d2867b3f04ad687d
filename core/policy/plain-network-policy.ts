// Whether a NetworkPolicy is plain: one that compileNetworkPolicy passes without an error or a warning, told by
// reading the object once, without compiling it. Admission asks this first. Nearly every policy written is plain,
// and building the normalized policy (selector trees, canonical texts, rules, field paths) is most of what a review
// costs a webhook server, which serves each review from cold caches (measured: bench/webhook).
//
// Conservative by design: `false` only means "compile it to find out". Anything less common than selectors, a
// positive list of clusters in a pod selector, TCP/UDP/SCTP ports and IPv4 blocks (cluster terms in a main or
// namespace selector, negative or repeated cluster terms, other protocols, IPv6) is not plain. The property test
// beside this file holds it to the compiler: whatever it calls plain compiles with no error and no warning.

import { CLUSTER_LABEL } from '../selector/cluster-scope.js';
import { isValidLabelSelector, type LabelSelector } from '../selector/label-selector.js';
import { cidrContains, parseCidr } from './cidr.js';
import type { NetworkPolicyObject, NetworkPolicyPeer, NetworkPolicyPort } from './compile-network-policy.js';
import { portNameErrors, validPort } from './ports.js';
import { isClusterName } from './selectors.js';

/**
 * Whether `np` is plain (see above). `clusterNeedsNoWarning` says whether a cluster named in a peer is one the
 * caller would not warn about (admission warns about a cluster that no RemoteClusterConfiguration names). The object
 * must have the NetworkPolicy shape (the webhook checks it with ajv first): fields present have their types.
 */
export function isPlainNetworkPolicy(
  np: NetworkPolicyObject,
  clusterNeedsNoWarning: (name: string) => boolean,
): boolean {
  const spec = np.spec;
  if (spec === undefined || spec === null) return false;
  const main = spec.podSelector;
  if (main !== undefined && main !== null && (!isValidLabelSelector(main) || mentionsCluster(main))) return false;
  for (const rule of spec.ingress ?? []) {
    if (!plainRule(rule.from, rule.ports, clusterNeedsNoWarning)) return false;
  }
  for (const rule of spec.egress ?? []) {
    if (!plainRule(rule.to, rule.ports, clusterNeedsNoWarning)) return false;
  }
  return true;
}

function plainRule(
  peers: readonly NetworkPolicyPeer[] | null | undefined,
  ports: readonly NetworkPolicyPort[] | null | undefined,
  clusterNeedsNoWarning: (name: string) => boolean,
): boolean {
  for (const peer of peers ?? []) if (!plainPeer(peer, clusterNeedsNoWarning)) return false;
  for (const port of ports ?? []) if (!plainPort(port)) return false;
  return true;
}

function plainPeer(peer: NetworkPolicyPeer, clusterNeedsNoWarning: (name: string) => boolean): boolean {
  const { podSelector, namespaceSelector, ipBlock } = peer;
  const pods = podSelector ?? null;
  const namespaces = namespaceSelector ?? null;
  if (ipBlock !== undefined && ipBlock !== null) return pods === null && namespaces === null && plainIpBlock(ipBlock);
  if (pods === null && namespaces === null) return false;
  if (namespaces !== null && (!isValidLabelSelector(namespaces) || mentionsCluster(namespaces))) return false;
  return pods === null || (isValidLabelSelector(pods) && plainClusterTerms(pods, clusterNeedsNoWarning));
}

// At most one cluster term, positive (`== name` or In), naming valid clusters the caller knows: such a peer reaches
// exactly those clusters, which the compiler neither refuses nor warns about.
function plainClusterTerms(selector: LabelSelector, clusterNeedsNoWarning: (name: string) => boolean): boolean {
  let terms = 0;
  const labels = selector.matchLabels;
  if (labels !== undefined && labels !== null && Object.hasOwn(labels, CLUSTER_LABEL)) {
    terms++;
    const name = labels[CLUSTER_LABEL]!;
    if (!isClusterName(name) || !clusterNeedsNoWarning(name)) return false;
  }
  for (const requirement of selector.matchExpressions ?? []) {
    if (requirement.key !== CLUSTER_LABEL) continue;
    terms++;
    if (requirement.operator !== 'In') return false;
    for (const name of requirement.values ?? []) {
      if (!isClusterName(name) || !clusterNeedsNoWarning(name)) return false;
    }
  }
  return terms <= 1;
}

function mentionsCluster(selector: LabelSelector): boolean {
  const labels = selector.matchLabels;
  if (labels !== undefined && labels !== null && Object.hasOwn(labels, CLUSTER_LABEL)) return true;
  for (const requirement of selector.matchExpressions ?? []) if (requirement.key === CLUSTER_LABEL) return true;
  return false;
}

// IPv4 only: admission warns about an IPv6 block (the agent enforces IPv4).
function plainIpBlock(block: { readonly cidr: string; readonly except?: readonly string[] | null }): boolean {
  if (block.cidr.includes(':')) return false;
  const outer = parseCidr(block.cidr);
  if (!outer.ok) return false;
  for (const text of block.except ?? []) {
    const inner = parseCidr(text);
    if (!inner.ok || inner.cidr.prefix === outer.cidr.prefix || !cidrContains(outer.cidr, inner.cidr)) return false;
  }
  return true;
}

function plainPort(port: NetworkPolicyPort): boolean {
  const protocol = port.protocol ?? 'TCP';
  if (protocol !== 'TCP' && protocol !== 'UDP' && protocol !== 'SCTP') return false;
  const number = port.port;
  const end = port.endPort ?? null;
  if (number === undefined || number === null) return end === null;
  if (typeof number === 'string') return end === null && portNameErrors(number).length === 0;
  if (!validPort(number)) return false;
  return end === null || (validPort(end) && end >= number);
}
