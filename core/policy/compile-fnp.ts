// A FederatedNetworkPolicy in the normalized form. Every selector goes through the selector core (errors with the
// position and a caret excerpt), nets must be CIDRs, ports need a protocol that has ports, ICMP fields need ICMP,
// and the side of a rule that is the policy's own endpoints (an ingress rule's destination, an egress rule's
// source) may carry only destination ports: `spec.selector` already says which endpoints those are.

import { all, type SelectorNode } from '../selector/ast.js';
import { canonicalSelector } from '../selector/canonical.js';
import { formatCidr, parseCidr } from './cidr.js';
import type { CompileOptions } from './compile-network-policy.js';
import { at, Diagnostics, item } from './diagnostics.js';
import type { FederatedNetworkPolicy, FnpEntity, FnpRule } from './fnp-types.js';
import {
  type IcmpMatch,
  type NetMatch,
  type Peer,
  type PolicyRule,
  type PolicyType,
  type PortMatch,
  type Protocol,
  UNORDERED,
} from './model.js';
import { isIcmp, parseFnpPort, parseProtocol, protocolHasPorts } from './ports.js';
import { finish, type PolicyCompilation } from './result.js';
import {
  checkClusterNames,
  checkMainSelectorClusters,
  compileSelectorText,
  endpointPeer,
  warnNegativeClusterTerms,
} from './selectors.js';

const POLICY_TYPES: readonly PolicyType[] = ['Ingress', 'Egress'];

export function compileFederatedNetworkPolicy(fnp: FederatedNetworkPolicy, options: CompileOptions): PolicyCompilation {
  const d = new Diagnostics();
  const namespace = fnp.metadata?.namespace ?? '';
  const name = fnp.metadata?.name ?? '';
  const spec = fnp.spec ?? {};

  const main = compileSelectorText(spec.selector ?? '', 'spec.selector', d);
  if (main !== null) {
    checkMainSelectorClusters(main, 'spec.selector', options.localCluster, d);
    checkClusterNames(main, 'spec.selector', d);
    warnMatchesNothing(main, 'spec.selector', 'the policy applies to no endpoint', d);
  }

  const order = spec.order ?? UNORDERED;
  if (typeof order !== 'number' || Number.isNaN(order)) {
    d.fail('spec.order', `Invalid value: ${JSON.stringify(order)}: must be a number`);
  }

  const ingressIn = spec.ingress ?? [];
  const egressIn = spec.egress ?? [];
  const types = policyTypes(spec.types, egressIn.length > 0, d);
  if (!types.includes('Ingress') && ingressIn.length > 0) {
    d.warn('spec.ingress', 'these rules never apply: spec.types does not include Ingress');
  }
  if (!types.includes('Egress') && egressIn.length > 0) {
    d.warn('spec.egress', 'these rules never apply: spec.types does not include Egress');
  }

  const ingress = ingressIn.map((r, i) => compileRule(r, item('spec.ingress', i), 'Ingress', namespace, d));
  const egress = egressIn.map((r, i) => compileRule(r, item('spec.egress', i), 'Egress', namespace, d));

  return finish(d, () => ({
    kind: 'FederatedNetworkPolicy',
    namespace,
    name,
    order,
    appliesTo: main ?? all(),
    appliesToText: canonicalSelector(main ?? all()),
    types,
    ingress: ingress.filter((r): r is PolicyRule => r !== null),
    egress: egress.filter((r): r is PolicyRule => r !== null),
  }));
}

function policyTypes(declared: readonly string[] | null | undefined, hasEgress: boolean, d: Diagnostics): PolicyType[] {
  if (declared === undefined || declared === null || declared.length === 0) {
    return hasEgress ? ['Ingress', 'Egress'] : ['Ingress'];
  }
  declared.forEach((t, i) => {
    if (!(POLICY_TYPES as readonly string[]).includes(t)) {
      d.fail(item('spec.types', i), `Unsupported value: ${JSON.stringify(t)}: supported values: "Ingress", "Egress"`);
    } else if (declared.indexOf(t) !== i) d.error(item('spec.types', i), `Duplicate value: ${JSON.stringify(t)}`);
  });
  return POLICY_TYPES.filter((t) => declared.includes(t));
}

