import type { Manifest } from '../core/kube/apply.js';
import { renderKubeconfig } from '../core/kube/kubeconfig.js';
import { serviceAccountTokenSecret } from '../core/kube/service-account-token.js';
import { kubeconfigSecretKey, rccGroup, rccKind, rccVersion } from './rcc-spec.js';
import { watchedResources } from './watched-resources.js';

export const defaultAccessNamespace = 'fedmesh-system';
/** Name of the ServiceAccount, ClusterRole, ClusterRoleBinding (and prefix of the token Secret) in a remote. */
export const remoteAccessName = 'fedmesh-remote-access';
export const remoteAccessTokenSecret = `${remoteAccessName}-token`;

/**
 * Least privilege for a cluster that joins a mesh: list and watch of exactly the collections the mesh cache
 * reads, nothing else (no get, no secrets, no writes).
 */
export function remoteAccessClusterRole(): Manifest {
  const byGroup = new Map<string, string[]>();
  for (const r of watchedResources) byGroup.set(r.group, [...(byGroup.get(r.group) ?? []), r.resource]);
  return {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRole',
    metadata: { name: remoteAccessName, labels: { 'app.kubernetes.io/part-of': 'fedmesh' } },
    rules: [...byGroup].map(([group, resources]) => ({
      apiGroups: [group],
      resources: resources.sort(),
      verbs: ['list', 'watch'],
    })),
  };
}

/** What a cluster creates so that another cluster's fedmesh can read it. */
export function remoteAccessManifests(namespace = defaultAccessNamespace): Manifest[] {
  const labels = { 'app.kubernetes.io/part-of': 'fedmesh' };
  return [
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace, labels } },
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: remoteAccessName, namespace, labels } },
    remoteAccessClusterRole(),
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: { name: remoteAccessName, labels },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: remoteAccessName },
      subjects: [{ kind: 'ServiceAccount', name: remoteAccessName, namespace }],
    },
    // A long-lived token (Calico's workflow too); delete it to revoke access.
    serviceAccountTokenSecret(namespace, remoteAccessName, remoteAccessTokenSecret, labels),
  ];
}

/**
 * A kubeconfig with inline CA and token: the only form a cluster access Secret accepts. `user` names the identity
 * (default: the remote access ServiceAccount).
 */
export function accessKubeconfig(opts: {
  clusterName: string;
  server: string;
  caPem: string;
  token: string;
  user?: string;
}): string {
  const user = opts.user ?? remoteAccessName;
  return renderKubeconfig({
    cluster: opts.clusterName,
    server: opts.server,
    caPem: opts.caPem,
    user,
    credentials: { token: opts.token },
    context: user === remoteAccessName ? `fedmesh-${opts.clusterName}` : `${user}-${opts.clusterName}`,
  });
}

export function accessSecretName(clusterName: string): string {
  return `remote-cluster-${clusterName}`;
}

/**
 * What the local cluster applies to join the remote one: the Secret's namespace, the Secret with the kubeconfig, and
 * the RCC. The RCC names overlayRoutingMode only when asked: applying the join again (a rotated token, say) must not
 * turn off an overlay someone enabled since, and a new RCC gets the CRD's default (Disabled) anyway.
 */
export function localJoinManifests(opts: {
  clusterName: string;
  kubeconfig: string;
  secretNamespace?: string;
  staleEndpoints?: { mode: 'Retain' | 'Withdraw'; ttl?: string };
  overlayRoutingMode?: 'Enabled' | 'Disabled';
}): Manifest[] {
  const namespace = opts.secretNamespace ?? defaultAccessNamespace;
  const name = accessSecretName(opts.clusterName);
  return [
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } },
    {
      apiVersion: 'v1',
      kind: 'Secret',
      type: 'Opaque',
      metadata: { name, namespace, labels: { 'fedmesh.io/cluster': opts.clusterName } },
      data: { [kubeconfigSecretKey]: Buffer.from(opts.kubeconfig).toString('base64') },
    },
    {
      apiVersion: `${rccGroup}/${rccVersion}`,
      kind: rccKind,
      metadata: { name: opts.clusterName },
      spec: {
        clusterAccessSecret: { name, namespace },
        ...(opts.overlayRoutingMode ? { overlayRoutingMode: opts.overlayRoutingMode } : {}),
        ...(opts.staleEndpoints ? { staleEndpoints: opts.staleEndpoints } : {}),
      },
    },
  ];
}
