// From the endpoints of one federated Service and the EndpointSlices fedmesh already wrote for it, the minimal
// set of writes that makes the slices say exactly those endpoints. Pure. Endpoints stay in the slice that holds
// them (as Kubernetes' EndpointSlice controller keeps them), so an unchanged endpoint is never moved, and a
// restart, a leader change or a remote that comes back writes nothing.
import { createHash } from 'node:crypto';
import type { EndpointPort, FederatedEndpointAddress } from './endpoints.js';

export const managedByLabel = 'endpointslice.kubernetes.io/managed-by';
export const managedByValue = 'federation.fedmesh.io';
export const serviceNameLabel = 'kubernetes.io/service-name';
export const mcsServiceNameLabel = 'multicluster.kubernetes.io/service-name';
export const mcsSourceClusterLabel = 'multicluster.kubernetes.io/source-cluster';
export const clusterLabel = 'fedmesh.io/cluster';
/** Kubernetes' own limit per slice (the EndpointSlice controller's default --max-endpoints-per-slice). */
export const maxEndpointsPerSlice = 100;

export interface SliceEndpointBody {
  readonly addresses: readonly string[];
  readonly conditions: { readonly ready: boolean; readonly serving: boolean; readonly terminating: boolean };
  readonly nodeName?: string;
  readonly zone?: string;
  readonly targetRef?: { readonly kind: 'Pod'; readonly namespace: string; readonly name: string };
}

export interface OwnerReference {
  readonly apiVersion: string;
  readonly kind: string;
  readonly name: string;
  readonly uid: string;
  readonly controller: true;
}

/** An EndpointSlice as fedmesh writes it (and as it reads back the fields it owns). */
export interface SliceBody {
  readonly apiVersion: 'discovery.k8s.io/v1';
  readonly kind: 'EndpointSlice';
  readonly metadata: {
    readonly name: string;
    readonly namespace: string;
    readonly labels: Readonly<Record<string, string>>;
    readonly ownerReferences: readonly OwnerReference[];
    readonly resourceVersion?: string;
  };
  readonly addressType: string;
  readonly endpoints: readonly SliceEndpointBody[];
  readonly ports: readonly EndpointPort[];
}

/** A slice with fedmesh's managed-by label, as read from the local cluster. */
export interface WrittenSlice {
  readonly name: string;
  readonly namespace: string;
  readonly resourceVersion: string;
  readonly labels: Readonly<Record<string, string>>;
  /** uid of the Service it names as controller owner, '' when none. */
  readonly ownerUid: string;
  readonly addressType: string;
  readonly endpoints: readonly SliceEndpointBody[];
  readonly ports: readonly EndpointPort[];
}

export interface SliceTarget {
  readonly localCluster: string;
  readonly namespace: string;
  /** The local Service the slices belong to (kubernetes.io/service-name: what kube-proxy programs). */
  readonly service: string;
  /** multicluster.kubernetes.io/service-name: the Service's name in the clusterset (default: `service`). */
  readonly clustersetName?: string;
  /** The slices' controller owner: the federated Service, or a ServiceImport (its real uid). */
  readonly owner: OwnerReference;
  /** endpointslice.kubernetes.io/managed-by (default federation.fedmesh.io). */
  readonly managedBy?: string;
}

/** The owner reference of a federated Service's slices. */
export function serviceOwner(name: string, uid: string): OwnerReference {
  return { apiVersion: 'v1', kind: 'Service', name, uid, controller: true };
}

export interface SlicePlan {
  readonly create: readonly SliceBody[];
  /** Bodies carry the resourceVersion they replace (an update of a changed slice fails and is planned again). */
  readonly update: readonly SliceBody[];
  readonly delete: readonly { readonly name: string; readonly resourceVersion: string }[];
}

export const emptyPlan: SlicePlan = { create: [], update: [], delete: [] };

export function isEmptyPlan(p: SlicePlan): boolean {
  return p.create.length === 0 && p.update.length === 0 && p.delete.length === 0;
}

interface Group {
  readonly key: string;
  readonly cluster: string;
  readonly addressType: string;
  readonly ports: readonly EndpointPort[];
  readonly endpoints: Map<string, SliceEndpointBody>;
}

