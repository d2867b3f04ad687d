// The slim objects of the mesh cache. They keep only what the consumers read (the API server's remoteworkloads,
// remotenodes and federatedendpoints, the federated services controller, the agent), so that memory stays
// proportional to what fedmesh uses. They are plain data, replaced (never mutated) on change, except `revision`,
// which the cache sets once when it stores an object.

export type MeshKind = 'WorkloadEndpoint' | 'HostEndpoint' | 'Namespace' | 'Service' | 'EndpointSlice';

export const meshKinds: readonly MeshKind[] = [
  'WorkloadEndpoint',
  'HostEndpoint',
  'Namespace',
  'Service',
  'EndpointSlice',
] as const;

export type LabelMap = Readonly<Record<string, string>>;

export type Protocol = 'TCP' | 'UDP' | 'SCTP';

interface MeshObjectBase<K extends MeshKind> {
  readonly kind: K;
  readonly cluster: string;
  /** '' for cluster-scoped objects (nodes, namespaces). */
  readonly namespace: string;
  readonly name: string;
  /** Stable across processes and replicas: derived from the cluster, the kind and the source object's uid. */
  readonly uid: string;
  readonly labels: LabelMap;
  /** When the source object was created in its cluster, in createdSeconds form (creation-time.ts); 0: unknown. */
  readonly created: number;
  /** The cache revision of the last change to this object (the API server's resourceVersion). */
  revision: number;
}

export interface NamedPort {
  readonly name: string;
  readonly port: number;
  readonly protocol: Protocol;
}

/** A pod with an IP: a workload endpoint. Host-network pods and finished pods are not endpoints. */
export interface WorkloadEndpoint extends MeshObjectBase<'WorkloadEndpoint'> {
  readonly ips: readonly string[];
  readonly nodeName: string;
  readonly ready: boolean;
  readonly serviceAccount: string;
  /** Container ports, for named ports in policy. */
  readonly ports: readonly NamedPort[];
}

export interface NodeAddress {
  readonly type: string;
  readonly address: string;
}

/** A node: a host endpoint, and (with its pod CIDRs and VTEP annotations) an entry of the agent's tunnel map. */
export interface HostEndpoint extends MeshObjectBase<'HostEndpoint'> {
  readonly addresses: readonly NodeAddress[];
  readonly podCIDRs: readonly string[];
  readonly ready: boolean;
  /** Only the annotations that describe the node's VXLAN tunnel endpoint (see slim.ts). */
  readonly annotations: LabelMap;
}

export interface MeshNamespace extends MeshObjectBase<'Namespace'> {}

export interface ServicePort {
  readonly name: string;
  readonly port: number;
  readonly targetPort: number | string;
  readonly protocol: Protocol;
}

export interface MeshService extends MeshObjectBase<'Service'> {
  readonly type: string;
  /** null for a Service without `spec.selector` (a federated Service has none). */
  readonly selector: LabelMap | null;
  readonly ports: readonly ServicePort[];
  /** Only the federation annotations (`federation.fedmesh.io/serviceSelector`, `federation.tigera.io/serviceSelector`). */
  readonly annotations: LabelMap;
}

export interface SliceEndpoint {
  readonly addresses: readonly string[];
  readonly ready: boolean;
  readonly serving: boolean;
  readonly terminating: boolean;
  readonly nodeName: string;
  /** Name of the pod behind the address, when the slice says. */
  readonly podName: string;
  /** The endpoint's topology zone, when the slice says ('' otherwise). */
  readonly zone?: string;
}

export interface MeshEndpointSlice extends MeshObjectBase<'EndpointSlice'> {
  /** The owning Service (label `kubernetes.io/service-name`), '' when the slice has none. */
  readonly serviceName: string;
  readonly addressType: string;
  readonly endpoints: readonly SliceEndpoint[];
  readonly ports: readonly NamedPort[];
}

export type MeshObject = WorkloadEndpoint | HostEndpoint | MeshNamespace | MeshService | MeshEndpointSlice;

export type MeshObjectOf<K extends MeshKind> = Extract<MeshObject, { kind: K }>;

/** Where a cluster's connection stands; the same names as the RCC status and Calico's metric. */
export type ClusterState = 'Connecting' | 'ResyncInProgress' | 'InSync' | 'ConnectionFailed' | 'ConfigIncomplete';

export const clusterStates: readonly ClusterState[] = [
  'Connecting',
  'ResyncInProgress',
  'InSync',
  'ConnectionFailed',
  'ConfigIncomplete',
] as const;

/** What the cache knows of one cluster's connection. */
export interface ClusterStatus {
  readonly cluster: string;
  /** The local cluster (the one this server runs in), not a remote one. */
  readonly local: boolean;
  readonly state: ClusterState;
  /** Why (a CamelCase reason such as Unreachable, Unauthorized, Forbidden, SecretNotFound). */
  readonly reason: string;
  readonly message: string;
  /** When the cluster's objects stopped being current (ISO time), null while they are. */
  readonly staleSince: string | null;
  /** True once its objects were withdrawn after the RCC's ttl (fail-closed). */
  readonly withdrawn: boolean;
  /** When a full list of every resource last completed (ISO time). */
  readonly lastSyncTime: string | null;
}

export type MeshEvent =
  | {
      readonly type: 'added' | 'modified' | 'deleted';
      readonly revision: number;
      /** The new state; for `deleted`, the last state. */
      readonly object: MeshObject;
    }
  | { readonly type: 'cluster'; readonly revision: number; readonly status: ClusterStatus };
