import { SetIndex } from '../core/collections/set-index.js';
import { CLUSTER_LABEL } from '../core/selector/cluster-scope.js';
import {
  type ClusterStatus,
  creationTimestamp,
  federatedEndpoints,
  federatedSelectorOf,
  type HostEndpoint,
  LocalNetworks,
  type MeshCacheReader,
  type MeshEndpointSlice,
  type MeshEvent,
  type MeshObject,
  type MeshService,
  type WorkloadEndpoint,
} from '../federation/index.js';
import { groupVersion, resources } from './resources.js';
import type { Change, ServedObject } from './served-store.js';

/** An object of one cluster: cluster/namespace/name. */
const clusterKey = (cluster: string, namespace: string, name: string): string => `${cluster}/${namespace}/${name}`;

/** What the projection reads of the mesh cache: its Services by namespace and its EndpointSlices by Service. */
export type MeshIndexes = Pick<MeshCacheReader, 'list' | 'slicesOfService' | 'endpointsByIp'>;

/**
 * Turns the mesh cache into the served objects: remote pods → RemoteWorkloads, remote nodes → RemoteNodes,
 * local federated Services → FederatedEndpoints (recomputed when a Service of their namespace changes, a slice of
 * one of their backends does, or a cluster's staleness does). Services and EndpointSlices are read from the cache's
 * own indexes,
 * which the cache keeps exact as objects change (a slice moved to another Service by its label leaves nothing
 * behind); events come after the cache has applied them. No I/O. A FederatedEndpoint is rendered from
 * federatedEndpoints(), the same computation the EndpointSlices of the Service are written from.
 */
export class Projection {
  private readonly workloads = new Map<string, WorkloadEndpoint>();
  private readonly nodes = new Map<string, HostEndpoint>();
  private readonly clusters = new Map<string, ClusterStatus>();
  /** When an object without a source creation time was first seen. */
  private readonly created = new Map<string, string>();
  /** The FederatedEndpoints served now (namespace/name): a Service that stops being federated must delete its own. */
  private readonly federated = new Set<string>();
  /**
   * Which FederatedEndpoints read the slices of a backend Service (cluster/namespace/name → namespace/name of
   * each), and the backend each slice counted for last: a slice event re-renders only those, not the whole
   * namespace (the slices fedmesh writes itself, or those of unselected Services, then cost nothing).
   */
  private readonly readersOfBackend = new SetIndex<string, string>();
  private readonly backendsOfFederated = new Map<string, readonly string[]>();
  private readonly backendOfSlice = new Map<string, string>();
  /** This cluster's own addresses: a remote endpoint with one is left out, as in the slices. */
  private readonly localNetworks: LocalNetworks;

  constructor(
    readonly localCluster: string,
    private readonly mesh: MeshIndexes,
    private readonly now: () => Date = () => new Date(),
  ) {
    this.localNetworks = new LocalNetworks(mesh, localCluster);
  }

  /** Changes for one mesh event. */
  apply(ev: MeshEvent): Change[] {
    if (ev.type === 'cluster') return this.applyCluster(ev.status);
    const o = ev.object;
    const deleted = ev.type === 'deleted';
    switch (o.kind) {
      case 'WorkloadEndpoint':
        return this.applyWorkload(o, deleted);
      case 'HostEndpoint':
        return this.applyNode(o, deleted);
      case 'Service':
        return this.applyService(o, deleted);
      case 'EndpointSlice':
        return this.applySlice(o, deleted);
      case 'Namespace':
        return [];
    }
  }

  /** Changes that load a whole snapshot (the first sync), taken with the cache in the same state. */
  load(objects: Iterable<MeshObject>, clusters: Iterable<ClusterStatus>): Change[] {
    const out: Change[] = [];
    for (const s of clusters) this.clusters.set(s.cluster, s);
    const namespaces = new Set<string>();
    for (const o of objects) {
      // Federated endpoints are computed once per namespace below.
      if (o.kind === 'Service' || o.kind === 'EndpointSlice') {
        namespaces.add(o.namespace);
        if (o.kind === 'EndpointSlice' && o.serviceName)
          this.backendOfSlice.set(
            clusterKey(o.cluster, o.namespace, o.name),
            clusterKey(o.cluster, o.namespace, o.serviceName),
          );
      } else {
        out.push(...this.apply({ type: 'added', revision: o.revision, object: o }));
      }
    }
    for (const ns of namespaces) out.push(...this.recomputeNamespace(ns));
    return out;
  }

