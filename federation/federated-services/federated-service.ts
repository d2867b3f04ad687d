import type { MeshService } from '../mesh-types.js';
import { fedmeshServiceSelectorAnnotation, tigeraServiceSelectorAnnotation } from '../slim.js';

/** fedmesh's key first, then Calico's (read too, so that a migration needs no rewrite). */
const serviceSelectorAnnotations = [fedmeshServiceSelectorAnnotation, tigeraServiceSelectorAnnotation] as const;

type ServiceFields = Pick<MeshService, 'annotations' | 'selector'>;

/** The federation annotation's value (fedmesh's key first, then Calico's), whatever else the Service says. */
export function federationAnnotationOf(svc: Pick<MeshService, 'annotations'>): string | undefined {
  for (const key of serviceSelectorAnnotations) {
    const v = svc.annotations[key];
    if (v !== undefined) return v;
  }
  return undefined;
}

/**
 * THE definition of a federated Service: it carries the annotation and has no `spec.selector` (a Service with a
 * selector is filled by Kubernetes' own controller, and two writers would fight). Returns the selector expression,
 * or undefined when the Service is not federated. Everything that asks "is this Service federated" asks this.
 */
export function federatedSelectorOf(svc: ServiceFields): string | undefined {
  return svc.selector === null ? federationAnnotationOf(svc) : undefined;
}

/** On the Service fedmesh derives from a ServiceImport (the holder of its clusterset IP): the import's name. */
export const derivedServiceLabel = 'fedmesh.io/service-import';

/**
 * Whether a Service may back a federated Service: any Service without the annotation. A Service that carries it
 * is never a backend, federated or not (one with a spec.selector is a misconfigured federated Service), so that a
 * federated Service can never select another one, as in Calico. Nor is a Service derived from a ServiceImport
 * (its endpoints are other clusters' already).
 */
export function mayBeBackend(svc: Pick<MeshService, 'annotations' | 'labels'>): boolean {
  return federationAnnotationOf(svc) === undefined && !Object.hasOwn(svc.labels, derivedServiceLabel);
}
