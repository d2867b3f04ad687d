// Pure conversions from Kubernetes objects to the mesh cache's slim objects (mesh-types.ts), and the equality
// that decides whether a change is real. Anything not copied here is dropped as soon as the JSON is parsed.
import type { V1EndpointSlice, V1Namespace, V1Node, V1Pod, V1Service } from '@kubernetes/client-node';
import { structurallyEqual } from '../core/json/structural-equal.js';
import { createdSeconds } from './creation-time.js';
import { hashSeed, hashString, InternTable } from './intern-table.js';
import type {
  HostEndpoint,
  LabelMap,
  MeshEndpointSlice,
  MeshNamespace,
  MeshService,
  NamedPort,
  Protocol,
  WorkloadEndpoint,
} from './mesh-types.js';
import { stableUid } from './stable-uid.js';
import { StringPool } from './string-pool.js';

export const fedmeshServiceSelectorAnnotation = 'federation.fedmesh.io/serviceSelector';
export const tigeraServiceSelectorAnnotation = 'federation.tigera.io/serviceSelector';
const serviceAnnotationsKept = [fedmeshServiceSelectorAnnotation, tigeraServiceSelectorAnnotation];

/** Node annotations that describe a VXLAN tunnel endpoint: fedmesh's own, and Calico's for a migration. */
export function isVtepAnnotation(key: string): boolean {
  return (
    key.startsWith('fedmesh.io/') ||
    key === 'projectcalico.org/IPv4VXLANTunnelAddr' ||
    key === 'projectcalico.org/IPv6VXLANTunnelAddr'
  );
}

const noLabels: LabelMap = Object.freeze({});

// Namespaces, node names, service accounts, port names and label keys repeat across thousands of pods; short label
// values (app, tier, version) too. Long values are left alone: they are mostly unique.
const strings = new StringPool();
const intern = (s: string): string => strings.intern(s);

function internLabels(labels: Record<string, string>): LabelMap {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(labels)) out[intern(k)] = v.length <= 16 ? intern(v) : v;
  return out;
}

// Whole label maps and port lists are shared too: the replicas of a workload carry equal ones.
const labelMaps = new InternTable<LabelMap>(hashLabels, sameLabels);
const portLists = new InternTable<readonly NamedPort[]>(hashPorts, samePorts);

function labelsOf(labels: Record<string, string> | undefined): LabelMap {
  if (!labels) return noLabels;
  for (const _ in labels) return labelMaps.intern(labels, internLabels);
  return noLabels;
}

export function hashLabels(labels: LabelMap): number {
  let h = hashSeed;
  for (const k in labels) h = hashString(hashString(h, k), labels[k] ?? '');
  return h;
}

/** Same keys with the same values in the same order (the order is part of what readers see). */
export function sameLabels(a: LabelMap, b: LabelMap): boolean {
  const kb = Object.keys(b);
  let i = 0;
  for (const k in a) {
    if (kb[i++] !== k || a[k] !== b[k]) return false;
  }
  return i === kb.length;
}

function hashPorts(ports: readonly NamedPort[]): number {
  let h = hashSeed;
  for (const p of ports) h = hashString(hashString(Math.imul(h ^ p.port, 0x01000193), p.name), p.protocol);
  return h;
}

function samePorts(a: readonly NamedPort[], b: readonly NamedPort[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    const x = a[i];
    const y = b[i];
    if (!x || !y || x.name !== y.name || x.port !== y.port || x.protocol !== y.protocol) return false;
  }
  return true;
}

const noPorts: readonly NamedPort[] = Object.freeze([]);

function protocolOf(p: string | undefined): Protocol {
  return p === 'UDP' || p === 'SCTP' ? p : 'TCP';
}

function pick(source: Record<string, string> | undefined, keep: (k: string) => boolean): LabelMap {
  if (!source) return noLabels;
  let out: Record<string, string> | undefined;
  for (const [k, v] of Object.entries(source)) {
    if (!keep(k)) continue;
    out ??= {};
    out[k] = v;
  }
  return out ?? noLabels;
}

/** The pod's IPs in an array of exactly their number (a pushed-to array reserves room for 16). */
function podIPsOf(pod: V1Pod): string[] {
  const list = pod.status?.podIPs ?? [];
  let n = 0;
  for (const p of list) if (p.ip) n++;
  if (n === 0) return pod.status?.podIP ? [pod.status.podIP] : [];
  if (n === list.length) return list.map((p) => p.ip);
  const ips = new Array<string>(n);
  let i = 0;
  for (const p of list) if (p.ip) ips[i++] = p.ip;
  return ips;
}

