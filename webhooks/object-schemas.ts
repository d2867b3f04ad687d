// The shapes of the objects the webhooks read, checked with ajv before any field is used: a request can come from
// anything that reaches the port, not only from kube-apiserver. Only the fields the validators read are described
// (others pass through); sizes are bounded so that no input makes a check slow.

import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import type { Diagnostic } from '../core/policy/index.js';
import { fnpCrd } from '../core/policy/index.js';

const str = (maxLength: number) => ({ type: 'string', maxLength });
const list = (items: object, maxItems = 1024) => ({ type: 'array', maxItems, items });

const labelSelector = {
  type: 'object',
  properties: {
    matchLabels: { type: 'object', maxProperties: 256, additionalProperties: str(63) },
    matchExpressions: list(
      {
        type: 'object',
        required: ['key', 'operator'],
        properties: { key: str(317), operator: str(32), values: list(str(63), 4096) },
      },
      256,
    ),
  },
};

const metadata = {
  type: 'object',
  properties: {
    name: str(253),
    namespace: str(63),
    annotations: { type: 'object', maxProperties: 1024, additionalProperties: { type: 'string' } },
  },
};

const npPeer = {
  type: 'object',
  properties: {
    podSelector: labelSelector,
    namespaceSelector: labelSelector,
    ipBlock: { type: 'object', required: ['cidr'], properties: { cidr: str(64), except: list(str(64), 256) } },
  },
};

const npPort = {
  type: 'object',
  properties: {
    protocol: str(16),
    port: { type: ['integer', 'string'], maxLength: 15 },
    endPort: { type: 'integer' },
  },
};

const networkPolicy = {
  type: 'object',
  required: ['spec'],
  properties: {
    metadata,
    spec: {
      type: 'object',
      properties: {
        podSelector: labelSelector,
        policyTypes: list({ enum: ['Ingress', 'Egress'] }, 2),
        ingress: list({ type: 'object', properties: { from: list(npPeer), ports: list(npPort) } }),
        egress: list({ type: 'object', properties: { to: list(npPeer), ports: list(npPort) } }),
      },
    },
  },
};

const remoteClusterConfiguration = {
  type: 'object',
  required: ['spec'],
  properties: {
    metadata,
    spec: {
      type: 'object',
      required: ['clusterAccessSecret'],
      properties: {
        clusterAccessSecret: {
          type: 'object',
          required: ['name', 'namespace'],
          properties: { name: str(253), namespace: str(63) },
        },
      },
    },
  },
};

const service = {
  type: 'object',
  properties: {
    metadata,
    spec: {
      type: 'object',
      properties: {
        selector: { type: 'object', maxProperties: 256 },
        ports: list(
          { type: 'object', properties: { name: str(63), protocol: str(16), port: { type: 'integer' } } },
          256,
        ),
      },
    },
  },
};

/** The FNP CRD's schema for ajv: int-or-string becomes a type union; Kubernetes' own keywords are dropped. */
export function crdSchemaForAjv(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(crdSchemaForAjv);
  if (typeof node !== 'object' || node === null) return node;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(node)) {
    if (k === 'x-kubernetes-int-or-string') out.type = ['integer', 'string'];
    else if (k.startsWith('x-kubernetes-') || k === 'description' || k === 'default') continue;
    else if (k === 'properties') {
      out.properties = Object.fromEntries(Object.entries(v as object).map(([p, s]) => [p, crdSchemaForAjv(s)]));
    } else out[k] = crdSchemaForAjv(v);
  }
  return out;
}

const ajv = new Ajv({ allErrors: true, strict: false });

export const objectShapes = {
  NetworkPolicy: ajv.compile(networkPolicy),
  FederatedNetworkPolicy: ajv.compile(crdSchemaForAjv(fnpCrd.spec.versions[0].schema.openAPIV3Schema) as object),
  RemoteClusterConfiguration: ajv.compile(remoteClusterConfiguration),
  Service: ajv.compile(service),
} as const satisfies Record<string, ValidateFunction>;

const MAX_SHAPE_ERRORS = 8;

/** Shape errors at their field paths (`spec.ingress[0].from`), Kubernetes style; empty when the shape is right. */
export function shapeErrors(validate: ValidateFunction, object: unknown): Diagnostic[] {
  if (validate(object)) return [];
  return (validate.errors ?? []).slice(0, MAX_SHAPE_ERRORS).map((e) => ({
    path: fieldPath(e),
    message: e.keyword === 'required' ? 'Required value' : `Invalid value: ${describe(e)}`,
  }));
}

function fieldPath(e: ErrorObject): string {
  const parts = e.instancePath.split('/').slice(1);
  if (e.keyword === 'required') parts.push(String((e.params as { missingProperty: string }).missingProperty));
  let out = '';
  for (const raw of parts) {
    const p = raw.replaceAll('~1', '/').replaceAll('~0', '~');
    out += /^[0-9]+$/.test(p) ? `[${p}]` : out === '' ? p : `.${p}`;
  }
  return out;
}

function describe(e: ErrorObject): string {
  if (e.keyword === 'enum')
    return `${e.message}: ${(e.params as { allowedValues: unknown[] }).allowedValues.map((v) => JSON.stringify(v)).join(', ')}`;
  return e.message ?? 'invalid';
}

/** Shape errors of a NetworkPolicy or FederatedNetworkPolicy object (for tools that read policies from files). */
export function policyShapeErrors(kind: 'NetworkPolicy' | 'FederatedNetworkPolicy', object: unknown): Diagnostic[] {
  return shapeErrors(objectShapes[kind], object);
}
