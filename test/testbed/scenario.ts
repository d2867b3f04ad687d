import Ajv from 'ajv';
import { type Cidr, cidrSize, contains, formatCidr, formatIpv4, parseCidr, parseIpv4, subnet } from './ipv4.js';

/**
 * A scenario describes what kubelets and users would have created in a cluster: namespaces, service
 * accounts, nodes, services and pods with their status. `count` expands an entry into NAME-0 … NAME-(N-1).
 * Documented in docs/testbed.md.
 */
export interface Scenario {
  /** Pod network of the cluster; nodes without `podCIDR` get consecutive /24s from it. Default 10.244.0.0/16. */
  podCIDR?: string;
  /** Node addresses; nodes without `internalIP` get consecutive addresses from it. Default 172.18.0.0/16. */
  nodeCIDR?: string;
  namespaces?: { name: string; labels?: Record<string, string> }[];
  serviceAccounts?: { namespace: string; name: string }[];
  nodes?: {
    name: string;
    count?: number;
    labels?: Record<string, string>;
    podCIDR?: string;
    internalIP?: string;
    ready?: boolean;
  }[];
  services?: {
    namespace: string;
    name: string;
    selector?: Record<string, string>;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    type?: 'ClusterIP' | 'NodePort' | 'LoadBalancer' | 'ExternalName';
    clusterIP?: string;
    externalName?: string;
    ports?: { name?: string; port: number; targetPort?: number | string; protocol?: 'TCP' | 'UDP' | 'SCTP' }[];
  }[];
  pods?: {
    namespace: string;
    name: string;
    count?: number;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    node?: string;
    ip?: string;
    ready?: boolean;
    phase?: 'Pending' | 'Running' | 'Succeeded' | 'Failed';
    serviceAccount?: string;
    hostNetwork?: boolean;
    ports?: { name?: string; containerPort: number; protocol?: 'TCP' | 'UDP' | 'SCTP' }[];
  }[];
}

const labels = { type: 'object', additionalProperties: { type: 'string' } } as const;
const name = { type: 'string', minLength: 1 } as const;
const protocol = { enum: ['TCP', 'UDP', 'SCTP'] } as const;

/** An array of objects with exactly these properties (unknown fields are typos, and errors). */
const strictList = (required: readonly string[], properties: Record<string, unknown>) =>
  ({ type: 'array', items: { type: 'object', additionalProperties: false, required, properties } }) as const;
const port = { type: 'integer', minimum: 1, maximum: 65535 } as const;
const bool = { type: 'boolean' } as const;
const str = { type: 'string' } as const;

const schema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    podCIDR: str,
    nodeCIDR: str,
    namespaces: strictList(['name'], { name, labels }),
    serviceAccounts: strictList(['namespace', 'name'], { namespace: name, name }),
    nodes: strictList(['name'], {
      name,
      count: { type: 'integer', minimum: 1 },
      labels,
      podCIDR: str,
      internalIP: str,
      ready: bool,
    }),
    services: strictList(['namespace', 'name'], {
      namespace: name,
      name,
      selector: labels,
      labels,
      annotations: labels,
      type: { enum: ['ClusterIP', 'NodePort', 'LoadBalancer', 'ExternalName'] },
      clusterIP: str,
      externalName: str,
      ports: strictList(['port'], {
        name: str,
        port,
        targetPort: { anyOf: [{ type: 'integer' }, { type: 'string' }] },
        protocol,
      }),
    }),
    pods: strictList(['namespace', 'name'], {
      namespace: name,
      name,
      count: { type: 'integer', minimum: 1 },
      labels,
      annotations: labels,
      node: str,
      ip: str,
      ready: bool,
      phase: { enum: ['Pending', 'Running', 'Succeeded', 'Failed'] },
      serviceAccount: str,
      hostNetwork: bool,
      ports: strictList(['containerPort'], { name: str, containerPort: port, protocol }),
    }),
  },
} as const;

const ajv = new Ajv.default({ allErrors: true });
const validateSchema = ajv.compile(schema);

export class ScenarioError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ScenarioError';
  }
}

/** Checks the shape of a parsed scenario; every problem is listed with its path. */
export function validateScenario(doc: unknown): Scenario {
  if (!validateSchema(doc)) {
    const problems = (validateSchema.errors ?? []).map((e) => {
      const where = e.instancePath === '' ? '(top level)' : e.instancePath.slice(1).replaceAll('/', '.');
      const extra = e.keyword === 'additionalProperties' ? ` "${String(e.params.additionalProperty)}"` : '';
      const allowed = e.keyword === 'enum' ? ` (${(e.params.allowedValues as unknown[]).join(', ')})` : '';
      return `  ${where}: ${e.message}${extra}${allowed}`;
    });
    throw new ScenarioError(`invalid scenario:\n${problems.join('\n')}`);
  }
  return doc as Scenario;
}

export interface NodeObject {
  name: string;
  labels: Record<string, string>;
  podCIDR: string;
  internalIP: string;
  ready: boolean;
}

export interface PodObject {
  namespace: string;
  name: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  node: string | undefined;
  hostIP: string | undefined;
  ip: string | undefined;
  ready: boolean;
  phase: 'Pending' | 'Running' | 'Succeeded' | 'Failed';
  serviceAccount: string | undefined;
  hostNetwork: boolean;
  ports: { name?: string; containerPort: number; protocol?: string }[];
}

export interface ExpandedScenario {
  namespaces: { name: string; labels: Record<string, string> }[];
  serviceAccounts: { namespace: string; name: string }[];
  nodes: NodeObject[];
  services: NonNullable<Scenario['services']>;
  pods: PodObject[];
}

function expandNames(entryName: string, count: number | undefined): string[] {
  if (count === undefined) return [entryName];
  return Array.from({ length: count }, (_, i) => `${entryName}-${i}`);
}