const portsId = (ports: readonly EndpointPort[]) =>
  [...ports]
    .sort((a, b) => cmp(a.name, b.name) || cmp(a.protocol, b.protocol) || a.port - b.port)
    .map((p) => `${p.name}/${p.protocol}/${p.port}`)
    .join(',');

const groupKey = (cluster: string, addressType: string, ports: readonly EndpointPort[]) =>
  `${cluster}|${addressType}|${portsId(ports)}`;

/**
 * The endpoint as a slice carries it. A remote endpoint has neither nodeName nor targetRef: both name objects of
 * this cluster. kube-proxy would count a remote pod as local to a local node that happens to have the same name
 * (internalTrafficPolicy/externalTrafficPolicy Local), and whatever resolves targetRef here (Prometheus, a service
 * mesh) would give a remote IP the metadata of a local pod of that name.
 */
export function sliceEndpoint(target: SliceTarget, ep: FederatedEndpointAddress): SliceEndpointBody {
  const local = ep.cluster === target.localCluster;
  return {
    addresses: [ep.ip],
    conditions: { ready: ep.ready, serving: ep.serving, terminating: ep.terminating },
    ...(local && ep.nodeName ? { nodeName: ep.nodeName } : {}),
    ...(ep.zone ? { zone: ep.zone } : {}),
    ...(local && ep.podName
      ? { targetRef: { kind: 'Pod' as const, namespace: target.namespace, name: ep.podName } }
      : {}),
  };
}

export function sliceLabels(target: SliceTarget, cluster: string): Record<string, string> {
  return {
    [serviceNameLabel]: target.service,
    [managedByLabel]: target.managedBy ?? managedByValue,
    [mcsServiceNameLabel]: target.clustersetName ?? target.service,
    [mcsSourceClusterLabel]: cluster,
    [clusterLabel]: cluster,
  };
}

/** `<service>-<cluster>-<hash of family and ports>-<n>`: readable, and never one of Kubernetes' generated names. */
function sliceName(target: SliceTarget, g: Group, n: number): string {
  const h = createHash('sha256').update(g.key).digest('hex').slice(0, 8);
  return `${target.service}-${g.cluster}-${h}-${n}`;
}

/** The cluster a written slice holds the endpoints of. */
export function sourceClusterOf(s: WrittenSlice): string {
  return s.labels[mcsSourceClusterLabel] ?? '';
}

/**
 * `unlisted`: clusters that have not listed since this process started (unlisted-clusters.ts): their slices of
 * this owner are left exactly as they are and their endpoints (there should be none) are not written.
 */