function compileRule(
  rule: FnpRule,
  path: string,
  direction: PolicyType,
  namespace: string,
  d: Diagnostics,
): PolicyRule | null {
  const action = rule.action;
  if (action !== 'Allow' && action !== 'Deny') {
    const shown =
      action === undefined || action === null ? 'Required value' : `Unsupported value: ${JSON.stringify(action)}`;
    d.fail(at(path, 'action'), `${shown}: supported values: "Allow", "Deny"`);
  }
  const protocol =
    rule.protocol === undefined || rule.protocol === null
      ? null
      : parseProtocol(rule.protocol, at(path, 'protocol'), d);
  const icmp = compileIcmp(rule, protocol, path, d);

  const peerField = direction === 'Ingress' ? 'source' : 'destination';
  const ownField = direction === 'Ingress' ? 'destination' : 'source';
  const peerSide = (direction === 'Ingress' ? rule.source : rule.destination) ?? {};
  const ownSide = (direction === 'Ingress' ? rule.destination : rule.source) ?? {};

  for (const field of ['selector', 'namespaceSelector', 'nets'] as const) {
    if (ownSide[field] !== undefined && ownSide[field] !== null) {
      d.error(
        at(at(path, ownField), field),
        `Forbidden: the ${ownField} of an ${direction.toLowerCase()} rule is the policy's own endpoints (spec.selector); select them there, or use a separate policy`,
      );
    }
  }
  const sourcePorts = rule.source?.ports;
  if (sourcePorts !== undefined && sourcePorts !== null && sourcePorts.length > 0) {
    d.error(
      at(at(path, 'source'), 'ports'),
      'Forbidden: source ports are not supported; destination.ports are the ports traffic goes to',
    );
  }

  const ports = compilePorts(rule.destination?.ports, protocol, at(at(path, 'destination'), 'ports'), d);
  const peer = compilePeer(peerSide, at(path, peerField), namespace, protocol, d);
  if (action !== 'Allow' && action !== 'Deny') return null;
  return { action, protocol, ports, icmp, peers: peer === 'any' ? null : peer === null ? [] : [peer], path };
}

function compileIcmp(rule: FnpRule, protocol: Protocol | null, path: string, d: Diagnostics): IcmpMatch | null {
  const icmp = rule.icmp;
  if (icmp === undefined || icmp === null) return null;
  const icmpPath = at(path, 'icmp');
  if (!isIcmp(protocol)) {
    d.error(icmpPath, 'Forbidden: icmp needs protocol ICMP or ICMPv6');
  }
  const type = icmp.type ?? null;
  const code = icmp.code ?? null;
  if (type === null) {
    if (code !== null) d.fail(at(icmpPath, 'type'), 'Required value: a code needs its type');
    return null;
  }
  if (!Number.isInteger(type) || type < 0 || type > 254) {
    d.fail(at(icmpPath, 'type'), `Invalid value: ${type}: an ICMP type must be from 0 to 254`);
  }
  if (code !== null && (!Number.isInteger(code) || code < 0 || code > 255)) {
    d.fail(at(icmpPath, 'code'), `Invalid value: ${code}: an ICMP code must be from 0 to 255`);
  }
  return { type, code };
}

function compilePorts(
  ports: readonly (number | string)[] | null | undefined,
  protocol: Protocol | null,
  path: string,
  d: Diagnostics,
): PortMatch[] {
  if (ports === undefined || ports === null || ports.length === 0) return [];
  if (!protocolHasPorts(protocol)) {
    d.error(
      path,
      protocol === null
        ? "Forbidden: ports need a protocol: set the rule's protocol to TCP, UDP, SCTP or UDPLite"
        : `Forbidden: protocol ${protocol} has no ports; ports apply to TCP, UDP, SCTP and UDPLite`,
    );
  }
  return ports.flatMap((p, i) => parseFnpPort(p, item(path, i), d) ?? []);
}

