// What `fedmesh server` may do in its own cluster, and nothing more, as the ServiceAccount it runs as:
//  - list and watch the collections the mesh cache reads (the same as a remote grants, watched-resources.ts);
//  - read RemoteClusterConfigurations and write their status;
//  - the federated services controller: write EndpointSlices (it only ever changes those with its managed-by
//    labels), get a Service (the owner uid of its slices) and create Events on it;
//  - the multi-cluster services API: read ServiceExports and write their status, write ServiceImports and the
//    Services derived from them (it only ever changes those it created).
//  - in its own namespace: read the cluster access Secrets (an RCC naming a Secret elsewhere reports
//    SecretUnreadable) and hold the leader election Lease.
// The aggregated API's own needs (delegated authentication and authorization) come with its registration
// (apiserver/registration.ts, with `serviceAccount`).

import { accessManifests } from '../core/kube/access-manifests.js';
import type { Manifest } from '../core/kube/apply.js';
import { mcsGroup, serviceExportPlural, serviceImportPlural } from './federated-services/mcs/crds.js';
import { rccGroup, rccPlural } from './rcc-spec.js';
import { remoteAccessClusterRole } from './remote-access.js';

export const serverServiceAccount = 'fedmesh-server';
/** The long-lived token Secret of the ServiceAccount, for a server run outside a pod (the testbed's). */
export const serverTokenSecret = `${serverServiceAccount}-token`;
const name = 'fedmesh:server';
const labels = { 'app.kubernetes.io/part-of': 'fedmesh' };

export function serverAccessManifests(namespace: string, opts: { tokenSecret?: boolean } = {}): Manifest[] {
  return accessManifests({
    namespace,
    serviceAccount: serverServiceAccount,
    roleName: name,
    labels,
    clusterRules: [
      ...(remoteAccessClusterRole().rules as unknown[]),
      { apiGroups: [rccGroup], resources: [rccPlural], verbs: ['get', 'list', 'watch'] },
      { apiGroups: [rccGroup], resources: [`${rccPlural}/status`], verbs: ['patch'] },
      {
        apiGroups: ['discovery.k8s.io'],
        resources: ['endpointslices'],
        verbs: ['create', 'update', 'patch', 'delete'],
      },
      { apiGroups: [''], resources: ['services'], verbs: ['get', 'create', 'patch', 'delete'] },
      { apiGroups: [''], resources: ['events'], verbs: ['create'] },
      { apiGroups: [mcsGroup], resources: [serviceExportPlural], verbs: ['get', 'list', 'watch'] },
      { apiGroups: [mcsGroup], resources: [`${serviceExportPlural}/status`], verbs: ['patch'] },
      {
        apiGroups: [mcsGroup],
        resources: [serviceImportPlural],
        verbs: ['get', 'list', 'watch', 'create', 'update', 'delete'],
      },
      { apiGroups: [mcsGroup], resources: [`${serviceImportPlural}/status`], verbs: ['patch'] },
    ],
    namespaceRules: [
      { apiGroups: [''], resources: ['secrets'], verbs: ['get', 'list', 'watch'] },
      { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['get', 'create', 'update'] },
    ],
    ...(opts.tokenSecret ? { tokenSecret: serverTokenSecret } : {}),
  });
}
