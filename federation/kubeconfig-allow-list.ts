import Ajv, { type ErrorObject } from 'ajv';

/**
 * The kubeconfig an access Secret may hold, as an allow-list: whoever writes the Secret (often the admin of the
 * remote cluster) must not make this server read its own files (`token-file`, `client-key`, …), run programs
 * (`exec`, `auth-provider`), send its requests elsewhere (`proxy-url`) or turn TLS verification off. Every field
 * that is not listed here is refused by name; values are never quoted, since they may be credentials.
 */
export interface AccessKubeconfig {
  readonly clusters: readonly { name: string; cluster: AccessCluster }[];
  readonly users: readonly { name: string; user: AccessUser }[];
  readonly contexts: readonly { name: string; context: { cluster: string; user: string; namespace?: string } }[];
  readonly 'current-context': string;
}

export interface AccessCluster {
  readonly server: string;
  readonly 'certificate-authority-data'?: string;
}

export interface AccessUser {
  readonly token?: string;
  readonly 'client-certificate-data'?: string;
  readonly 'client-key-data'?: string;
}

const name = { type: 'string', minLength: 1, maxLength: 253 } as const;
const value = { type: 'string', minLength: 1, maxLength: 1024 * 1024 } as const;
const entries = (inner: string, body: object) =>
  ({
    type: 'array',
    maxItems: 100,
    items: {
      type: 'object',
      required: ['name', inner],
      additionalProperties: false,
      properties: { name, [inner]: body },
    },
  }) as const;

export const accessKubeconfigSchema = {
  type: 'object',
  required: ['clusters', 'users', 'contexts', 'current-context'],
  additionalProperties: false,
  properties: {
    apiVersion: { type: 'string', enum: ['v1'] },
    kind: { type: 'string', enum: ['Config'] },
    // `kubectl config view` writes an empty one; nothing in it is used.
    preferences: { type: 'object' },
    'current-context': name,
    clusters: entries('cluster', {
      type: 'object',
      required: ['server'],
      additionalProperties: false,
      properties: { server: { type: 'string', minLength: 1, maxLength: 2048 }, 'certificate-authority-data': value },
    }),
    users: entries('user', {
      type: 'object',
      additionalProperties: false,
      properties: { token: value, 'client-certificate-data': value, 'client-key-data': value },
      dependencies: {
        'client-certificate-data': ['client-key-data'],
        'client-key-data': ['client-certificate-data'],
      },
    }),
    contexts: entries('context', {
      type: 'object',
      required: ['cluster', 'user'],
      additionalProperties: false,
      properties: { cluster: name, user: name, namespace: name },
    }),
  },
} as const;

const ajv = new Ajv.default({ allErrors: false, strict: true });
const validate = ajv.compile(accessKubeconfigSchema);

/** Why a refused field is refused, for the fields people actually write. */
const refusedBecause: Readonly<Record<string, string>> = {
  'token-file': 'files are never read: put the token itself in "token"',
  tokenFile: 'files are never read: put the token itself in "token"',
  'client-certificate': 'files are never read: use "client-certificate-data"',
  'client-key': 'files are never read: use "client-key-data"',
  'certificate-authority': 'files are never read: use "certificate-authority-data"',
  exec: 'credential plugins are never run: use "token" or "client-certificate-data" with "client-key-data"',
  'auth-provider': 'auth providers are not supported: use "token" or "client-certificate-data" with "client-key-data"',
  'insecure-skip-tls-verify': 'TLS verification cannot be turned off: give "certificate-authority-data"',
  'proxy-url': 'requests to remote clusters never go through a proxy',
  'tls-server-name': 'the certificate must name the host of "server"',
  username: 'basic authentication is not supported: use "token" or a client certificate',
  password: 'basic authentication is not supported: use "token" or a client certificate',
  as: 'impersonation is not supported',
  'as-uid': 'impersonation is not supported',
  'as-groups': 'impersonation is not supported',
  'as-user-extra': 'impersonation is not supported',
  extensions: 'extensions are not used',
};

const allowedFields: Readonly<Record<string, string>> = {
  '': 'apiVersion, kind, preferences, clusters, users, contexts, current-context',
  cluster: 'server, certificate-authority-data',
  user: 'token, client-certificate-data, client-key-data',
  context: 'cluster, user, namespace',
};

/** A key as it may appear in a message: keys are not secret, but they are the writer's text, so kept short. */
function quoteKey(key: string): string {
  return JSON.stringify(key.length > 64 ? `${key.slice(0, 64)}…` : key);
}

/** `/users/0/user` → `users[0].user` */
function fieldPath(instancePath: string): string {
  return instancePath
    .split('/')
    .slice(1)
    .map((p) => p.replaceAll('~1', '/').replaceAll('~0', '~'))
    .reduce(
      (acc, p) => (/^\d+$/.test(p) ? `${acc}[${p}]` : acc === '' ? quoteIfOdd(p) : `${acc}.${quoteIfOdd(p)}`),
      '',
    );
}

function quoteIfOdd(p: string): string {
  return /^[A-Za-z][\w-]*$/.test(p) ? p : quoteKey(p);
}

function describe(err: ErrorObject): string {
  const at = fieldPath(err.instancePath);
  const where = at === '' ? 'the kubeconfig' : at;
  const params = err.params as Record<string, unknown>;
  switch (err.keyword) {
    case 'additionalProperty':
    case 'additionalProperties': {
      const key = String(params.additionalProperty);
      const section =
        at
          .split('.')
          .pop()
          ?.replace(/\[\d+\]$/, '') ?? '';
      const why = refusedBecause[key] ?? `allowed here: ${allowedFields[section] ?? 'name and its section'}`;
      return `${where} has field ${quoteKey(key)}, which an access Secret may not use (${why})`;
    }
    case 'required':
      return `${where} has no "${String(params.missingProperty)}"`;
    case 'dependencies':
      return `${where} has "${String(params.property)}" without "${String(params.missingProperty)}"`;
    case 'type':
      return `${where} must be ${params.type === 'array' ? 'a list' : params.type === 'object' ? 'a mapping' : `a ${String(params.type)}`}`;
    case 'enum':
      return `${where} must be ${(params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(' or ')}`;
    case 'minLength':
      return `${where} is empty`;
    case 'maxLength':
    case 'maxItems':
      return `${where} is too long`;
    default:
      return `${where} is not valid (${err.keyword})`;
  }
}

/** Checks the shape of a parsed kubeconfig against the allow-list: the typed config, or why not. */
export function checkAccessKubeconfig(doc: unknown): { config: AccessKubeconfig } | { error: string } {
  if (validate(doc)) return { config: doc as unknown as AccessKubeconfig };
  const first = validate.errors?.[0];
  return { error: first ? describe(first) : 'is not a valid kubeconfig' };
}
