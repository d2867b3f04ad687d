// The public interface of federation: the API server, the federated services controller and the agent import
// only from here.

export { creationTimestamp } from './creation-time.js';
export {
  DEFAULT_MAX_EXPORTS_PER_CLUSTER,
  type FederatedEndpointAddress,
  type FederatedEndpointsResult,
  FederatedServicesController,
  type FederatedServicesOptions,
  federatedEndpoints,
  federatedSelectorOf,
  type LocalAddressGuard,
  LocalNetworks,
  mcsCrds,
  ServiceImportController,
  type ServiceImportOptions,
} from './federated-services/index.js';
export type {
  KindCounts,
  ListFilter,
  MeshCacheReader,
  MeshListener,
  MeshSnapshot,
  MeshSubscription,
  SubscribeOptions,
} from './mesh-cache.js';
export { RevisionTooOldError } from './mesh-cache.js';
export type {
  ClusterState,
  ClusterStatus,
  HostEndpoint,
  LabelMap,
  MeshEndpointSlice,
  MeshEvent,
  MeshKind,
  MeshNamespace,
  MeshObject,
  MeshObjectOf,
  MeshService,
  NamedPort,
  NodeAddress,
  Protocol,
  ServicePort,
  SliceEndpoint,
  WorkloadEndpoint,
} from './mesh-types.js';
export { clusterStates, meshKinds } from './mesh-types.js';
export { connectionStatusValue } from './metrics.js';
export { rccGroup, rccKind, rccPlural, rccVersion } from './rcc-spec.js';
export type { Federation, FederationOptions } from './runtime.js';
export { startFederation } from './runtime.js';
export { fedmeshServiceSelectorAnnotation, tigeraServiceSelectorAnnotation } from './slim.js';
