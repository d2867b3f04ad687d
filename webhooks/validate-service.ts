// Federated Service admission (a Service with federation.fedmesh.io/serviceSelector, or Calico's key): the selector
// parses (error with a caret), names valid clusters, the Service has no spec.selector (its endpoints come from the
// mesh, not from Kubernetes), and every port has a name (ports are matched by name and protocol across clusters).

import type { Diagnostic } from '../core/policy/index.js';
import { caretUnder } from '../core/selector/caret.js';
import { CLUSTER_LABEL, namedClusters } from '../core/selector/cluster-scope.js';
import { checkSelector } from '../core/selector/parser.js';
import { fedmeshServiceSelectorAnnotation, tigeraServiceSelectorAnnotation } from '../federation/index.js';
import { objectShapes, shapeErrors } from './object-schemas.js';
import type { ValidationContext, Verdict } from './validation-context.js';

interface ServiceObject {
  readonly metadata?: { readonly annotations?: Readonly<Record<string, string>> };
  readonly spec?: {
    readonly selector?: Readonly<Record<string, unknown>>;
    readonly ports?: readonly { readonly name?: string; readonly port?: number }[];
  };
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

export function validateService(object: unknown, ctx: ValidationContext): Verdict {
  const shape = shapeErrors(objectShapes.Service, object);
  if (shape.length > 0) return { errors: shape, warnings: [] };
  const svc = object as ServiceObject;
  const annotations = svc.metadata?.annotations ?? {};
  const own = annotations[fedmeshServiceSelectorAnnotation];
  const calico = annotations[tigeraServiceSelectorAnnotation];
  if (own === undefined && calico === undefined) return { errors: [], warnings: [] }; // not federated
  const key = own !== undefined ? fedmeshServiceSelectorAnnotation : tigeraServiceSelectorAnnotation;
  const text = own ?? calico ?? '';
  const path = `metadata.annotations[${key}]`;
  const errors: Diagnostic[] = [];
  const warnings: string[] = [];

  if (own !== undefined && calico !== undefined && own !== calico) {
    errors.push({
      path: `metadata.annotations[${tigeraServiceSelectorAnnotation}]`,
      message: `Invalid value: differs from ${fedmeshServiceSelectorAnnotation}, which is the one used; remove one of them`,
    });
  }
  const check = checkSelector(text);
  if (!check.ok) {
    errors.push({
      path,
      message: `invalid selector at position ${check.error.position}: ${check.error.message}`,
      excerpt: caretUnder(text, check.error.position),
    });
  } else {
    const known = ctx.knownClusters();
    for (const name of namedClusters(check.node)) {
      if (!DNS_LABEL.test(name) || name.length > 63) {
        errors.push({
          path,
          message: `${CLUSTER_LABEL} names the cluster ${JSON.stringify(name)}, which is not a valid cluster name: cluster names are DNS-1123 labels`,
        });
      } else if (known !== undefined && name !== ctx.localCluster && !known.has(name)) {
        warnings.push(
          `${path}: ${CLUSTER_LABEL} names "${name}", but no RemoteClusterConfiguration "${name}" exists: no endpoints come from there until that cluster joins the mesh`,
        );
      }
    }
  }
  if (svc.spec?.selector !== undefined && Object.keys(svc.spec.selector).length > 0) {
    errors.push({
      path: 'spec.selector',
      message:
        'Forbidden: a federated Service gets its endpoints from the mesh through its selector annotation; remove spec.selector (with both, Kubernetes and fedmesh would write endpoints for the same Service)',
    });
  }
  (svc.spec?.ports ?? []).forEach((p, i) => {
    if (p.name === undefined || p.name === '') {
      errors.push({
        path: `spec.ports[${i}].name`,
        message: `Required value: federated Services match ports by name and protocol across clusters; name port ${p.port ?? i}`,
      });
    }
  });
  return { errors, warnings };
}
