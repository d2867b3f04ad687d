// AdmissionReview v1 (admission.k8s.io/v1): reading a request body that may be anything, and writing the answers
// kube-apiserver accepts. What it checks in an answer (apiserver admission/plugin/webhook/request
// VerifyAdmissionResponse): apiVersion and kind as sent, `response.uid` equal to the request's, and no patch from a
// validating webhook. A denial's `status.message` is shown to the user after `admission webhook "<name>" denied the
// request: `; warnings become `Warning:` headers, and any warning holding a control character (a newline) is
// dropped by kube-apiserver (apimachinery util/net NewWarningHeader), so warnings here are one line each.

import { Ajv } from 'ajv';

export const ADMISSION_API_VERSION = 'admission.k8s.io/v1';

export interface GroupVersionResource {
  readonly group: string;
  readonly version: string;
  readonly resource: string;
}

export type Operation = 'CREATE' | 'UPDATE' | 'DELETE' | 'CONNECT';

/** The fields of an AdmissionRequest the webhooks read, after the shape check. */
export interface AdmissionRequest {
  readonly uid: string;
  readonly kind: { readonly group: string; readonly version: string; readonly kind: string };
  readonly resource: GroupVersionResource;
  readonly subResource?: string;
  readonly name?: string;
  readonly namespace?: string;
  readonly operation: Operation;
  readonly userInfo?: { readonly username?: string };
  readonly object?: unknown;
  readonly oldObject?: unknown;
  readonly dryRun?: boolean;
}

const MAX_UID = 128;

const requestSchema = {
  type: 'object',
  required: ['apiVersion', 'kind', 'request'],
  properties: {
    apiVersion: { const: ADMISSION_API_VERSION },
    kind: { const: 'AdmissionReview' },
    request: {
      type: 'object',
      required: ['uid', 'kind', 'resource', 'operation'],
      properties: {
        uid: { type: 'string', minLength: 1, maxLength: MAX_UID },
        kind: {
          type: 'object',
          required: ['group', 'version', 'kind'],
          properties: { group: { type: 'string' }, version: { type: 'string' }, kind: { type: 'string' } },
        },
        resource: {
          type: 'object',
          required: ['group', 'version', 'resource'],
          properties: { group: { type: 'string' }, version: { type: 'string' }, resource: { type: 'string' } },
        },
        subResource: { type: 'string' },
        name: { type: 'string' },
        namespace: { type: 'string' },
        operation: { enum: ['CREATE', 'UPDATE', 'DELETE', 'CONNECT'] },
        userInfo: { type: 'object', properties: { username: { type: 'string' } } },
        dryRun: { type: 'boolean' },
      },
    },
  },
} as const;

const ajv = new Ajv({ allErrors: false, strict: true });
const isReview = ajv.compile<{ request: AdmissionRequest }>(requestSchema);

export type ParsedReview =
  | { readonly ok: true; readonly request: AdmissionRequest }
  /** Not an AdmissionReview we can answer: HTTP 400 with this message. */
  | { readonly ok: false; readonly message: string };

/** Reads a decoded JSON body as an AdmissionReview v1 request. */
export function parseAdmissionReview(body: unknown): ParsedReview {
  if (isReview(body)) return { ok: true, request: body.request };
  const e = isReview.errors?.[0];
  const where = e?.instancePath ? e.instancePath.slice(1).replaceAll('/', '.') : '';
  const what =
    e?.keyword === 'const' || e?.keyword === 'enum' ? `${e.message}: ${JSON.stringify(e.params)}` : e?.message;
  return {
    ok: false,
    message: `not an ${ADMISSION_API_VERSION} AdmissionReview request: ${where === '' ? '' : `${where} `}${what ?? 'invalid'}`,
  };
}

export interface AdmissionResponse {
  readonly apiVersion: typeof ADMISSION_API_VERSION;
  readonly kind: 'AdmissionReview';
  readonly response: {
    readonly uid: string;
    readonly allowed: boolean;
    readonly status?: { readonly code: number; readonly reason: string; readonly message: string };
    readonly warnings?: readonly string[];
  };
}

export function allow(uid: string, warnings: readonly string[] = []): AdmissionResponse {
  return {
    apiVersion: ADMISSION_API_VERSION,
    kind: 'AdmissionReview',
    response: { uid, allowed: true, ...(warnings.length > 0 ? { warnings: headerSafe(warnings) } : {}) },
  };
}

const PLAIN_ALLOW_HEAD = `{"apiVersion":"${ADMISSION_API_VERSION}","kind":"AdmissionReview","response":{"uid":`;

/**
 * The answer as JSON: JSON.stringify(answer), with the one nearly every review gets (allowed, no warnings) written
 * around its uid without serializing the objects (a review's answer was ~2 µs of JSON.stringify on the server).
 */
export function admissionResponseJson(answer: AdmissionResponse): string {
  const r = answer.response;
  if (r.allowed === true && r.warnings === undefined && r.status === undefined) {
    return `${PLAIN_ALLOW_HEAD}${JSON.stringify(r.uid)},"allowed":true}}`;
  }
  return JSON.stringify(answer);
}

/** A denial: code 403 Forbidden with the message the user sees (it may span lines). */
export function deny(uid: string, message: string, warnings: readonly string[] = []): AdmissionResponse {
  return {
    apiVersion: ADMISSION_API_VERSION,
    kind: 'AdmissionReview',
    response: {
      uid,
      allowed: false,
      status: { code: 403, reason: 'Forbidden', message },
      ...(warnings.length > 0 ? { warnings: headerSafe(warnings) } : {}),
    },
  };
}

/** At most this many warnings are sent; kube-apiserver truncates each after 4 KiB of warnings in total. */
export const MAX_WARNINGS = 16;

// One line each (control characters become spaces), deduplicated, bounded in number.
function headerSafe(warnings: readonly string[]): string[] {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what this removes
  const lines = [...new Set(warnings.map((w) => w.replace(/[\u0000-\u001f\u007f-\u009f]+/g, ' ').trim()))];
  if (lines.length <= MAX_WARNINGS) return lines;
  return [...lines.slice(0, MAX_WARNINGS - 1), `… and ${lines.length - MAX_WARNINGS + 1} more warnings`];
}