  private isRemote(cluster: string): boolean {
    return cluster !== this.localCluster;
  }

  /** The source object's creation time, or when this server first saw it if the source had none. */
  private createdAt(created: number, key: string): string {
    const source = creationTimestamp(created);
    if (source !== undefined) return source;
    let t = this.created.get(key);
    if (!t) {
      t = `${this.now().toISOString().slice(0, 19)}Z`;
      this.created.set(key, t);
    }
    return t;
  }

  private staleSince(cluster: string): string | null {
    return this.clusters.get(cluster)?.staleSince ?? null;
  }

  private applyCluster(status: ClusterStatus): Change[] {
    const before = this.clusters.get(status.cluster)?.staleSince ?? null;
    this.clusters.set(status.cluster, status);
    if (before === status.staleSince) return [];
    // Staleness is part of every object of that cluster: re-render them.
    const out: Change[] = [];
    for (const w of this.workloads.values()) if (w.cluster === status.cluster) out.push(this.workloadChange(w));
    for (const n of this.nodes.values()) if (n.cluster === status.cluster) out.push(this.nodeChange(n));
    const namespaces = new Set(this.mesh.list('Service', { cluster: status.cluster }).map((s) => s.namespace));
    for (const ns of namespaces) out.push(...this.recomputeNamespace(ns));
    return out;
  }

  private applyWorkload(w: WorkloadEndpoint, deleted: boolean): Change[] {
    if (!this.isRemote(w.cluster)) return [];
    const key = `${w.namespace}/${w.cluster}.${w.name}`;
    if (deleted) {
      this.workloads.delete(key);
      this.created.delete(`rwl:${key}`);
      return [{ type: 'delete', resource: 'remoteworkloads', key }];
    }
    this.workloads.set(key, w);
    return [this.workloadChange(w)];
  }

  private workloadChange(w: WorkloadEndpoint): Change {
    const name = `${w.cluster}.${w.name}`;
    const key = `${w.namespace}/${name}`;
    const stale = this.staleSince(w.cluster);
    const labels = { ...w.labels, [CLUSTER_LABEL]: w.cluster };
    const object = {
      apiVersion: groupVersion,
      kind: resources.remoteworkloads.kind,
      metadata: {
        name,
        namespace: w.namespace,
        uid: w.uid,
        creationTimestamp: this.createdAt(w.created, `rwl:${key}`),
        labels,
        ...(stale ? { annotations: { 'federation.fedmesh.io/stale-since': stale } } : {}),
      },
      spec: {
        cluster: w.cluster,
        podName: w.name,
        nodeName: w.nodeName,
        ips: w.ips,
        serviceAccountName: w.serviceAccount,
        ports: w.ports,
      },
      status: { ready: w.ready, stale: stale !== null, ...(stale ? { staleSince: stale } : {}) },
    };
    const served: ServedObject = {
      resource: 'remoteworkloads',
      key,
      namespace: w.namespace,
      name,
      labels,
      fields: {
        'metadata.name': name,
        'metadata.namespace': w.namespace,
        'spec.cluster': w.cluster,
        'spec.nodeName': w.nodeName,
      },
      object,
      cells: [
        name,
        w.cluster,
        w.ready ? 'True' : 'False',
        w.ips.join(',') || '<none>',
        w.nodeName || '<none>',
        w.name,
        w.serviceAccount || '<none>',
        stale ?? '<none>',
      ],
    };
    return { type: 'upsert', object: served };
  }

  private applyNode(n: HostEndpoint, deleted: boolean): Change[] {
    if (!this.isRemote(n.cluster)) {
      this.localNetworks.invalidate();
      return [];
    }
    const key = `${n.cluster}.${n.name}`;
    if (deleted) {
      this.nodes.delete(key);
      this.created.delete(`rno:${key}`);
      return [{ type: 'delete', resource: 'remotenodes', key }];
    }
    this.nodes.set(key, n);
    return [this.nodeChange(n)];
  }

