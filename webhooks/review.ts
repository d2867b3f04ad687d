// One AdmissionReview in, one answer out: which validator a webhook path runs, and how its verdict reads to the
// user. Deletes and subresources are allowed (only the object's own spec is validated); a request for another
// resource than the path's is denied, since it means the webhook configuration is wrong.

import { FNP_GROUP, FNP_PLURAL, formatDiagnostic } from '../core/policy/index.js';
import { rccGroup, rccPlural } from '../federation/index.js';
import { type AdmissionRequest, type AdmissionResponse, allow, deny } from './admission-review.js';
import { validateFederatedNetworkPolicy, validateNetworkPolicy } from './validate-policy.js';
import { validateRemoteClusterConfiguration } from './validate-rcc.js';
import { validateService } from './validate-service.js';
import type { ValidationContext, Verdict } from './validation-context.js';

export interface WebhookRoute {
  /** The path's last segment: /validate/<name>. */
  readonly name: string;
  readonly group: string;
  readonly resource: string;
  readonly kind: string;
  /** API versions the webhook configuration sends. */
  readonly versions: readonly string[];
  readonly scope: 'Namespaced' | 'Cluster';
  readonly validate: (request: AdmissionRequest, ctx: ValidationContext) => Verdict | Promise<Verdict>;
}

export const webhookRoutes: readonly WebhookRoute[] = [
  {
    name: 'networkpolicies',
    group: 'networking.k8s.io',
    resource: 'networkpolicies',
    kind: 'NetworkPolicy',
    versions: ['v1'],
    scope: 'Namespaced',
    validate: (r, ctx) => validateNetworkPolicy(withMeta(r), ctx),
  },
  {
    name: FNP_PLURAL,
    group: FNP_GROUP,
    resource: FNP_PLURAL,
    kind: 'FederatedNetworkPolicy',
    versions: ['v1alpha1'],
    scope: 'Namespaced',
    validate: (r, ctx) => validateFederatedNetworkPolicy(withMeta(r), ctx),
  },
  {
    name: rccPlural,
    group: rccGroup,
    resource: rccPlural,
    kind: 'RemoteClusterConfiguration',
    versions: ['v1alpha1'],
    scope: 'Cluster',
    validate: (r, ctx) => validateRemoteClusterConfiguration(r.object, r.name, ctx),
  },
  {
    name: 'services',
    group: '',
    resource: 'services',
    kind: 'Service',
    versions: ['v1'],
    scope: 'Namespaced',
    validate: (r, ctx) => validateService(r.object, ctx),
  },
];

export const webhookRouteByName: ReadonlyMap<string, WebhookRoute> = new Map(webhookRoutes.map((r) => [r.name, r]));

// The request's namespace and name fill in for an object created with generateName or without metadata.namespace.
function withMeta(r: AdmissionRequest): unknown {
  const o = r.object;
  if (typeof o !== 'object' || o === null || Array.isArray(o)) return o;
  const meta = (o as { metadata?: unknown }).metadata;
  const m = typeof meta === 'object' && meta !== null && !Array.isArray(meta) ? (meta as Record<string, unknown>) : {};
  // Nothing to fill in (the usual case): the object as it is, without copying it.
  if (meta === m && m.namespace !== undefined && m.namespace !== null && m.name) return o;
  return {
    ...o,
    metadata: { ...m, namespace: m.namespace ?? r.namespace, name: m.name || r.name || m.generateName },
  };
}

export type ReviewOutcome = 'allowed' | 'denied' | 'skipped';

export interface Reviewed {
  readonly response: AdmissionResponse;
  readonly outcome: ReviewOutcome;
}

/**
 * The answer to a review. It is returned as is when the validator answers at once (the policy validators, nearly
 * every review) and as a promise only when the validator waits (a Secret lookup): no promise and no microtask hop
 * on the common path. A validator that throws, at once or later, is for the caller to turn into a denial.
 */
export function reviewRequest(
  route: WebhookRoute,
  request: AdmissionRequest,
  ctx: ValidationContext,
): Reviewed | Promise<Reviewed> {
  const { uid, resource } = request;
  if (resource.group !== route.group || resource.resource !== route.resource) {
    const got = `${resource.resource}${resource.group === '' ? '' : `.${resource.group}`}`;
    return {
      response: deny(
        uid,
        `this webhook path validates ${route.resource}${route.group === '' ? '' : `.${route.group}`}, not ${got}: the ValidatingWebhookConfiguration is wrong`,
      ),
      outcome: 'denied',
    };
  }
  if (request.operation === 'DELETE' || request.operation === 'CONNECT' || (request.subResource ?? '') !== '') {
    return { response: allow(uid), outcome: 'skipped' };
  }
  const verdict = route.validate(request, ctx);
  return verdict instanceof Promise ? verdict.then((v) => answer(route, request, v)) : answer(route, request, verdict);
}

function answer(route: WebhookRoute, request: AdmissionRequest, verdict: Verdict): Reviewed {
  const { uid } = request;
  if (verdict.errors.length === 0) return { response: allow(uid, verdict.warnings), outcome: 'allowed' };
  const name = request.namespace ? `${request.namespace}/${request.name ?? ''}` : (request.name ?? '');
  const message = [
    `${route.kind} "${name}" is invalid:`,
    ...verdict.errors.map((e) => `* ${formatDiagnostic(e).replaceAll('\n', '\n  ')}`),
  ].join('\n');
  return { response: deny(uid, message, verdict.warnings), outcome: 'denied' };
}
