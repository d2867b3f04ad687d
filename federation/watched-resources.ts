import type { V1EndpointSlice, V1Namespace, V1Node, V1Pod, V1Service } from '@kubernetes/client-node';
import type { KubeObject } from '../core/kube/resilient-informer.js';
import type { MeshKind, MeshObject } from './mesh-types.js';
import type { SourceKind } from './remote-object-schemas.js';
import { slimEndpointSlice, slimNamespace, slimNode, slimPod, slimService } from './slim.js';

/** One collection fedmesh lists and watches in every cluster, and how its objects become slim ones. */
export interface WatchedResource {
  readonly kind: MeshKind;
  /** The kind of the objects read, as Kubernetes names it (schema and status use it). */
  readonly sourceKind: SourceKind;
  /** Plural resource name and API group ('' = core), as RBAC names them. */
  readonly resource: string;
  readonly group: string;
  readonly path: string;
  readonly convert: (cluster: string, raw: KubeObject) => MeshObject | undefined;
}

/**
 * What the mesh needs of a cluster and nothing more: pods (workload endpoints), nodes (host endpoints and
 * tunnel map), namespaces (labels inherited by endpoints), services and endpoint slices (federated services).
 * The remote-access ClusterRole grants exactly these.
 */
export const watchedResources: readonly WatchedResource[] = [
  {
    kind: 'WorkloadEndpoint',
    sourceKind: 'Pod',
    resource: 'pods',
    group: '',
    path: '/api/v1/pods',
    convert: (c, raw) => slimPod(c, raw as V1Pod),
  },
  {
    kind: 'HostEndpoint',
    sourceKind: 'Node',
    resource: 'nodes',
    group: '',
    path: '/api/v1/nodes',
    convert: (c, raw) => slimNode(c, raw as V1Node),
  },
  {
    kind: 'Namespace',
    sourceKind: 'Namespace',
    resource: 'namespaces',
    group: '',
    path: '/api/v1/namespaces',
    convert: (c, raw) => slimNamespace(c, raw as V1Namespace),
  },
  {
    kind: 'Service',
    sourceKind: 'Service',
    resource: 'services',
    group: '',
    path: '/api/v1/services',
    convert: (c, raw) => slimService(c, raw as V1Service),
  },
  {
    kind: 'EndpointSlice',
    sourceKind: 'EndpointSlice',
    resource: 'endpointslices',
    group: 'discovery.k8s.io',
    path: '/apis/discovery.k8s.io/v1/endpointslices',
    convert: (c, raw) => slimEndpointSlice(c, raw as unknown as V1EndpointSlice),
  },
];
