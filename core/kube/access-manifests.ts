// The RBAC layout every fedmesh process runs with: its Namespace and ServiceAccount, a ClusterRole bound to it,
// optionally a Role in its own namespace, and optionally a long-lived token Secret. Each component passes its own
// names and rules; the objects (and their field order, which the generated chart follows) are the same for all.

import type { Manifest } from './apply.js';
import { serviceAccountTokenSecret } from './service-account-token.js';

export interface AccessManifestsSpec {
  readonly namespace: string;
  readonly serviceAccount: string;
  /** The name of the ClusterRole, the Role and their bindings. */
  readonly roleName: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly clusterRules: readonly unknown[];
  /** Rules of a Role in `namespace`; without them no Role or RoleBinding is made. */
  readonly namespaceRules?: readonly unknown[];
  /** The name of a token Secret for the ServiceAccount; without it none is made. */
  readonly tokenSecret?: string;
}

export function accessManifests(spec: AccessManifestsSpec): Manifest[] {
  const { namespace, serviceAccount, roleName: name, labels } = spec;
  const subjects = [{ kind: 'ServiceAccount', name: serviceAccount, namespace }];
  const out: Manifest[] = [
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace, labels } },
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: serviceAccount, namespace, labels } },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRole',
      metadata: { name, labels },
      rules: [...spec.clusterRules],
    },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: { name, labels },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name },
      subjects,
    },
  ];
  if (spec.namespaceRules) {
    out.push(
      {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'Role',
        metadata: { name, namespace, labels },
        rules: [...spec.namespaceRules],
      },
      {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'RoleBinding',
        metadata: { name, namespace, labels },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name },
        subjects,
      },
    );
  }
  if (spec.tokenSecret) out.push(serviceAccountTokenSecret(namespace, serviceAccount, spec.tokenSecret, labels));
  return out;
}
