// RemoteClusterConfiguration admission: its name is the remote cluster's name (a DNS-1123 label, and not this
// cluster's own name), the access Secret reference is well formed, and a warning when fedmesh server will not find
// the Secret (missing, or in a namespace it does not read).

import { dns1123LabelError } from '../core/kube/names.js';
import type { Diagnostic } from '../core/policy/index.js';
import { dns1123SubdomainErrors } from '../core/selector/k8s-validation.js';
import { objectShapes, shapeErrors } from './object-schemas.js';
import type { ValidationContext, Verdict } from './validation-context.js';

interface Rcc {
  readonly metadata?: { readonly name?: string };
  readonly spec: { readonly clusterAccessSecret: { readonly name: string; readonly namespace: string } };
}

export async function validateRemoteClusterConfiguration(
  object: unknown,
  requestName: string | undefined,
  ctx: ValidationContext,
): Promise<Verdict> {
  const shape = shapeErrors(objectShapes.RemoteClusterConfiguration, object);
  if (shape.length > 0) return { errors: shape, warnings: [] };
  const rcc = object as Rcc;
  const errors: Diagnostic[] = [];
  const name = rcc.metadata?.name || requestName || '';
  const nameError = dns1123LabelError(name);
  if (nameError !== undefined) {
    errors.push({
      path: 'metadata.name',
      message: `Invalid value: ${JSON.stringify(name)}: the name is the remote cluster's name and must be a DNS-1123 label (no dots): it ${nameError}`,
    });
  } else if (name === ctx.localCluster) {
    errors.push({
      path: 'metadata.name',
      message: `Invalid value: ${JSON.stringify(name)}: this is the local cluster's own name; a RemoteClusterConfiguration names a remote cluster (cluster names must be unique across the mesh)`,
    });
  }
  const secret = rcc.spec.clusterAccessSecret;
  const secretPath = 'spec.clusterAccessSecret';
  for (const m of dns1123SubdomainErrors(secret.name)) {
    errors.push({ path: `${secretPath}.name`, message: `Invalid value: ${JSON.stringify(secret.name)}: ${m}` });
  }
  const nsError = dns1123LabelError(secret.namespace);
  if (nsError !== undefined) {
    errors.push({
      path: `${secretPath}.namespace`,
      message: `Invalid value: ${JSON.stringify(secret.namespace)}: a namespace name ${nsError}`,
    });
  }
  if (errors.length > 0) return { errors, warnings: [] };

  const warnings: string[] = [];
  const ref = `${secret.namespace}/${secret.name}`;
  if (secret.namespace !== ctx.accessSecretNamespace) {
    warnings.push(
      `${secretPath}.namespace: fedmesh server reads cluster access Secrets only in its own namespace "${ctx.accessSecretNamespace}"; with the Secret in "${secret.namespace}" this RCC will report SecretUnreadable`,
    );
  } else {
    const found = await ctx.secretExists(secret.namespace, secret.name);
    if ('error' in found) {
      warnings.push(`${secretPath}: could not check that the Secret ${ref} exists: ${found.error}`);
    } else if (!found.exists) {
      warnings.push(
        `${secretPath}: the Secret ${ref} does not exist (yet): the connection to "${name}" stays ConfigIncomplete until it does (fedmesh remote-access creates it)`,
      );
    }
  }
  return { errors: [], warnings };
}
