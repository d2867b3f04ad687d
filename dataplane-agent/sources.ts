// The objects the agent watches, shape-checked and reduced to what the calculations read. Remote workloads and
// nodes are written by other clusters' admins: they are checked against a schema (ajv) and every address is
// parsed; an object that fails is refused with the reason (the agent drops it, treated as absent, and counts it),
// never half-used.

import { isIPv6 } from 'node:net';
import Ajv, { type ValidateFunction } from 'ajv';
import { isStatus } from '../core/kube/rest-client.js';
import { parseIpv4, parseIpv4Cidr } from './ipv4.js';
import type { RemoteNode } from './overlay/calc.js';
import type { Endpoint, EndpointPort } from './policy/calc.js';

const ajv = new Ajv.default({ allErrors: false });

const labels = { type: 'object', additionalProperties: { type: 'string', maxLength: 63 }, maxProperties: 256 } as const;
const name = { type: 'string', minLength: 1, maxLength: 253 } as const;
const ports = {
  type: 'array',
  maxItems: 256,
  items: {
    type: 'object',
    required: ['port'],
    properties: {
      name: { type: 'string', maxLength: 15 },
      port: { type: 'integer', minimum: 1, maximum: 65535 },
      protocol: { enum: ['TCP', 'UDP', 'SCTP'] },
    },
  },
} as const;

const remoteWorkloadSchema = {
  type: 'object',
  required: ['metadata', 'spec'],
  properties: {
    metadata: { type: 'object', required: ['name', 'namespace'], properties: { name, namespace: name, labels } },
    spec: {
      type: 'object',
      required: ['cluster', 'podName', 'ips'],
      properties: {
        cluster: name,
        podName: name,
        nodeName: { type: 'string', maxLength: 253 },
        ips: { type: 'array', maxItems: 8, items: { type: 'string', maxLength: 45 } },
        ports,
      },
    },
  },
} as const;

const remoteNodeSchema = {
  type: 'object',
  required: ['metadata', 'spec'],
  properties: {
    metadata: { type: 'object', required: ['name'], properties: { name } },
    spec: {
      type: 'object',
      required: ['cluster', 'nodeName'],
      properties: {
        cluster: name,
        nodeName: name,
        addresses: {
          type: 'array',
          maxItems: 32,
          items: {
            type: 'object',
            properties: { type: { type: 'string' }, address: { type: 'string', maxLength: 45 } },
          },
        },
        podCIDRs: { type: 'array', maxItems: 8, items: { type: 'string', maxLength: 49 } },
        vtep: { type: 'object', properties: { address: { type: 'string' }, mac: { type: 'string' } } },
      },
    },
  },
} as const;

const validWorkload = ajv.compile(remoteWorkloadSchema);
const validNode = ajv.compile(remoteNodeSchema);

/** Why an external object is not used. Its text names only our schema and our cluster, never what the object holds. */
export interface Refusal {
  readonly refused: string;
}

export function isRefusal(x: unknown): x is Refusal {
  return typeof x === 'object' && x !== null && 'refused' in x;
}

/** The first schema error as the schema's path and ajv's message: neither quotes the object's values. */
function schemaRefusal(kind: string, validate: ValidateFunction): Refusal {
  const e = validate.errors?.[0];
  return { refused: `does not match the ${kind} schema${e ? ` (${e.schemaPath}: ${e.message ?? 'invalid'})` : ''}` };
}

interface RawWorkload {
  metadata: { name: string; namespace: string; labels?: Record<string, string> };
  spec: { cluster: string; podName: string; nodeName?: string; ips: string[]; ports?: RawPort[] };
}
interface RawPort {
  name?: string;
  port: number;
  protocol?: 'TCP' | 'UDP' | 'SCTP';
}
interface RawRemoteNode {
  metadata: { name: string };
  spec: {
    cluster: string;
    nodeName: string;
    addresses?: { type?: string; address?: string }[];
    podCIDRs?: string[];
    vtep?: { address?: string; mac?: string };
  };
}

function namedPorts(list: readonly RawPort[] | undefined): EndpointPort[] {
  return (list ?? [])
    .filter((p) => p.name)
    .map((p) => ({ name: p.name ?? '', port: p.port, protocol: p.protocol ?? 'TCP' }));
}

const ipv4Only = (ips: readonly string[]) => ips.filter((ip) => parseIpv4(ip) !== undefined);
/** An IPv6 address nft can take as it is: no zone (`%eth0`), nothing but hex digits, colons and dots. */
const isPlainIpv6 = (ip: string) => ip.length <= 45 && /^[0-9a-fA-F:.]+$/.test(ip) && isIPv6(ip);

/** A RemoteWorkload of the federation API as an endpoint; refused when it fails the checks or claims this cluster. */
export function remoteWorkloadEndpoint(obj: unknown, localCluster: string): Endpoint | Refusal {
  if (!validWorkload(obj)) return schemaRefusal('RemoteWorkload', validWorkload);
  const w = obj as unknown as RawWorkload;
  if (w.spec.cluster === localCluster) return { refused: `claims to be of this cluster (${localCluster})` };
  const { 'fedmesh.io/cluster': _cluster, ...podLabels } = w.metadata.labels ?? {};
  return {
    cluster: w.spec.cluster,
    namespace: w.metadata.namespace,
    name: w.spec.podName,
    nodeName: w.spec.nodeName ?? '',
    // Each address once: a remote cluster listing one twice would otherwise add it to a selection twice and take it
    // out once (the calculation drops repeats too).
    ips: [...new Set(ipv4Only(w.spec.ips))],
    labels: podLabels,
    ports: namedPorts(w.spec.ports),
  };
}

