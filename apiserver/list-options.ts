import { LabelSelectorParseError, parseLabelSelectorString } from '../core/kube/label-selector-string.js';
import { matcherFor } from '../core/selector/evaluate.js';
import { compileLabelSelector, InvalidLabelSelectorError } from '../core/selector/label-selector.js';
import type { StatusCause } from './status.js';
import { badRequest, invalid } from './status.js';

/** The query parameters of a list or watch (metav1.ListOptions), parsed and validated as the Go server does. */
export interface ListOptions {
  readonly labelMatches: (labels: Readonly<Record<string, string>>) => boolean;
  /** The label selector as sent ('' for none): with the field requirements, what names a selection. */
  readonly labelSelector: string;
  readonly fieldRequirements: readonly FieldRequirement[];
  readonly limit: number | undefined;
  readonly continueToken: string | undefined;
  readonly resourceVersion: string | undefined;
  readonly resourceVersionMatch: 'Exact' | 'NotOlderThan' | undefined;
  readonly watch: boolean;
  readonly timeoutSeconds: number | undefined;
  readonly allowWatchBookmarks: boolean;
  readonly sendInitialEvents: boolean | undefined;
}

export interface FieldRequirement {
  readonly field: string;
  readonly op: '=' | '!=';
  readonly value: string;
}

const truthy = (v: string | null) => v !== null && v !== 'false' && v !== '0';

/** Parses `a=b,c!=d` (also `==`); `allowed` are the fields this resource serves. */
export function parseFieldSelector(input: string, allowed: readonly string[]): FieldRequirement[] {
  if (input.trim() === '') return [];
  return input.split(',').map((term) => {
    const req = parseFieldTerm(term);
    if (!req) throw badRequest(`invalid field selector "${input}": each term must be field=value or field!=value`);
    if (!allowed.includes(req.field)) {
      throw badRequest(`"${req.field}" is not a known field selector: only ${allowed.map((f) => `"${f}"`).join(', ')}`);
    }
    return req;
  });
}

/**
 * One `field=value`, `field==value` or `field!=value` term, in one pass: a regular expression with optional
 * spaces on both sides of a lazy value backtracks quadratically on a long run of spaces, which any user allowed
 * to list could send.
 */
function parseFieldTerm(term: string): FieldRequirement | undefined {
  const t = term.trim();
  const at = t.search(/!=|=/);
  if (at <= 0) return undefined;
  const field = t.slice(0, at).trimEnd();
  if (field === '' || /[\s=!]/.test(field)) return undefined;
  const op = t.startsWith('!=', at) ? '!=' : '=';
  const width = op === '!=' || t.startsWith('==', at) ? 2 : 1;
  return { field, op, value: t.slice(at + width).trimStart() };
}

export function matchesFields(fields: Readonly<Record<string, string>>, reqs: readonly FieldRequirement[]): boolean {
  for (const r of reqs) {
    const v = fields[r.field] ?? '';
    if (r.op === '=' ? v !== r.value : v === r.value) return false;
  }
  return true;
}

export function parseListOptions(q: URLSearchParams, allowedFields: readonly string[]): ListOptions {
  let labelMatches: ListOptions['labelMatches'] = () => true;
  const ls = q.get('labelSelector');
  if (ls) {
    try {
      const m = matcherFor(compileLabelSelector(parseLabelSelectorString(ls)));
      labelMatches = (labels) => m({ get: (k) => labels[k] });
    } catch (err) {
      if (err instanceof LabelSelectorParseError || err instanceof InvalidLabelSelectorError) {
        throw badRequest(`invalid label selector "${ls}": ${err.message}`);
      }
      throw err;
    }
  }
  const fieldRequirements = parseFieldSelector(q.get('fieldSelector') ?? '', allowedFields);
  const causes: StatusCause[] = [];
  const num = (name: string): number | undefined => {
    const raw = q.get(name);
    if (raw === null || raw === '') return undefined;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < 0) {
      causes.push({
        reason: 'FieldValueInvalid',
        field: name,
        message: `Invalid value: "${raw}": must be a non-negative integer`,
      });
      return undefined;
    }
    return n;
  };
  const limit = num('limit');
  const timeoutSeconds = num('timeoutSeconds');
  const resourceVersion = q.get('resourceVersion') || undefined;
  const matchRaw = q.get('resourceVersionMatch') || undefined;
  const continueToken = q.get('continue') || undefined;
  const watch = truthy(q.get('watch'));
  const sendRaw = q.get('sendInitialEvents');
  const sendInitialEvents = sendRaw === null ? undefined : truthy(sendRaw);
  let resourceVersionMatch: ListOptions['resourceVersionMatch'];
  // The checks of apimachinery's ValidateListOptions, in its words (LIST-01).
  if (matchRaw !== undefined) {
    if (matchRaw !== 'Exact' && matchRaw !== 'NotOlderThan') {
      causes.push({
        reason: 'FieldValueNotSupported',
        field: 'resourceVersionMatch',
        message: `Unsupported value: "${matchRaw}": supported values: "Exact", "NotOlderThan"`,
      });
    } else resourceVersionMatch = matchRaw;
    if (resourceVersion === undefined && !(watch && sendInitialEvents)) {
      causes.push({
        reason: 'FieldValueForbidden',
        field: 'resourceVersionMatch',
        message: 'Forbidden: resourceVersionMatch is forbidden unless resourceVersion is provided',
      });
    }
    if (continueToken !== undefined) {
      causes.push({
        reason: 'FieldValueForbidden',
        field: 'resourceVersionMatch',
        message: 'Forbidden: resourceVersionMatch is forbidden when continue is provided',
      });
    }
    if (matchRaw === 'Exact' && resourceVersion === '0') {
      causes.push({
        reason: 'FieldValueForbidden',
        field: 'resourceVersionMatch',
        message: 'Forbidden: resourceVersionMatch "exact" is forbidden for resourceVersion "0"',
      });
    }
  }
  if (sendInitialEvents !== undefined) {
    if (!watch) {
      causes.push({
        reason: 'FieldValueForbidden',
        field: 'sendInitialEvents',
        message: 'Forbidden: sendInitialEvents is forbidden for list',
      });
    } else if (sendInitialEvents && resourceVersionMatch !== 'NotOlderThan') {
      causes.push({
        reason: 'FieldValueForbidden',
        field: 'resourceVersionMatch',
        message: "Forbidden: sendInitialEvents requires setting resourceVersionMatch to 'NotOlderThan'",
      });
    }
    if (sendInitialEvents && !truthy(q.get('allowWatchBookmarks'))) {
      causes.push({
        reason: 'FieldValueForbidden',
        field: 'allowWatchBookmarks',
        message: 'Forbidden: sendInitialEvents requires setting allowWatchBookmarks to true',
      });
    }
  } else if (watch && resourceVersionMatch !== undefined) {
    causes.push({
      reason: 'FieldValueForbidden',
      field: 'resourceVersionMatch',
      message: 'Forbidden: resourceVersionMatch is forbidden for watch unless sendInitialEvents is provided',
    });
  }
  if (causes.length > 0) throw invalid('ListOptions', causes);
  return {
    labelMatches,
    labelSelector: ls ?? '',
    fieldRequirements,
    limit: limit === 0 ? undefined : limit,
    continueToken,
    resourceVersion,
    resourceVersionMatch,
    watch,
    timeoutSeconds,
    allowWatchBookmarks: truthy(q.get('allowWatchBookmarks')),
    sendInitialEvents,
  };
}
