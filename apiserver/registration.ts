import type { Manifest } from '../core/kube/apply.js';
import { group, version } from './resources.js';

/**
 * The objects that register the federation API with a cluster's aggregation layer (AGG-01…04, RBAC-01…04):
 * the APIService (pinned to our CA, never insecureSkipTLSVerify), the Service it points to, the server's own
 * delegation rights, and an aggregated ClusterRole so that `view` users can read the fedmesh resources.
 * The Helm chart renders the same objects; the testbed points the Service at 127.0.0.1 with ExternalName.
 */
export interface RegistrationOptions {
  readonly namespace: string;
  readonly serviceName: string;
  readonly port: number;
  readonly caBundlePem: string;
  /** `127.0.0.1` for a server on the host (testbed); undefined for a ClusterIP Service in front of the pods. */
  readonly externalName?: string;
  /** The ServiceAccount the server runs as, for its bindings (undefined: the server runs with other credentials). */
  readonly serviceAccount?: string;
}

export const apiServiceName = `${version}.${group}`;

export function registrationManifests(o: RegistrationOptions): Manifest[] {
  const labels = { 'app.kubernetes.io/name': 'fedmesh', 'app.kubernetes.io/component': 'server' };
  const out: Manifest[] = [
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: o.namespace, labels } },
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: o.serviceName, namespace: o.namespace, labels },
      spec: o.externalName
        ? { type: 'ExternalName', externalName: o.externalName }
        : {
            type: 'ClusterIP',
            selector: labels,
            ports: [{ name: 'https', port: o.port, targetPort: 'https', protocol: 'TCP' }],
          },
    },
    {
      apiVersion: 'apiregistration.k8s.io/v1',
      kind: 'APIService',
      metadata: { name: apiServiceName, labels },
      spec: {
        group,
        version,
        groupPriorityMinimum: 1000,
        versionPriority: 100,
        service: { namespace: o.namespace, name: o.serviceName, port: o.port },
        caBundle: Buffer.from(o.caBundlePem).toString('base64'),
      },
    },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRole',
      metadata: {
        name: 'fedmesh:federation-reader',
        labels: {
          ...labels,
          'rbac.authorization.k8s.io/aggregate-to-view': 'true',
          'rbac.authorization.k8s.io/aggregate-to-edit': 'true',
          'rbac.authorization.k8s.io/aggregate-to-admin': 'true',
        },
      },
      rules: [
        {
          apiGroups: [group],
          resources: ['remoteworkloads', 'federatedendpoints', 'remotenodes'],
          verbs: ['get', 'list', 'watch'],
        },
      ],
    },
  ];
  if (o.serviceAccount) {
    const subject = [{ kind: 'ServiceAccount', name: o.serviceAccount, namespace: o.namespace }];
    out.push(
      {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'ClusterRoleBinding',
        metadata: { name: 'fedmesh:auth-delegator', labels },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'system:auth-delegator' },
        subjects: subject,
      },
      {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'RoleBinding',
        metadata: { name: 'fedmesh:extension-apiserver-authentication-reader', namespace: 'kube-system', labels },
        roleRef: {
          apiGroup: 'rbac.authorization.k8s.io',
          kind: 'Role',
          name: 'extension-apiserver-authentication-reader',
        },
        subjects: subject,
      },
    );
  }
  return out;
}