/**
 * A RemoteNode of the federation API as a tunnel entry; refused when it fails the checks or claims this cluster;
 * undefined when it has no InternalIP or VTEP (no agent publishes one there: nothing to tunnel to, not an error).
 */
export function remoteNodeEntry(obj: unknown, localCluster: string): RemoteNode | Refusal | undefined {
  if (!validNode(obj)) return schemaRefusal('RemoteNode', validNode);
  const n = obj as unknown as RawRemoteNode;
  if (n.spec.cluster === localCluster) return { refused: `claims to be of this cluster (${localCluster})` };
  const nodeIP = n.spec.addresses?.find((a) => a.type === 'InternalIP')?.address;
  if (!nodeIP || !n.spec.vtep?.address || !n.spec.vtep.mac) return undefined;
  return {
    cluster: n.spec.cluster,
    name: n.spec.nodeName,
    nodeIP,
    podCIDRs: n.spec.podCIDRs ?? [],
    vtepIP: n.spec.vtep.address,
    vtepMAC: n.spec.vtep.mac,
  };
}

interface RawPod {
  metadata?: { name?: string; namespace?: string; labels?: Record<string, string> };
  spec?: {
    nodeName?: string;
    hostNetwork?: boolean;
    containers?: { ports?: { name?: string; containerPort?: number; protocol?: string }[] }[];
  };
  status?: { phase?: string; podIP?: string; podIPs?: { ip?: string }[] };
}

/** A local pod with an IP (not host network, not finished) as an endpoint. */
export function podEndpoint(obj: unknown, localCluster: string): Endpoint | undefined {
  const p = obj as RawPod;
  const name = p.metadata?.name;
  const namespace = p.metadata?.namespace;
  if (!name || !namespace || p.spec?.hostNetwork) return undefined;
  if (p.status?.phase === 'Succeeded' || p.status?.phase === 'Failed') return undefined;
  const all = (p.status?.podIPs ?? []).map((x) => x.ip ?? '').concat(p.status?.podIP ? [p.status.podIP] : []);
  const unique = [...new Set(ipv4Only(all))];
  const ipv6 = [...new Set(all.filter(isPlainIpv6))];
  if (unique.length === 0 && ipv6.length === 0) return undefined;
  const ports: RawPort[] = (p.spec?.containers ?? []).flatMap((c) =>
    (c.ports ?? []).map((q) => ({
      ...(q.name ? { name: q.name } : {}),
      port: q.containerPort ?? 0,
      protocol: (q.protocol ?? 'TCP') as 'TCP',
    })),
  );
  return {
    cluster: localCluster,
    namespace,
    name,
    nodeName: p.spec?.nodeName ?? '',
    ips: unique,
    ...(ipv6.length > 0 ? { ipv6 } : {}),
    labels: p.metadata?.labels ?? {},
    ports: namedPorts(ports.filter((q) => q.port >= 1 && q.port <= 65535)),
  };
}

interface RawNode {
  spec?: { podCIDR?: unknown; podCIDRs?: unknown };
  status?: { addresses?: unknown };
}

/**
 * The networks a local Node holds, as CIDRs: its IPv4 pod CIDRs and its IPv4 addresses (as /32). No remote pod may
 * claim them (policy) and no remote route may cover them (overlay). What is not an IPv4 network is left out.
 */
export function localNodeNetworks(obj: unknown): string[] {
  const n = obj as RawNode;
  const texts = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);
  const cidrs = [...texts(n.spec?.podCIDRs), ...(typeof n.spec?.podCIDR === 'string' ? [n.spec.podCIDR] : [])];
  const addresses = Array.isArray(n.status?.addresses)
    ? (n.status.addresses as unknown[]).flatMap((a) => {
        const address = (a as { address?: unknown } | null)?.address;
        return typeof address === 'string' && parseIpv4(address) !== undefined ? [`${address}/32`] : [];
      })
    : [];
  return [...new Set([...cidrs.filter((c) => parseIpv4Cidr(c) !== undefined), ...addresses])].sort();
}

/** overlayRoutingMode of a RemoteClusterConfiguration: the remote cluster's name and whether it is Enabled. */
export function rccOverlay(obj: unknown): { cluster: string; enabled: boolean } | undefined {
  const r = obj as { metadata?: { name?: string }; spec?: { overlayRoutingMode?: string } };
  const cluster = r.metadata?.name;
  if (!cluster) return undefined;
  return { cluster, enabled: r.spec?.overlayRoutingMode === 'Enabled' };
}

/**
 * Whether a watched collection that is not served (404: its CRD is not installed) counts as listed and empty. Only
 * RemoteClusterConfigurations do: without them no remote cluster has its overlay enabled, which routes nothing and
 * opens nothing. FederatedNetworkPolicies never do: a kube-apiserver that has just started serves custom resources
 * a moment after the built-in ones, and taking that 404 for "none" would drop their rules from a restarting node
 * (the pods they alone select would go unfiltered). The agent waits for them as for any other source.
 */
export function notServedMeansNone(source: string, error: unknown): boolean {
  return source === 'rccs' && isStatus(error, 404);
}