/** A pod is an endpoint when it has an IP of its own and may still run. */
export function slimPod(cluster: string, pod: V1Pod): WorkloadEndpoint | undefined {
  const m = pod.metadata;
  const phase = pod.status?.phase;
  if (!m?.name || !m.namespace || pod.spec?.hostNetwork) return undefined;
  if (phase === 'Succeeded' || phase === 'Failed') return undefined;
  const ips = podIPsOf(pod);
  if (ips.length === 0) return undefined;
  const ports: NamedPort[] = [];
  for (const c of pod.spec?.containers ?? []) {
    for (const p of c.ports ?? []) {
      ports.push(
        Object.freeze({ name: intern(p.name ?? ''), port: p.containerPort, protocol: protocolOf(p.protocol) }),
      );
    }
  }
  return {
    kind: 'WorkloadEndpoint',
    cluster,
    namespace: intern(m.namespace),
    name: m.name,
    uid: stableUid(cluster, 'Pod', m.uid ?? `${m.namespace}/${m.name}`),
    labels: labelsOf(m.labels),
    created: createdSeconds(m.creationTimestamp),
    ips,
    nodeName: intern(pod.spec?.nodeName ?? ''),
    ready: (pod.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True'),
    serviceAccount: intern(pod.spec?.serviceAccountName ?? 'default'),
    ports: ports.length === 0 ? noPorts : portLists.intern(ports, (p) => p.slice()),
    revision: 0,
  };
}

export function slimNode(cluster: string, node: V1Node): HostEndpoint | undefined {
  const m = node.metadata;
  if (!m?.name) return undefined;
  const podCIDRs = node.spec?.podCIDRs ?? (node.spec?.podCIDR ? [node.spec.podCIDR] : []);
  return {
    kind: 'HostEndpoint',
    cluster,
    namespace: '',
    name: m.name,
    uid: stableUid(cluster, 'Node', m.uid ?? m.name),
    labels: labelsOf(m.labels),
    created: createdSeconds(m.creationTimestamp),
    addresses: (node.status?.addresses ?? []).map((a) => ({ type: a.type, address: a.address })),
    podCIDRs,
    ready: (node.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True'),
    annotations: pick(m.annotations, isVtepAnnotation),
    revision: 0,
  };
}

export function slimNamespace(cluster: string, ns: V1Namespace): MeshNamespace | undefined {
  const m = ns.metadata;
  if (!m?.name) return undefined;
  return {
    kind: 'Namespace',
    cluster,
    namespace: '',
    name: m.name,
    uid: stableUid(cluster, 'Namespace', m.uid ?? m.name),
    labels: labelsOf(m.labels),
    created: createdSeconds(m.creationTimestamp),
    revision: 0,
  };
}

export function slimService(cluster: string, svc: V1Service): MeshService | undefined {
  const m = svc.metadata;
  if (!m?.name || !m.namespace) return undefined;
  const selector = svc.spec?.selector;
  return {
    kind: 'Service',
    cluster,
    namespace: m.namespace,
    name: m.name,
    uid: stableUid(cluster, 'Service', m.uid ?? `${m.namespace}/${m.name}`),
    labels: labelsOf(m.labels),
    created: createdSeconds(m.creationTimestamp),
    type: svc.spec?.type ?? 'ClusterIP',
    selector: selector && Object.keys(selector).length > 0 ? selector : null,
    ports: (svc.spec?.ports ?? []).map((p) => ({
      name: p.name ?? '',
      port: p.port,
      targetPort: (p.targetPort as number | string | undefined) ?? p.port,
      protocol: protocolOf(p.protocol),
    })),
    annotations: pick(m.annotations, (k) => serviceAnnotationsKept.includes(k)),
    revision: 0,
  };
}

export function slimEndpointSlice(cluster: string, slice: V1EndpointSlice): MeshEndpointSlice | undefined {
  const m = slice.metadata;
  if (!m?.name || !m.namespace) return undefined;
  return {
    kind: 'EndpointSlice',
    cluster,
    namespace: m.namespace,
    name: m.name,
    uid: stableUid(cluster, 'EndpointSlice', m.uid ?? `${m.namespace}/${m.name}`),
    labels: labelsOf(m.labels),
    created: createdSeconds(m.creationTimestamp),
    serviceName: m.labels?.['kubernetes.io/service-name'] ?? '',
    addressType: slice.addressType,
    endpoints: (slice.endpoints ?? []).map((e) => ({
      addresses: e.addresses,
      // An unset `ready` means ready (discovery.k8s.io/v1 EndpointConditions).
      ready: e.conditions?.ready ?? true,
      serving: e.conditions?.serving ?? e.conditions?.ready ?? true,
      terminating: e.conditions?.terminating ?? false,
      nodeName: e.nodeName ?? '',
      podName: e.targetRef?.kind === 'Pod' ? (e.targetRef.name ?? '') : '',
      zone: e.zone ? intern(e.zone) : '',
    })),
    ports: (slice.ports ?? []).map((p) => ({
      name: p.name ?? '',
      port: p.port ?? 0,
      protocol: protocolOf(p.protocol),
    })),
    revision: 0,
  };
}

/** Structural equality of two slim objects, ignoring `revision` (which the cache owns). */
export function sameMeshObject(a: object, b: object): boolean {
  return structurallyEqual(a, b, cacheOwned);
}

const cacheOwned: ReadonlySet<string> = new Set(['revision']);
