// NetworkPolicy and FederatedNetworkPolicy objects -> DataplanePolicy, with the scope rules of fedmesh: the main
// selector selects endpoints of the local cluster in the policy's namespace; a peer that does not mention
// fedmesh.io/cluster selects local endpoints only; a peer without a namespaceSelector selects the policy's
// namespace, linked by name in every cluster it reaches. Pure: a shape error is returned, never thrown.

import { all, and, has, type SelectorNode } from '../../core/selector/ast.js';
import { mentionsClusterLabel } from '../../core/selector/cluster-scope.js';
import { compileLabelSelector, type LabelSelector } from '../../core/selector/label-selector.js';
import { parseSelector } from '../../core/selector/parser.js';
import { inCluster, inNamespace, NAMESPACE_LABELS_KNOWN, onNamespaceLabels } from './endpoint-labels.js';
import type { DataplanePolicy, Direction, PolicyRule, RuleAction, RulePeer, RulePort, RuleProtocol } from './model.js';

export type CompileResult = { readonly policy: DataplanePolicy } | { readonly error: string };

/** Kubernetes NetworkPolicies sit at order 1000 of the default tier, as in Calico. */
export const networkPolicyOrder = 1000;
/** FederatedNetworkPolicies without an order come after every ordered one (Calico: "infinite" order). */
export const unorderedPolicyOrder = Number.MAX_SAFE_INTEGER;

const l4 = new Set(['TCP', 'UDP', 'SCTP']);
const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

class ShapeError extends Error {}

function fail(path: string, what: string): never {
  throw new ShapeError(`${path}: ${what}`);
}

function meta(obj: unknown): { namespace: string; name: string; spec: Record<string, unknown> } {
  if (!isRecord(obj) || !isRecord(obj.metadata)) fail('metadata', 'missing');
  const { namespace, name } = obj.metadata as Record<string, unknown>;
  if (typeof namespace !== 'string' || typeof name !== 'string') fail('metadata', 'namespace and name are required');
  return { namespace, name, spec: isRecord(obj.spec) ? obj.spec : {} };
}

/** A namespaceSelector over endpoint labels; all() needs no namespace labels, anything else requires them known. */
function namespaceTerm(nsSelector: SelectorNode): SelectorNode {
  return nsSelector.kind === 'all' ? all() : and([has(NAMESPACE_LABELS_KNOWN), onNamespaceLabels(nsSelector)]);
}

function peerSelector(
  pod: SelectorNode,
  nsSelector: SelectorNode | undefined,
  namespace: string,
  cluster: string,
): SelectorNode {
  const terms = [pod, nsSelector ? namespaceTerm(nsSelector) : inNamespace(namespace)];
  if (!mentionsClusterLabel(pod)) terms.push(inCluster(cluster));
  return and(terms);
}

function label(v: unknown, path: string): SelectorNode {
  if (!isRecord(v)) fail(path, 'must be a LabelSelector object');
  try {
    return compileLabelSelector(v as LabelSelector, path);
  } catch (err) {
    fail(path, err instanceof Error ? err.message : String(err));
  }
}

function expression(v: unknown, path: string): SelectorNode {
  if (typeof v !== 'string') fail(path, 'must be a selector expression string');
  try {
    return parseSelector(v);
  } catch (err) {
    fail(path, err instanceof Error ? err.message : String(err));
  }
}

function validPort(n: unknown, path: string): number {
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > 65535) fail(path, 'must be a port 1-65535');
  return n;
}

function cidrs(v: unknown, path: string): string[] {
  return list(v).map((c, i) => {
    if (typeof c !== 'string' || !/^\d{1,3}(\.\d{1,3}){3}\/\d{1,2}$/.test(c))
      fail(`${path}[${i}]`, 'must be an IPv4 CIDR');
    return c;
  });
}

/** Kubernetes NetworkPolicy (networking.k8s.io/v1). */
export function compileNetworkPolicy(obj: unknown, localCluster: string): CompileResult {
  try {
    const { namespace, name, spec } = meta(obj);
    const selector = and([
      inCluster(localCluster),
      inNamespace(namespace),
      label(spec.podSelector ?? {}, 'spec.podSelector'),
    ]);
    const declared = list(spec.policyTypes).map((t) => (t === 'Egress' ? 'egress' : 'ingress'));
    const types: Direction[] =
      declared.length > 0 ? [...new Set(declared)] : spec.egress !== undefined ? ['ingress', 'egress'] : ['ingress'];
    const rules = (field: 'ingress' | 'egress', peersField: 'from' | 'to'): PolicyRule[] =>
      list(spec[field]).map((raw, i) => {
        const at = `spec.${field}[${i}]`;
        const r = isRecord(raw) ? raw : {};
        const peers: RulePeer[] = list(r[peersField]).map((p, j) => {
          const pat = `${at}.${peersField}[${j}]`;
          if (!isRecord(p)) fail(pat, 'must be an object');
          if (isRecord(p.ipBlock)) {
            const nets = cidrs([p.ipBlock.cidr], `${pat}.ipBlock.cidr`);
            return { kind: 'nets', nets, except: cidrs(p.ipBlock.except, `${pat}.ipBlock.except`) };
          }
          const pod = p.podSelector === undefined ? all() : label(p.podSelector, `${pat}.podSelector`);
          const ns =
            p.namespaceSelector === undefined ? undefined : label(p.namespaceSelector, `${pat}.namespaceSelector`);
          return { kind: 'selector', selector: peerSelector(pod, ns, namespace, localCluster) };
        });
        const ports: RulePort[] = list(r.ports).map((p, j) => {
          const pat = `${at}.ports[${j}]`;
          const q = isRecord(p) ? p : {};
          const protocol = (q.protocol ?? 'TCP') as string;
          if (!l4.has(protocol)) fail(`${pat}.protocol`, 'must be TCP, UDP or SCTP');
          const proto = protocol as 'TCP' | 'UDP' | 'SCTP';
          if (q.port === undefined) return { protocol: proto, port: 1, endPort: 65535 };
          if (typeof q.port === 'string' && !/^\d+$/.test(q.port)) return { protocol: proto, name: q.port };
          const port = validPort(Number(q.port), `${pat}.port`);
          const endPort = q.endPort === undefined ? port : validPort(q.endPort, `${pat}.endPort`);
          return { protocol: proto, port, endPort };
        });
        return { action: 'Allow', ports, peers };
      });
    return {
      policy: {
        key: `NetworkPolicy/${namespace}/${name}`,
        order: networkPolicyOrder,
        selector,
        types,
        ingress: types.includes('ingress') ? rules('ingress', 'from') : [],
        egress: types.includes('egress') ? rules('egress', 'to') : [],
      },
    };
  } catch (err) {
    if (err instanceof ShapeError) return { error: err.message };
    throw err;
  }
}