function cidrOrThrow(value: string, where: string): Cidr {
  try {
    return parseCidr(value);
  } catch (err) {
    throw new ScenarioError(`${where}: ${(err as Error).message}`);
  }
}

/**
 * Expands counts and allocates what the scenario leaves open (node pod CIDRs and addresses, pod IPs from
 * their node's pod CIDR, nodes round-robin). Pure: the same scenario always gives the same objects.
 */
export function expandScenario(s: Scenario): ExpandedScenario {
  const podNet = cidrOrThrow(s.podCIDR ?? '10.244.0.0/16', 'podCIDR');
  const nodeNet = cidrOrThrow(s.nodeCIDR ?? '172.18.0.0/16', 'nodeCIDR');
  const nodes: NodeObject[] = [];
  let nextNodeSubnet = 0;
  let nextNodeIP = 1;
  for (const [i, n] of (s.nodes ?? []).entries()) {
    const names = expandNames(n.name, n.count);
    if (names.length > 1 && (n.podCIDR || n.internalIP)) {
      throw new ScenarioError(`nodes[${i}] (${n.name}): podCIDR and internalIP can only be given when count is absent`);
    }
    for (const nodeName of names) {
      let podCIDR: string;
      if (n.podCIDR) {
        podCIDR = formatCidr(cidrOrThrow(n.podCIDR, `nodes[${i}].podCIDR`));
      } else {
        try {
          podCIDR = formatCidr(subnet(podNet, Math.max(24, podNet.prefix), nextNodeSubnet++));
        } catch (err) {
          throw new ScenarioError(`node ${nodeName}: no pod CIDR left: ${(err as Error).message}`);
        }
      }
      let internalIP: string;
      if (n.internalIP) {
        internalIP = n.internalIP;
        parseIpv4(internalIP);
      } else {
        if (nextNodeIP >= cidrSize(nodeNet) - 1)
          throw new ScenarioError(`nodeCIDR ${s.nodeCIDR} has no address left for ${nodeName}`);
        internalIP = formatIpv4(nodeNet.base + nextNodeIP++);
      }
      nodes.push({ name: nodeName, labels: n.labels ?? {}, podCIDR, internalIP, ready: n.ready ?? true });
    }
  }
  const byName = new Map(nodes.map((n) => [n.name, { node: n, cidr: parseCidr(n.podCIDR), next: 1 }]));
  if (byName.size !== nodes.length) throw new ScenarioError('two nodes have the same name');
  const nodeNames = nodes.map((n) => n.name);
  const usedIPs = new Set<string>();
  const pods: PodObject[] = [];
  let rr = 0;
  for (const [i, p] of (s.pods ?? []).entries()) {
    const names = expandNames(p.name, p.count);
    if (names.length > 1 && p.ip)
      throw new ScenarioError(`pods[${i}] (${p.name}): ip can only be given when count is absent`);
    for (const podName of names) {
      const nodeName = p.node ?? (nodeNames.length > 0 ? nodeNames[rr++ % nodeNames.length] : undefined);
      const slot = nodeName === undefined ? undefined : byName.get(nodeName);
      const phase = p.phase ?? (nodeName ? 'Running' : 'Pending');
      let ip: string | undefined = p.ip;
      if (ip) parseIpv4(ip);
      else if (p.hostNetwork && slot) ip = slot.node.internalIP;
      else if (phase === 'Running') {
        if (!slot) {
          throw new ScenarioError(
            `pod ${p.namespace}/${podName}: node "${nodeName ?? '(none)'}" is not in this scenario, so no IP can be allocated; give the pod an ip, or list the node under nodes`,
          );
        }
        const size = cidrSize(slot.cidr);
        while (slot.next < size - 1 && usedIPs.has(formatIpv4(slot.cidr.base + slot.next))) slot.next++;
        if (slot.next >= size - 1) {
          throw new ScenarioError(
            `node ${slot.node.name}: pod CIDR ${slot.node.podCIDR} is full at pod ${p.namespace}/${podName}`,
          );
        }
        ip = formatIpv4(slot.cidr.base + slot.next++);
      }
      if (ip && !p.hostNetwork) {
        if (usedIPs.has(ip))
          throw new ScenarioError(`pod ${p.namespace}/${podName}: IP ${ip} is already used by another pod`);
        usedIPs.add(ip);
        if (slot && p.ip && !contains(slot.cidr, parseIpv4(ip))) {
          throw new ScenarioError(
            `pod ${p.namespace}/${podName}: IP ${ip} is outside node ${slot.node.name}'s pod CIDR ${slot.node.podCIDR}`,
          );
        }
      }
      pods.push({
        namespace: p.namespace,
        name: podName,
        labels: p.labels ?? {},
        annotations: p.annotations ?? {},
        node: nodeName,
        hostIP: slot?.node.internalIP,
        ip,
        ready: p.ready ?? phase === 'Running',
        phase,
        serviceAccount: p.serviceAccount,
        hostNetwork: p.hostNetwork ?? false,
        ports: p.ports ?? [],
      });
    }
  }
  // Every namespace that something lives in exists, even when the scenario does not list it.
  const namespaces = new Map((s.namespaces ?? []).map((n) => [n.name, { name: n.name, labels: n.labels ?? {} }]));
  for (const o of [...(s.serviceAccounts ?? []), ...(s.services ?? []), ...pods]) {
    if (!namespaces.has(o.namespace)) namespaces.set(o.namespace, { name: o.namespace, labels: {} });
  }
  return {
    namespaces: [...namespaces.values()],
    serviceAccounts: s.serviceAccounts ?? [],
    nodes,
    services: s.services ?? [],
    pods,
  };
}
