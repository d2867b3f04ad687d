// Kubernetes LabelSelectors (NetworkPolicy podSelector/namespaceSelector, matchExpressions in FNP peers) compiled
// into the selector tree, after Kubernetes' own validation. The tree is the one Calico's conversion yields
// (libcalico-go k8s conversion, k8sSelectorToCalico): matchLabels sorted by key as `k == "v"`, then the expressions
// in order (In → in, NotIn → not in, Exists → has(), DoesNotExist → !has()), all joined by &&; `{}` is all().

import { and, compare, has, inSet, not, type SelectorNode, sortCodePoints } from './ast.js';
import { isLabelValue, isQualifiedName, labelValueErrors, qualifiedNameErrors } from './k8s-validation.js';

export interface LabelSelectorRequirement {
  readonly key: string;
  readonly operator: string;
  readonly values?: readonly string[] | null;
}

/** Structurally the metav1.LabelSelector of the API (and of @kubernetes/client-node's V1LabelSelector). */
export interface LabelSelector {
  readonly matchLabels?: Readonly<Record<string, string>> | null;
  readonly matchExpressions?: readonly LabelSelectorRequirement[] | null;
}

export class InvalidLabelSelectorError extends Error {
  constructor(readonly errors: readonly string[]) {
    super(errors.join('; '));
    this.name = 'InvalidLabelSelectorError';
  }
}

/**
 * Kubernetes' validation of a LabelSelector (ValidateLabelSelector with invalid values disallowed), as the API
 * server words it: `<path>: Invalid value: "<v>": <why>`. `path` is the selector's field path, e.g. `spec.podSelector`.
 */
export function validateLabelSelector(selector: LabelSelector, path = ''): string[] {
  if (isValidLabelSelector(selector)) return [];
  const at = (child: string) => (path === '' ? child : `${path}.${child}`);
  const errors: string[] = [];
  const matchLabels = selector.matchLabels ?? {};
  for (const key of sortCodePoints(Object.keys(matchLabels))) {
    const value = matchLabels[key]!;
    for (const m of qualifiedNameErrors(key)) errors.push(invalid(at('matchLabels'), key, m));
    for (const m of labelValueErrors(value)) errors.push(invalid(at('matchLabels'), value, m));
  }
  (selector.matchExpressions ?? []).forEach((req, i) => {
    errors.push(...requirementErrors(req, at(`matchExpressions[${i}]`)));
  });
  return errors;
}

/**
 * Whether validateLabelSelector finds nothing: the same rules, as tests only. Every admission review validates
 * several selectors, almost always valid ones, and the messages (sorted keys, paths, quoting) are built only for an
 * invalid one.
 */
export function isValidLabelSelector(selector: LabelSelector): boolean {
  const matchLabels = selector.matchLabels ?? {};
  for (const key of Object.keys(matchLabels)) {
    if (!isQualifiedName(key) || !isLabelValue(matchLabels[key]!)) return false;
  }
  for (const req of selector.matchExpressions ?? []) {
    const values = req.values ?? [];
    switch (req.operator) {
      case 'In':
      case 'NotIn':
        if (values.length === 0) return false;
        break;
      case 'Exists':
      case 'DoesNotExist':
        if (values.length > 0) return false;
        break;
      default:
        return false;
    }
    if (!isQualifiedName(req.key)) return false;
    for (const v of values) if (!isLabelValue(v)) return false;
  }
  return true;
}

function requirementErrors(req: LabelSelectorRequirement, path: string): string[] {
  const errors: string[] = [];
  const values = req.values ?? [];
  switch (req.operator) {
    case 'In':
    case 'NotIn':
      if (values.length === 0) {
        errors.push(`${path}.values: Required value: must be specified when \`operator\` is 'In' or 'NotIn'`);
      }
      break;
    case 'Exists':
    case 'DoesNotExist':
      if (values.length > 0) {
        errors.push(`${path}.values: Forbidden: may not be specified when \`operator\` is 'Exists' or 'DoesNotExist'`);
      }
      break;
    default:
      errors.push(invalid(`${path}.operator`, req.operator, 'not a valid selector operator'));
  }
  for (const m of qualifiedNameErrors(req.key)) errors.push(invalid(`${path}.key`, req.key, m));
  values.forEach((v, i) => {
    for (const m of labelValueErrors(v)) errors.push(invalid(`${path}.values[${i}]`, v, m));
  });
  return errors;
}

function invalid(path: string, value: string, why: string): string {
  return `${path}: Invalid value: ${JSON.stringify(value)}: ${why}`;
}

/** The selector tree of a valid LabelSelector; throws InvalidLabelSelectorError listing every problem otherwise. */
export function compileLabelSelector(selector: LabelSelector, path = ''): SelectorNode {
  const errors = validateLabelSelector(selector, path);
  if (errors.length > 0) throw new InvalidLabelSelectorError(errors);
  const matchLabels = selector.matchLabels ?? {};
  const terms: SelectorNode[] = sortCodePoints(Object.keys(matchLabels)).map((key) =>
    compare('eq', key, matchLabels[key]!),
  );
  for (const req of selector.matchExpressions ?? []) terms.push(requirementNode(req));
  return and(terms);
}

/** The tree of one requirement of a valid LabelSelector (as compileLabelSelector makes it, without validating). */
export function requirementNode(req: LabelSelectorRequirement): SelectorNode {
  const values = req.values ?? [];
  switch (req.operator) {
    case 'In':
      return inSet('in', req.key, values);
    case 'NotIn':
      return inSet('notIn', req.key, values);
    case 'Exists':
      return has(req.key);
    default:
      return not(has(req.key)); // DoesNotExist; validation admitted no other operator
  }
}
