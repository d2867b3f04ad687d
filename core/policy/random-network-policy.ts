// Random NetworkPolicies for property tests: near-valid ones, each part drawn from good choices or, now and then,
// from a bad or unusual one (invalid keys and values, cluster terms of every kind, bad CIDRs and ports, IPv6), so
// that a run holds plain policies and policies that are wrong in one place. Fields have their API types, as a
// policy that passed the webhook's shape check has.

import { CLUSTER_LABEL } from '../selector/cluster-scope.js';
import type { LabelSelector, LabelSelectorRequirement } from '../selector/label-selector.js';
import type { NetworkPolicyObject, NetworkPolicyPeer, NetworkPolicyPort } from './compile-network-policy.js';

const GOOD_KEYS = ['app', 'tier', 'team', 'example.com/role', CLUSTER_LABEL];
const BAD_KEYS = ['Bad Key', '-x', 'a/b/c', '', `${'k'.repeat(64)}`];
const GOOD_VALUES = ['web', 'db', 'cache', '', 'west', 'north', 'east', 'v1.2'];
const BAD_VALUES = ['Bad Value', '-x', 'south', 'West', 'bad_name', 'a.', 'x'.repeat(63)];
const GOOD_OPERATORS = ['In', 'In', 'Exists'];
const BAD_OPERATORS = ['NotIn', 'DoesNotExist', 'Equals'];
const GOOD_CIDRS = ['10.0.0.0/8', '10.1.0.0/16', '192.168.1.0/24', '0.0.0.0/0'];
const BAD_CIDRS = ['10.0.0.1/8', 'fd00::/64', 'bad', '10.0.0.0/33', '10.0.0.0'];
const GOOD_EXCEPTS = ['10.96.0.0/12', '10.1.2.0/24', '192.168.1.128/25'];
const BAD_EXCEPTS = ['10.0.0.0/8', 'fd00::/80', 'x', '11.0.0.0/8', '192.168.1.0/24'];
const GOOD_PROTOCOLS = [undefined, 'TCP', 'UDP', 'SCTP'];
const BAD_PROTOCOLS = ['tcp', 'ICMP', '6', 'bogus'];
const GOOD_PORTS = [undefined, 80, 443, 65535, 'http', 'metrics', 'dns-tcp'];
const BAD_PORTS = [0, 65536, 8.5, 'HTTP', 'a--b', '-web', 'longer-than-15-chars', '80'];
const GOOD_END_PORTS = [undefined, undefined, undefined, 65535];
const BAD_END_PORTS = [90, 70, 70000];

export function randomNetworkPolicy(random: () => number, index: number): NetworkPolicyObject {
  // How often a part is drawn from the good choices: some policies are nearly all good, others often wrong.
  const quality = random() < 0.5 ? 0.97 : 0.8;
  const below = (n: number) => Math.floor(random() * n);
  const choose = <T>(good: readonly T[], bad: readonly T[]): T => {
    const from = random() < quality ? good : bad;
    return from[below(from.length)]!;
  };
  const values = (): string[] => Array.from({ length: below(3) + (random() < quality ? 1 : 0) }, () => value());
  const value = () => choose(GOOD_VALUES, BAD_VALUES);
  const selector = (): LabelSelector => {
    const s: { matchLabels?: Record<string, string>; matchExpressions?: LabelSelectorRequirement[] } = {};
    if (random() < 0.7) {
      s.matchLabels = {};
      for (let i = below(3); i > 0; i--) s.matchLabels[choose(GOOD_KEYS, BAD_KEYS)] = value();
    }
    if (random() < 0.5) {
      s.matchExpressions = Array.from({ length: below(3) }, () => {
        const operator = choose(GOOD_OPERATORS, BAD_OPERATORS);
        const list = operator === 'In' || operator === 'NotIn' ? values() : random() < quality ? [] : values();
        return list.length === 0 && random() < 0.5
          ? { key: choose(GOOD_KEYS, BAD_KEYS), operator }
          : { key: choose(GOOD_KEYS, BAD_KEYS), operator, values: list };
      });
    }
    return s;
  };
  const peer = (): NetworkPolicyPeer => {
    const kind = choose(['pods', 'namespaces', 'both', 'ipBlock'], ['empty', 'ipBlock+pods']);
    switch (kind) {
      case 'pods':
        return { podSelector: selector() };
      case 'namespaces':
        return { namespaceSelector: selector() };
      case 'both':
        return { podSelector: selector(), namespaceSelector: selector() };
      case 'ipBlock':
        return { ipBlock: ipBlock() };
      case 'ipBlock+pods':
        return { ipBlock: ipBlock(), podSelector: selector() };
      default:
        return {};
    }
  };
  const ipBlock = () => {
    const cidr = choose(GOOD_CIDRS, BAD_CIDRS);
    if (random() < 0.5) return { cidr };
    return { cidr, except: Array.from({ length: below(3) }, () => choose(GOOD_EXCEPTS, BAD_EXCEPTS)) };
  };
  const port = (): NetworkPolicyPort => {
    const p: { protocol?: string; port?: number | string; endPort?: number } = {};
    const protocol = choose<string | undefined>(GOOD_PROTOCOLS, BAD_PROTOCOLS);
    if (protocol !== undefined) p.protocol = protocol;
    const number = choose<number | string | undefined>(GOOD_PORTS, BAD_PORTS);
    if (number !== undefined) p.port = number;
    const end = choose<number | undefined>(
      typeof number === 'number' ? GOOD_END_PORTS : [undefined],
      typeof number === 'number' ? BAD_END_PORTS : [80],
    );
    if (end !== undefined) p.endPort = end;
    return p;
  };
  const list = <T>(make: () => T): T[] | undefined =>
    random() < 0.2 ? undefined : Array.from({ length: below(4) }, make);
  return {
    metadata: { name: `p-${index}`, namespace: 'shop' },
    spec: {
      ...(random() < 0.8 ? { podSelector: selector() } : {}),
      ...(random() < 0.5 ? { policyTypes: ['Ingress', 'Egress'] } : {}),
      ingress: Array.from({ length: below(3) }, () => ({ from: list(peer), ports: list(port) })),
      egress: Array.from({ length: below(3) }, () => ({ to: list(peer), ports: list(port) })),
    },
  };
}