  private nodeChange(n: HostEndpoint): Change {
    const name = `${n.cluster}.${n.name}`;
    const stale = this.staleSince(n.cluster);
    const labels = { ...n.labels, [CLUSTER_LABEL]: n.cluster };
    const internal = n.addresses.filter((a) => a.type === 'InternalIP').map((a) => a.address);
    const vtep = vtepOf(n);
    const object = {
      apiVersion: groupVersion,
      kind: resources.remotenodes.kind,
      metadata: {
        name,
        uid: n.uid,
        creationTimestamp: this.createdAt(n.created, `rno:${name}`),
        labels,
        ...(stale ? { annotations: { 'federation.fedmesh.io/stale-since': stale } } : {}),
      },
      spec: {
        cluster: n.cluster,
        nodeName: n.name,
        addresses: n.addresses,
        podCIDRs: n.podCIDRs,
        ...(vtep ? { vtep } : {}),
      },
      status: { ready: n.ready, stale: stale !== null, ...(stale ? { staleSince: stale } : {}) },
    };
    return {
      type: 'upsert',
      object: {
        resource: 'remotenodes',
        key: name,
        namespace: '',
        name,
        labels,
        fields: { 'metadata.name': name, 'spec.cluster': n.cluster },
        object,
        cells: [
          name,
          n.cluster,
          n.ready ? 'True' : 'False',
          internal.join(',') || '<none>',
          n.podCIDRs.join(',') || '<none>',
          vtep ? `${vtep.address}${vtep.mac ? ` (${vtep.mac})` : ''}` : '<none>',
          stale ?? '<none>',
        ],
      },
    };
  }

  private applyService(s: MeshService, deleted: boolean): Change[] {
    return this.recomputeNamespace(s.namespace, deleted && s.cluster === this.localCluster ? s : undefined);
  }

  /**
   * The FederatedEndpoints that read the slice's Service now or read the one it counted for before (its
   * service-name label changed or went), re-rendered.
   */
  private applySlice(sl: MeshEndpointSlice, deleted: boolean): Change[] {
    const sliceKey = clusterKey(sl.cluster, sl.namespace, sl.name);
    const before = this.backendOfSlice.get(sliceKey);
    const now = sl.serviceName ? clusterKey(sl.cluster, sl.namespace, sl.serviceName) : undefined;
    if (deleted || now === undefined) this.backendOfSlice.delete(sliceKey);
    else this.backendOfSlice.set(sliceKey, now);
    const readers = new Set<string>();
    for (const backend of [before, now]) {
      if (backend === undefined) continue;
      for (const r of this.readersOfBackend.get(backend)) readers.add(r);
    }
    if (readers.size === 0) return [];
    const inNamespace = this.mesh.list('Service', { namespace: sl.namespace });
    const out: Change[] = [];
    for (const svc of inNamespace) {
      if (svc.cluster === this.localCluster && readers.has(`${svc.namespace}/${svc.name}`))
        out.push(this.federatedChange(svc, inNamespace));
    }
    return out;
  }

  private setBackends(federatedKey: string, backends: readonly string[]): void {
    this.readersOfBackend.move(federatedKey, this.backendsOfFederated.get(federatedKey) ?? [], backends);
    if (backends.length === 0) this.backendsOfFederated.delete(federatedKey);
    else this.backendsOfFederated.set(federatedKey, backends);
  }

