import Ajv, { type ErrorObject } from 'ajv';
import { rccCrd } from './rcc-crd.js';
import type { RccObject } from './rcc-spec.js';
import type { RccStatus } from './rcc-status.js';

/**
 * RemoteClusterConfigurations are checked against the schema we publish in the CRD before any field is read:
 * the API server validates what users write, but an object stored before a schema change, a status patched by
 * hand (`{"conditions":null}`) or a broken replica's write must not reach code that trusts its shape.
 */

type Json = unknown;

/** The CRD's OpenAPI v3 schema as JSON Schema for ajv: `nullable` becomes a null type; Kubernetes extensions,
 * formats and defaults (which do not constrain) are dropped. */
export function jsonSchemaOf(openapi: Json): Json {
  if (Array.isArray(openapi)) return openapi.map(jsonSchemaOf);
  if (openapi === null || typeof openapi !== 'object') return openapi;
  const out: Record<string, Json> = {};
  const src = openapi as Record<string, Json>;
  for (const [k, v] of Object.entries(src)) {
    if (k.startsWith('x-kubernetes-') || k === 'format' || k === 'default' || k === 'nullable' || k === 'description')
      continue;
    out[k] = k === 'properties' ? mapValues(v as Record<string, Json>, jsonSchemaOf) : jsonSchemaOf(v);
  }
  if (src.nullable === true && typeof src.type === 'string') out.type = [src.type, 'null'];
  return out;
}

function mapValues(o: Record<string, Json>, f: (v: Json) => Json): Record<string, Json> {
  return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, f(v)]));
}

const published = rccCrd.spec.versions[0].schema.openAPIV3Schema;
const objectSchema = jsonSchemaOf(published) as Record<string, Json> & { properties: Record<string, Json> };

const ajv = new Ajv.default({ allErrors: false, strict: false });
const validateObject = ajv.compile({
  ...objectSchema,
  // What the controller reads of metadata, beyond the CRD's `type: object`.
  properties: {
    ...objectSchema.properties,
    metadata: {
      type: 'object',
      required: ['name'],
      properties: {
        name: { type: 'string', minLength: 1, maxLength: 253 },
        uid: { type: 'string' },
        generation: { type: 'integer', minimum: 0 },
      },
    },
    // The status is checked on its own: a bad status must not hide a good spec.
    status: {},
  },
});
const validateStatus = ajv.compile({
  ...(objectSchema.properties.status as Record<string, Json>),
  required: ['state', 'message', 'conditions', 'counts'],
});

export type RccCheck =
  | { readonly rcc: RccObject & { readonly status?: RccStatus }; readonly statusProblem?: string }
  | { readonly name: string | undefined; readonly problem: string };

/** Names the first thing wrong, by its path in the object (never its value). */
function describe(errors: ErrorObject[] | null | undefined, prefix: string): string {
  const e = errors?.[0];
  if (!e) return 'it does not match the schema';
  const path = `${prefix}${e.instancePath.replaceAll('/', '.')}`.replace(/^\./, '');
  return `${path || 'the object'} ${e.message ?? 'is invalid'}`;
}

/**
 * Checks a RemoteClusterConfiguration as read from the API. A bad spec (or metadata) is a problem with the object;
 * a bad or incomplete status is only noted: the leader writes a whole new one.
 */
export function checkRcc(raw: unknown): RccCheck {
  const name =
    typeof raw === 'object' &&
    raw !== null &&
    typeof (raw as { metadata?: { name?: unknown } }).metadata?.name === 'string'
      ? ((raw as { metadata: { name: string } }).metadata.name as string)
      : undefined;
  if (!validateObject(raw)) return { name, problem: describe(validateObject.errors, '') };
  const obj = raw as RccObject & { status?: unknown };
  const { status, ...rest } = obj;
  if (status === undefined || status === null) return { rcc: rest };
  if (!validateStatus(status)) {
    return { rcc: rest, statusProblem: describe(validateStatus.errors, 'status') };
  }
  return { rcc: { ...rest, status: status as RccStatus } };
}
