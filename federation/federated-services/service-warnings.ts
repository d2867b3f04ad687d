import type { MeshService } from '../mesh-types.js';
import type { FederatedEndpointsResult } from './endpoints.js';
import { federationAnnotationOf } from './federated-service.js';

export interface ServiceWarning {
  readonly type: 'Warning';
  readonly reason: string;
  readonly message: string;
}

/**
 * What a user must fix on a local Service, for its Events: a federation annotation on a Service with a
 * spec.selector (ignored), an invalid selector, ports that match nothing or match with another protocol.
 * `result` is the Service's endpoint computation when it is federated.
 */
export function serviceWarnings(svc: MeshService, result: FederatedEndpointsResult | undefined): ServiceWarning[] {
  if (!result) {
    if (federationAnnotationOf(svc) === undefined || svc.selector === null) return [];
    return [
      {
        type: 'Warning',
        reason: 'FederationIgnored',
        message:
          'the Service has a spec.selector, so Kubernetes fills its endpoints and the federation serviceSelector is ignored: remove spec.selector to federate it',
      },
    ];
  }
  return result.warnings.map((w) => ({ type: 'Warning', reason: w.reason, message: w.message }));
}