/** Calico-style ports: numbers, "from:to" ranges, or names. */
function fnpPorts(v: unknown, protocol: RuleProtocol | undefined, path: string): RulePort[] {
  return list(v).map((p, i) => {
    if (protocol === undefined || protocol === 'ICMP') fail(path, 'ports need protocol TCP, UDP or SCTP');
    if (typeof p === 'number') return { protocol, port: validPort(p, `${path}[${i}]`), endPort: p };
    if (typeof p !== 'string') fail(`${path}[${i}]`, 'must be a number, "from:to" or a port name');
    const range = /^(\d+):(\d+)$/.exec(p);
    if (range) {
      const port = validPort(Number(range[1]), `${path}[${i}]`);
      const endPort = validPort(Number(range[2]), `${path}[${i}]`);
      if (endPort < port) fail(`${path}[${i}]`, 'range ends before it starts');
      return { protocol, port, endPort };
    }
    if (/^\d+$/.test(p)) return { protocol, port: validPort(Number(p), `${path}[${i}]`), endPort: Number(p) };
    return { protocol, name: p };
  });
}

function fnpPeer(v: unknown, path: string, namespace: string, cluster: string): RulePeer | undefined {
  if (!isRecord(v)) return undefined;
  const hasSel = v.selector !== undefined || v.namespaceSelector !== undefined;
  const nets = v.nets === undefined ? undefined : cidrs(v.nets, `${path}.nets`);
  if (hasSel && nets) fail(path, 'selectors and nets together are not supported by the dataplane; use two rules');
  if (nets) return { kind: 'nets', nets, except: cidrs(v.notNets, `${path}.notNets`) };
  if (!hasSel) return undefined;
  const pod = v.selector === undefined ? all() : expression(v.selector, `${path}.selector`);
  const ns =
    v.namespaceSelector === undefined ? undefined : expression(v.namespaceSelector, `${path}.namespaceSelector`);
  return { kind: 'selector', selector: peerSelector(pod, ns, namespace, cluster) };
}

/** FederatedNetworkPolicy (fedmesh.io/v1alpha1): Calico's NetworkPolicy shape with Allow and Deny. */
export function compileFederatedNetworkPolicy(obj: unknown, localCluster: string): CompileResult {
  try {
    const { namespace, name, spec } = meta(obj);
    const selector = and([
      inCluster(localCluster),
      inNamespace(namespace),
      spec.selector === undefined ? all() : expression(spec.selector, 'spec.selector'),
    ]);
    const declared = list(spec.types).map((t) => (t === 'Egress' ? 'egress' : 'ingress'));
    const types: Direction[] =
      declared.length > 0 ? [...new Set(declared)] : spec.egress !== undefined ? ['ingress', 'egress'] : ['ingress'];
    const rules = (dir: Direction): PolicyRule[] =>
      list(spec[dir]).map((raw, i) => {
        const at = `spec.${dir}[${i}]`;
        if (!isRecord(raw)) fail(at, 'must be an object');
        const action = raw.action as RuleAction;
        if (action !== 'Allow' && action !== 'Deny') fail(`${at}.action`, 'must be Allow or Deny');
        const protocol = raw.protocol as RuleProtocol | undefined;
        if (protocol !== undefined && !['TCP', 'UDP', 'SCTP', 'ICMP'].includes(protocol)) {
          fail(`${at}.protocol`, 'must be TCP, UDP, SCTP or ICMP');
        }
        const peerSide = dir === 'ingress' ? 'source' : 'destination';
        const peer = fnpPeer(raw[peerSide], `${at}.${peerSide}`, namespace, localCluster);
        const dest = isRecord(raw.destination) ? raw.destination : {};
        return {
          action,
          ...(protocol ? { protocol } : {}),
          ports: fnpPorts(dest.ports, protocol, `${at}.destination.ports`),
          peers: peer ? [peer] : [],
        };
      });
    const order = spec.order === undefined ? unorderedPolicyOrder : spec.order;
    if (typeof order !== 'number' || !Number.isFinite(order)) fail('spec.order', 'must be a number');
    return {
      policy: {
        key: `FederatedNetworkPolicy/${namespace}/${name}`,
        order,
        selector,
        types,
        ingress: types.includes('ingress') ? rules('ingress') : [],
        egress: types.includes('egress') ? rules('egress') : [],
      },
    };
  } catch (err) {
    if (err instanceof ShapeError) return { error: err.message };
    throw err;
  }
}