export function planSlices(
  target: SliceTarget,
  endpoints: readonly FederatedEndpointAddress[],
  existing: readonly WrittenSlice[],
  maxPerSlice = maxEndpointsPerSlice,
  unlisted: ReadonlySet<string> = new Set(),
): SlicePlan {
  const groups = new Map<string, Group>();
  for (const ep of endpoints) {
    if (unlisted.has(ep.cluster)) continue;
    const key = groupKey(ep.cluster, ep.addressType, ep.ports);
    let g = groups.get(key);
    if (!g) {
      g = { key, cluster: ep.cluster, addressType: ep.addressType, ports: ep.ports, endpoints: new Map() };
      groups.set(key, g);
    }
    if (!g.endpoints.has(ep.ip)) g.endpoints.set(ep.ip, sliceEndpoint(target, ep));
  }

  const create: SliceBody[] = [];
  const update: SliceBody[] = [];
  const del: { name: string; resourceVersion: string }[] = [];
  const usedNames = new Set(existing.map((s) => s.name));
  const byGroup = new Map<string, WrittenSlice[]>();
  for (const s of existing) {
    const cluster = sourceClusterOf(s);
    if (s.ownerUid === target.owner.uid && unlisted.has(cluster)) continue;
    const key = groupKey(cluster, s.addressType, s.ports);
    if (s.ownerUid !== target.owner.uid || !groups.has(key)) {
      del.push({ name: s.name, resourceVersion: s.resourceVersion });
      continue;
    }
    byGroup.set(key, [...(byGroup.get(key) ?? []), s]);
  }

  for (const g of [...groups.values()].sort((a, b) => cmp(a.key, b.key))) {
    const remaining = new Map(g.endpoints);
    const held = (byGroup.get(g.key) ?? []).sort((a, b) => cmp(a.name, b.name));
    // Endpoints stay where they are.
    const contents = held.map((s) => {
      const kept: SliceEndpointBody[] = [];
      for (const e of s.endpoints) {
        const ip = e.addresses[0];
        const want = ip === undefined ? undefined : remaining.get(ip);
        if (ip === undefined || !want || kept.length >= maxPerSlice) continue;
        kept.push(want);
        remaining.delete(ip);
      }
      return kept;
    });
    // New endpoints fill the room left, then new slices.
    const fresh = [...remaining.values()].sort((a, b) => cmp(a.addresses[0] ?? '', b.addresses[0] ?? ''));
    let next = 0;
    for (const kept of contents) {
      while (kept.length < maxPerSlice && next < fresh.length) kept.push(fresh[next++] as SliceEndpointBody);
    }
    held.forEach((s, i) => {
      const eps = contents[i] ?? [];
      if (eps.length === 0) {
        del.push({ name: s.name, resourceVersion: s.resourceVersion });
        return;
      }
      const body = sliceBody(target, g, s.name, sortByAddress(eps), s.labels, s.resourceVersion);
      if (!sameSlice(body, s)) update.push(body);
    });
    let n = 0;
    while (next < fresh.length) {
      const chunk = fresh.slice(next, next + maxPerSlice);
      next += chunk.length;
      let name = sliceName(target, g, n++);
      while (usedNames.has(name)) name = sliceName(target, g, n++);
      usedNames.add(name);
      create.push(sliceBody(target, g, name, chunk, {}, undefined));
    }
  }
  return { create, update, delete: del };
}

function sortByAddress(eps: SliceEndpointBody[]): SliceEndpointBody[] {
  return eps.sort((a, b) => cmp(a.addresses[0] ?? '', b.addresses[0] ?? ''));
}

function sliceBody(
  target: SliceTarget,
  g: Group,
  name: string,
  endpoints: readonly SliceEndpointBody[],
  heldLabels: Readonly<Record<string, string>>,
  resourceVersion: string | undefined,
): SliceBody {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: {
      name,
      namespace: target.namespace,
      // Labels others added (a user's, a tool's) are kept; ours are set.
      labels: { ...heldLabels, ...sliceLabels(target, g.cluster) },
      ownerReferences: [target.owner],
      ...(resourceVersion === undefined ? {} : { resourceVersion }),
    },
    addressType: g.addressType,
    endpoints,
    ports: [...g.ports],
  };
}

/** Whether a written slice already says what `body` says, in the fields fedmesh owns. */
function sameSlice(body: SliceBody, held: WrittenSlice): boolean {
  const labels = body.metadata.labels;
  for (const k of Object.keys(labels)) if (held.labels[k] !== labels[k]) return false;
  return (
    held.addressType === body.addressType &&
    portsId(held.ports) === portsId(body.ports) &&
    held.endpoints.length === body.endpoints.length &&
    held.endpoints.every((e, i) => sameEndpoint(e, body.endpoints[i]))
  );
}

function sameEndpoint(a: SliceEndpointBody, b: SliceEndpointBody | undefined): boolean {
  if (!b) return false;
  return (
    a.addresses.length === b.addresses.length &&
    a.addresses.every((x, i) => x === b.addresses[i]) &&
    a.conditions.ready === b.conditions.ready &&
    a.conditions.serving === b.conditions.serving &&
    a.conditions.terminating === b.conditions.terminating &&
    (a.nodeName ?? '') === (b.nodeName ?? '') &&
    (a.zone ?? '') === (b.zone ?? '') &&
    (a.targetRef?.name ?? '') === (b.targetRef?.name ?? '') &&
    (a.targetRef?.namespace ?? '') === (b.targetRef?.namespace ?? '')
  );
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
