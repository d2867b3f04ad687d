// Federated services: a local Service with the federation annotation and no spec.selector gets EndpointSlices
// with the endpoints of the Services of the mesh its selector picks.
export { FederatedServicesController, type FederatedServicesOptions } from './controller.js';
export {
  type EndpointPort,
  type FederatedEndpointAddress,
  type FederatedEndpointsResult,
  type FederationWarning,
  federatedEndpoints,
} from './endpoints.js';
export { federatedSelectorOf, federationAnnotationOf, mayBeBackend } from './federated-service.js';
export { type LocalAddressGuard, LocalNetworks } from './local-networks.js';
export { ServiceImportController, type ServiceImportOptions } from './mcs/controller.js';
export { mcsCrds } from './mcs/crds.js';
export { DEFAULT_MAX_EXPORTS_PER_CLUSTER } from './mcs/export-limit.js';
export { managedByLabel, managedByValue } from './slice-plan.js';