/** The rule's other side: 'any' when it says nothing, null when it cannot be read. */
function compilePeer(
  entity: FnpEntity,
  path: string,
  namespace: string,
  protocol: Protocol | null,
  d: Diagnostics,
): Peer | 'any' | null {
  const hasSelector = entity.selector !== undefined && entity.selector !== null;
  const hasNsSelector = entity.namespaceSelector !== undefined && entity.namespaceSelector !== null;
  const nets = entity.nets ?? [];
  if (nets.length > 0) {
    if (hasSelector || hasNsSelector) {
      d.fail(
        path,
        'Forbidden: a peer selects endpoints (selector, namespaceSelector) or addresses (nets), not both; write two rules',
      );
      return null;
    }
    return compileNets(nets, at(path, 'nets'), protocol, d);
  }
  if (!hasSelector && !hasNsSelector) return 'any';

  const selectorPath = at(path, 'selector');
  const selector = hasSelector ? compileSelectorText(entity.selector!, selectorPath, d) : all();
  const nsPath = at(path, 'namespaceSelector');
  const nsSelector = hasNsSelector ? compileSelectorText(entity.namespaceSelector!, nsPath, d) : null;
  if (selector === null || (hasNsSelector && nsSelector === null)) return null;

  for (const [node, p] of [
    [selector, selectorPath],
    [nsSelector, nsPath],
  ] as const) {
    if (node === null) continue;
    checkClusterNames(node, p, d);
    warnNegativeClusterTerms(node, p, d);
    warnMatchesNothing(node, p, 'the peer can never match', d);
  }
  if (nsSelector !== null && containsGlobal(nsSelector)) {
    d.fail(
      nsPath,
      'Forbidden: global() (non-namespaced endpoints) is not supported here; use all() for every namespace',
    );
    return null;
  }
  return endpointPeer(selector, nsSelector, namespace, path, d);
}

function compileNets(nets: readonly string[], path: string, protocol: Protocol | null, d: Diagnostics): Peer | null {
  const out: NetMatch[] = [];
  const families = new Set<4 | 6>();
  nets.forEach((text, i) => {
    const p = parseCidr(text);
    if (!p.ok) {
      d.fail(item(path, i), `Invalid value: ${JSON.stringify(text)}: ${p.reason}`);
      return;
    }
    const canonical = formatCidr(p.cidr);
    if (p.cidr.hadHostBits) {
      d.warn(item(path, i), `${JSON.stringify(text)} has host bits set: it means ${canonical}`);
    }
    families.add(p.cidr.family);
    out.push({ cidr: canonical, except: [] });
  });
  const wrongFamily = protocol === 'ICMP' ? 6 : protocol === 'ICMPv6' ? 4 : null;
  if (wrongFamily !== null && families.size === 1 && families.has(wrongFamily)) {
    d.warn(path, `the rule can never match: protocol ${protocol} never carries IPv${wrongFamily} traffic`);
  }
  return out.length === nets.length ? { kind: 'nets', nets: out, path: path.slice(0, -'.nets'.length) } : null;
}

function warnMatchesNothing(node: SelectorNode, path: string, consequence: string, d: Diagnostics): void {
  if (node.kind === 'not' && (node.operand.kind === 'all' || node.operand.kind === 'global')) {
    d.warn(path, `${canonicalSelector(node)} matches nothing: ${consequence}`);
  }
}

function containsGlobal(node: SelectorNode): boolean {
  switch (node.kind) {
    case 'global':
      return true;
    case 'not':
      return containsGlobal(node.operand);
    case 'and':
    case 'or':
      return node.operands.some(containsGlobal);
    default:
      return false;
  }
}