  /** Re-renders every FederatedEndpoint of a namespace (a namespace holds few federated Services). */
  private recomputeNamespace(namespace: string, deletedLocal?: MeshService): Change[] {
    const out: Change[] = [];
    if (deletedLocal && federatedSelectorOf(deletedLocal) !== undefined) {
      out.push({ type: 'delete', resource: 'federatedendpoints', key: `${namespace}/${deletedLocal.name}` });
      this.federated.delete(`${namespace}/${deletedLocal.name}`);
      this.created.delete(`fep:${namespace}/${deletedLocal.name}`);
      this.setBackends(`${namespace}/${deletedLocal.name}`, []);
    }
    const inNamespace = this.mesh.list('Service', { namespace });
    for (const svc of inNamespace) {
      if (svc.cluster !== this.localCluster) continue;
      const key = `${namespace}/${svc.name}`;
      if (federatedSelectorOf(svc) === undefined) {
        // No longer (or never) federated: make sure no FederatedEndpoint is left behind.
        if (this.federated.delete(key)) {
          this.created.delete(`fep:${key}`);
          this.setBackends(key, []);
          out.push({ type: 'delete', resource: 'federatedendpoints', key });
        }
        continue;
      }
      this.federated.add(key);
      out.push(this.federatedChange(svc, inNamespace));
    }
    return out;
  }

  private federatedChange(svc: MeshService, inNamespace: readonly MeshService[]): Change {
    const key = `${svc.namespace}/${svc.name}`;
    const result = federatedEndpoints(
      svc,
      inNamespace,
      (c, ns, name) => this.mesh.slicesOfService(c, ns, name),
      this.localNetworks,
    );
    this.setBackends(key, result.valid ? result.backends.map((b) => clusterKey(b.cluster, svc.namespace, b.name)) : []);
    const labels = { ...svc.labels };
    const metadata = {
      name: svc.name,
      namespace: svc.namespace,
      uid: svc.uid,
      creationTimestamp: this.createdAt(svc.created, `fep:${key}`),
      labels,
    };
    let object: ServedObject['object'];
    let cells: unknown[];
    if (!result.valid) {
      object = {
        apiVersion: groupVersion,
        kind: resources.federatedendpoints.kind,
        metadata,
        spec: { serviceSelector: result.selector, ports: svc.ports },
        endpoints: [],
        status: {
          valid: false,
          error: result.error,
          endpoints: 0,
          readyEndpoints: 0,
          clusters: [],
          warnings: result.warnings.map((w) => `${w.reason}: ${w.message}`),
        },
      };
      cells = [svc.name, `<invalid: ${result.error}>`, 0, 0, '<none>', '<none>', '<none>'];
    } else {
      const clusters = [...new Set(result.endpoints.map((e) => e.cluster))].sort();
      const stale = [...new Set(result.backends.map((b) => b.cluster))].filter((c) => this.staleSince(c) !== null);
      const ready = result.endpoints.filter((e) => e.ready).length;
      object = {
        apiVersion: groupVersion,
        kind: resources.federatedendpoints.kind,
        metadata,
        spec: { serviceSelector: result.selector, ports: svc.ports },
        endpoints: result.endpoints,
        status: {
          valid: true,
          endpoints: result.endpoints.length,
          readyEndpoints: ready,
          clusters,
          backends: result.backends.map((b) => `${b.cluster}/${b.name}`),
          staleClusters: stale,
          warnings: result.warnings.map((w) => `${w.reason}: ${w.message}`),
        },
      };
      cells = [
        svc.name,
        result.selector,
        result.endpoints.length,
        ready,
        clusters.join(',') || '<none>',
        result.backends.map((b) => `${b.cluster}/${b.name}`).join(',') || '<none>',
        stale.join(',') || '<none>',
      ];
    }
    return {
      type: 'upsert',
      object: {
        resource: 'federatedendpoints',
        key,
        namespace: svc.namespace,
        name: svc.name,
        labels,
        fields: { 'metadata.name': svc.name, 'metadata.namespace': svc.namespace },
        object,
        cells,
      },
    };
  }
}

/** The node's VXLAN tunnel endpoint from its annotations (fedmesh's, or Calico's for migrated clusters). */
function vtepOf(n: HostEndpoint): { address: string; mac?: string } | undefined {
  const a = n.annotations;
  const address = a['fedmesh.io/vtep-ip'] ?? a['projectcalico.org/IPv4VXLANTunnelAddr'];
  if (!address) return undefined;
  const mac = a['fedmesh.io/vtep-mac'] ?? a['projectcalico.org/VXLANTunnelMACAddr'];
  return mac ? { address, mac } : { address };
}
