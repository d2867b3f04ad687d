// The shape of what fedmesh reads from a cluster's pods, nodes, namespaces, Services and EndpointSlices, as JSON
// schemas checked with ajv before slim.ts touches an object. A remote cluster's API server is not ours: what it
// sends is checked as strictly as Kubernetes' own validation would have (names, label syntax, IPs, ports), but only
// for the fields we use; the rest of an object is never looked at. docs/federation-api.md lists the rules.
import Ajv, { type ErrorObject, type ValidateFunction } from 'ajv';
import type { KubeObject } from '../core/kube/resilient-informer.js';

/** The object kinds fedmesh watches, as Kubernetes names them. */
export type SourceKind = 'Pod' | 'Node' | 'Namespace' | 'Service' | 'EndpointSlice';

/** Why an object was refused: where (a field path, never the value) and what rule it broke. */
export interface ShapeProblem {
  readonly field: string;
  readonly problem: string;
}

const dnsSubdomain = { type: 'string', maxLength: 253, pattern: '^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$' } as const;
const dnsLabel = { type: 'string', maxLength: 63, pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$' } as const;
const labelKey = {
  type: 'string',
  maxLength: 317,
  pattern: '^([a-z0-9]([-a-z0-9.]*[a-z0-9])?/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$',
} as const;
const labelValue = { type: 'string', maxLength: 63, pattern: '^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$' } as const;
const labelMap = {
  type: ['object', 'null'],
  maxProperties: 1000,
  propertyNames: labelKey,
  additionalProperties: labelValue,
} as const;
/** An IPv4 or IPv6 address (empty allowed where Kubernetes leaves it empty): hex digits, dots and colons. */
const ip = { type: 'string', maxLength: 45, pattern: '^[0-9A-Fa-f.:]*$' } as const;
const cidr = { type: 'string', maxLength: 49, pattern: '^[0-9A-Fa-f.:]+/[0-9]{1,3}$' } as const;
const protocol = { type: 'string', enum: ['TCP', 'UDP', 'SCTP'] } as const;
const portNumber = { type: 'integer', minimum: 1, maximum: 65535 } as const;
const portName = { type: 'string', maxLength: 63 } as const;
/** A Service's or EndpointSlice's port name: empty or a DNS-1123 label, as Kubernetes requires (a derived Service and
 * the local slices carry these names). */
const servicePortName = { type: 'string', maxLength: 63, pattern: '^([a-z0-9]([-a-z0-9]*[a-z0-9])?)?$' } as const;
const shortText = { type: 'string', maxLength: 316 } as const;
const optionalBoolean = { type: ['boolean', 'null'] } as const;
const conditions = {
  type: ['array', 'null'],
  maxItems: 64,
  items: { type: 'object', properties: { type: shortText, status: shortText } },
} as const;

/** VXLAN tunnel annotations (slim.ts isVtepAnnotation): IPs and MACs, handed to the dataplane. */
const vtepValue = { type: 'string', maxLength: 45, pattern: '^[0-9A-Fa-f.:]*$' } as const;

function metadata(namespaced: boolean, name: object, vtep = false): object {
  return {
    type: 'object',
    required: namespaced ? ['name', 'namespace'] : ['name'],
    properties: {
      name,
      ...(namespaced ? { namespace: dnsLabel } : {}),
      uid: { type: 'string', maxLength: 128 },
      resourceVersion: { type: 'string', maxLength: 128 },
      creationTimestamp: { type: 'string', maxLength: 64 },
      labels: labelMap,
      annotations: {
        type: ['object', 'null'],
        additionalProperties: { type: 'string', maxLength: 262_144 },
        ...(vtep
          ? {
              patternProperties: {
                '^fedmesh\\.io/': vtepValue,
                '^projectcalico\\.org/IPv[46]VXLANTunnelAddr$': vtepValue,
              },
            }
          : {}),
      },
    },
  };
}

const podSchema = {
  type: 'object',
  required: ['metadata'],
  properties: {
    metadata: metadata(true, dnsSubdomain),
    spec: {
      type: ['object', 'null'],
      properties: {
        hostNetwork: optionalBoolean,
        nodeName: dnsSubdomain,
        serviceAccountName: dnsSubdomain,
        containers: {
          type: ['array', 'null'],
          maxItems: 256,
          items: {
            type: 'object',
            properties: {
              ports: {
                type: ['array', 'null'],
                maxItems: 1000,
                items: {
                  type: 'object',
                  required: ['containerPort'],
                  properties: { name: portName, containerPort: portNumber, protocol },
                },
              },
            },
          },
        },
      },
    },
    status: {
      type: ['object', 'null'],
      properties: {
        phase: { type: 'string', maxLength: 32 },
        podIP: ip,
        podIPs: { type: ['array', 'null'], maxItems: 8, items: { type: 'object', properties: { ip } } },
        conditions,
      },
    },
  },
};

const nodeSchema = {
  type: 'object',
  required: ['metadata'],
  properties: {
    metadata: metadata(false, dnsSubdomain, true),
    spec: {
      type: ['object', 'null'],
      properties: { podCIDR: cidr, podCIDRs: { type: ['array', 'null'], maxItems: 8, items: cidr } },
    },
    status: {
      type: ['object', 'null'],
      properties: {
        addresses: {
          type: ['array', 'null'],
          maxItems: 64,
          items: {
            type: 'object',
            required: ['type', 'address'],
            properties: {
              type: { type: 'string', maxLength: 32 },
              // Hostnames as well as IPs.
              address: { type: 'string', maxLength: 253, pattern: '^[A-Za-z0-9.:_-]*$' },
            },
          },
        },
        conditions,
      },
    },
  },
};

const namespaceSchema = {
  type: 'object',
  required: ['metadata'],
  properties: { metadata: metadata(false, dnsLabel) },
};

const clusterIP = { type: 'string', maxLength: 45, pattern: '^([0-9A-Fa-f.:]*|None)$' } as const;

const serviceSchema = {
  type: 'object',
  required: ['metadata'],
  properties: {
    metadata: metadata(true, dnsLabel),
    spec: {
      type: ['object', 'null'],
      properties: {
        type: { type: 'string', enum: ['ClusterIP', 'NodePort', 'LoadBalancer', 'ExternalName'] },
        selector: labelMap,
        clusterIP,
        clusterIPs: { type: ['array', 'null'], maxItems: 2, items: clusterIP },
        ports: {
          type: ['array', 'null'],
          maxItems: 1000,
          items: {
            type: 'object',
            required: ['port'],
            properties: {
              name: servicePortName,
              port: portNumber,
              targetPort: {
                anyOf: [
                  { type: 'integer', minimum: 0, maximum: 65535 },
                  { type: 'string', maxLength: 15, pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$' },
                ],
              },
              protocol,
            },
          },
        },
      },
    },
  },
};

const endpointSliceSchema = {
  type: 'object',
  required: ['metadata', 'addressType'],
  properties: {
    metadata: metadata(true, dnsSubdomain),
    addressType: { type: 'string', enum: ['IPv4', 'IPv6', 'FQDN'] },
    endpoints: {
      type: ['array', 'null'],
      maxItems: 1000,
      items: {
        type: 'object',
        required: ['addresses'],
        properties: {
          addresses: {
            type: 'array',
            minItems: 1,
            maxItems: 100,
            items: { type: 'string', maxLength: 253, pattern: '^[A-Za-z0-9.:-]+$' },
          },
          conditions: {
            type: ['object', 'null'],
            properties: { ready: optionalBoolean, serving: optionalBoolean, terminating: optionalBoolean },
          },
          nodeName: dnsSubdomain,
          zone: shortText,
          targetRef: {
            type: ['object', 'null'],
            properties: { kind: { type: 'string', maxLength: 63 }, name: dnsSubdomain },
          },
        },
      },
    },
    ports: {
      type: ['array', 'null'],
      maxItems: 100,
      items: {
        type: 'object',
        properties: {
          name: servicePortName,
          port: { type: ['integer', 'null'], minimum: 0, maximum: 65535 },
          protocol,
        },
      },
    },
  },
};

/** The published schemas, by kind (docs and tests read them too). */
export const remoteObjectSchemas: Readonly<Record<SourceKind, object>> = {
  Pod: podSchema,
  Node: nodeSchema,
  Namespace: namespaceSchema,
  Service: serviceSchema,
  EndpointSlice: endpointSliceSchema,
};

// One error is enough to refuse an object, and stops the check early; plain (non-unicode) patterns are faster.
const ajv = new Ajv.default({ allErrors: false, unicodeRegExp: false, strict: true, allowUnionTypes: true });
const validators = new Map<SourceKind, ValidateFunction>(
  Object.entries(remoteObjectSchemas).map(([kind, schema]) => [kind as SourceKind, ajv.compile(schema)]),
);

/** Every property name a schema above defines: a field path shows these, and `*` for any other key. */
const knownFields: ReadonlySet<string> = (() => {
  const names = new Set<string>();
  const walk = (v: unknown): void => {
    if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === 'object') {
      for (const [k, child] of Object.entries(v)) {
        if (k === 'properties' && child && typeof child === 'object') for (const p of Object.keys(child)) names.add(p);
        walk(child);
      }
    }
  };
  walk(Object.values(remoteObjectSchemas));
  return names;
})();

/** `spec.containers[0].ports[1].containerPort`; keys we do not define (label keys, say) show as `[*]`. */
function fieldPath(instancePath: string): string {
  let out = '';
  for (const raw of instancePath.split('/').slice(1)) {
    const seg = raw.replaceAll('~1', '/').replaceAll('~0', '~');
    if (/^\d{1,6}$/.test(seg)) out += `[${seg}]`;
    else if (knownFields.has(seg)) out += out ? `.${seg}` : seg;
    else out += '[*]';
  }
  return out || '(the object)';
}

/** What rule was broken, in words that quote nothing of the value. */
function problemOf(e: ErrorObject): string {
  const p = e.params as Record<string, unknown>;
  switch (e.keyword) {
    case 'type':
      return `must be ${String(p.type).replace(',', ' or ')}`;
    case 'required':
      return `${String(p.missingProperty)} is missing`;
    case 'maxLength':
      return `longer than ${String(p.limit)} characters`;
    case 'maxItems':
      return `more than ${String(p.limit)} items`;
    case 'minItems':
      return `fewer than ${String(p.limit)} items`;
    case 'maxProperties':
      return `more than ${String(p.limit)} entries`;
    case 'pattern':
      return 'not in the syntax of this field';
    case 'enum':
      return `not one of ${((p.allowedValues as unknown[]) ?? []).join(', ')}`;
    case 'minimum':
    case 'maximum':
      return 'out of range';
    case 'anyOf':
      return 'neither a port number nor a port name';
    default:
      return `breaks the rule "${e.keyword}"`;
  }
}

/** Undefined when `obj` has the shape fedmesh needs of a `kind`; else where and why not. */
export function checkRemoteObject(kind: SourceKind, obj: KubeObject): ShapeProblem | undefined {
  const validate = validators.get(kind);
  if (!validate || validate(obj)) return undefined;
  // Of a failed anyOf, its own error says more than its first branch's.
  const e = validate.errors?.find((x) => x.keyword === 'anyOf') ?? validate.errors?.[0];
  if (!e) return { field: '(the object)', problem: 'does not match its schema' };
  // A key refused by propertyNames is reported at its map, by a rule about keys: the key itself is not shown.
  if (e.propertyName !== undefined || e.keyword === 'propertyNames') {
    return { field: fieldPath(e.instancePath), problem: 'has a key that is not a valid label key' };
  }
  return { field: fieldPath(e.instancePath), problem: problemOf(e) };
}

/** An object's name or namespace as a status may show it: itself when it has the syntax of a name, else `(invalid)`. */
export function shownName(value: unknown): string {
  return typeof value === 'string' && value.length <= 253 && /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(value)
    ? value
    : '(invalid)';
}
