// core/policy's NormalizedPolicy -> the dataplane's model: cluster and namespace scope become selector terms over
// the agent's endpoint labels, so that they are evaluated by the selector index like the peer's own labels.
// Agrees with core/policy/match.ts: a namespace selector needs the namespace's labels, which only local endpoints
// have (the federation API publishes no remote namespaces), so it never selects a remote endpoint.

import type { EndpointPeer, NormalizedPolicy, PolicyRule as NormalizedRule, Peer } from '../../core/policy/index.js';
import { all, and, inSet, type SelectorNode } from '../../core/selector/ast.js';
import { CLUSTER_LABEL } from '../../core/selector/cluster-scope.js';
import { inCluster, inNamespace, namespaceLabelsKnown, onNamespaceLabels } from './endpoint-labels.js';
import type { DataplanePolicy, PolicyRule, RulePeer } from './model.js';

const ipv4Cidr = /^\d{1,3}(\.\d{1,3}){3}\/\d{1,2}$/;
const protocolNumbers: Readonly<Record<string, number>> = {
  ICMP: 1,
  TCP: 6,
  UDP: 17,
  ICMPv6: 58,
  SCTP: 132,
  UDPLite: 136,
};

export function policyKey(kind: string, namespace: string, name: string): string {
  return `${kind}/${namespace}/${name}`;
}

function peerSelector(peer: EndpointPeer, localCluster: string): SelectorNode {
  const terms: SelectorNode[] = [peer.selector];
  terms.push(
    peer.namespaces.kind === 'same'
      ? inNamespace(peer.namespaces.name)
      : and([namespaceLabelsKnown(), onNamespaceLabels(peer.namespaces.selector)]),
  );
  if (peer.clusters.kind === 'local') terms.push(inCluster(localCluster));
  else if (peer.clusters.kind === 'named') terms.push(inSet('in', CLUSTER_LABEL, peer.clusters.names));
  return and(terms);
}

function adaptPeers(peers: readonly Peer[] | null, localCluster: string): RulePeer[] | null {
  if (peers === null) return null;
  const out: RulePeer[] = [];
  for (const p of peers) {
    if (p.kind === 'endpoints') out.push({ kind: 'selector', selector: peerSelector(p, localCluster) });
    else {
      // IPv4 only: an IPv6 network cannot match the IPv4 traffic this dataplane filters, so it adds no match.
      for (const n of p.nets) {
        if (ipv4Cidr.test(n.cidr))
          out.push({ kind: 'net', cidr: n.cidr, except: n.except.filter((e) => ipv4Cidr.test(e)) });
      }
    }
  }
  return out;
}

function adaptRule(r: NormalizedRule, localCluster: string): PolicyRule | undefined {
  const protocol =
    r.protocol === null ? null : typeof r.protocol === 'number' ? r.protocol : protocolNumbers[r.protocol];
  if (protocol === undefined || protocol === 58) return undefined; // ICMPv6 never matches IPv4 traffic
  // An ICMP type under another protocol (refused at admission, but a policy may predate the webhook or pass it
  // while it is down) matches no packet; rendered, nft would refuse the whole table for it.
  if (r.icmp !== null && protocol !== null && protocol !== 1) return undefined;
  return {
    action: r.action,
    protocol,
    ports: r.ports.map((p) =>
      p.kind === 'range' ? { kind: 'range', from: p.from, to: p.to } : { kind: 'named', name: p.name },
    ),
    icmp: r.icmp,
    peers: adaptPeers(r.peers, localCluster),
  };
}

export function adaptPolicy(p: NormalizedPolicy, localCluster: string): DataplanePolicy {
  const rules = (list: readonly NormalizedRule[]) =>
    list.map((r) => adaptRule(r, localCluster)).filter((r): r is PolicyRule => r !== undefined);
  return {
    key: policyKey(p.kind, p.namespace, p.name),
    order: p.order,
    // FederatedNetworkPolicy sorts before NetworkPolicy on a full tie, as in core/policy.
    rank: `${p.name}\u0000${p.namespace}\u0000${p.kind === 'FederatedNetworkPolicy' ? 0 : 1}`,
    selector: and([inCluster(localCluster), inNamespace(p.namespace), p.appliesTo]),
    types: p.types.map((t) => (t === 'Ingress' ? 'ingress' : 'egress')),
    ingress: rules(p.ingress),
    egress: rules(p.egress),
  };
}

/** A stand-in for a policy that cannot be read at all: it selects its namespace's endpoints and allows nothing. */
export function denyAllPolicy(kind: string, namespace: string, name: string, localCluster: string): DataplanePolicy {
  return {
    key: policyKey(kind, namespace, name),
    order: 0,
    rank: `${name}\u0000${namespace}`,
    selector: and([inCluster(localCluster), inNamespace(namespace), all()]),
    types: ['ingress', 'egress'],
    ingress: [],
    egress: [],
  };
}
