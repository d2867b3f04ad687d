/** The three read-only resources of federation.fedmesh.io/v1alpha1 (DESIGN.md "Names"), as discovery, OpenAPI and Table see them. */

export const group = 'federation.fedmesh.io';
export const version = 'v1alpha1';
export const groupVersion = `${group}/${version}`;
export const category = 'fedmesh';

export type ResourceName = 'remoteworkloads' | 'federatedendpoints' | 'remotenodes';

export interface ColumnDefinition {
  readonly name: string;
  readonly type: 'string' | 'integer' | 'boolean' | 'date' | 'number';
  readonly format: string;
  readonly description: string;
  /** 0: always shown; 1: only with `-o wide`. */
  readonly priority: 0 | 1;
}

export interface ResourceDefinition {
  readonly name: ResourceName;
  readonly singular: string;
  readonly kind: string;
  readonly listKind: string;
  readonly namespaced: boolean;
  readonly shortNames: readonly string[];
  /** Field selectors served beyond metadata.name / metadata.namespace. */
  readonly extraFieldSelectors: readonly string[];
  /** Columns after NAME; AGE is appended. */
  readonly columns: readonly ColumnDefinition[];
  readonly description: string;
}

const col = (
  name: string,
  type: ColumnDefinition['type'],
  description: string,
  priority: 0 | 1 = 0,
): ColumnDefinition => ({ name, type, format: '', description, priority });

export const resources: Readonly<Record<ResourceName, ResourceDefinition>> = {
  remoteworkloads: {
    name: 'remoteworkloads',
    singular: 'remoteworkload',
    kind: 'RemoteWorkload',
    listKind: 'RemoteWorkloadList',
    namespaced: true,
    shortNames: ['rwl'],
    extraFieldSelectors: ['spec.cluster', 'spec.nodeName'],
    columns: [
      col('Cluster', 'string', 'The remote cluster the pod runs in.'),
      col('Ready', 'string', 'Whether the pod is ready.'),
      col('IP', 'string', 'The pod IPs.'),
      col('Node', 'string', 'The node of the pod in its cluster.'),
      col('Pod', 'string', 'The pod name in its cluster.', 1),
      col('Service Account', 'string', 'The pod service account.', 1),
      col('Stale', 'string', 'Since when the cluster is unreachable and this object may be out of date.', 1),
    ],
    description: 'A pod of a remote cluster of the mesh, with its labels and IPs, as local policy sees it.',
  },
  federatedendpoints: {
    name: 'federatedendpoints',
    singular: 'federatedendpoint',
    kind: 'FederatedEndpoint',
    listKind: 'FederatedEndpointList',
    namespaced: true,
    shortNames: ['fep'],
    extraFieldSelectors: [],
    columns: [
      col('Selector', 'string', 'The federated Service selector, in canonical form.'),
      col('Endpoints', 'integer', 'How many endpoints the selector picks across the mesh.'),
      col('Ready', 'integer', 'How many of them are ready.'),
      col('Clusters', 'string', 'The clusters the endpoints come from.'),
      col('Services', 'string', 'The backing Services, as cluster/name.', 1),
      col('Stale', 'string', 'Clusters whose endpoints may be out of date.', 1),
    ],
    description: 'The endpoints that a federated Service selects across every cluster of the mesh.',
  },
  remotenodes: {
    name: 'remotenodes',
    singular: 'remotenode',
    kind: 'RemoteNode',
    listKind: 'RemoteNodeList',
    namespaced: false,
    shortNames: ['rno'],
    extraFieldSelectors: ['spec.cluster'],
    columns: [
      col('Cluster', 'string', 'The remote cluster of the node.'),
      col('Ready', 'string', 'Whether the node is ready.'),
      col('Internal-IP', 'string', 'The node InternalIP addresses.'),
      col('Pod-CIDRs', 'string', 'The pod CIDRs routed to this node.'),
      col('VTEP', 'string', 'The VXLAN tunnel endpoint of the node, when it has one.', 1),
      col('Stale', 'string', 'Since when the cluster is unreachable and this object may be out of date.', 1),
    ],
    description: 'A node of a remote cluster: a remote host endpoint, and an entry of the agent tunnel map.',
  },
};

export const resourceNames = Object.keys(resources) as ResourceName[];

export const verbs = ['get', 'list', 'watch'] as const;

export function fieldSelectorsOf(def: ResourceDefinition): string[] {
  return ['metadata.name', ...(def.namespaced ? ['metadata.namespace'] : []), ...def.extraFieldSelectors];
}
