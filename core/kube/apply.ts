import type { KubeRestClient } from './rest-client.js';

/** A manifest: enough to find its REST path. */
export interface Manifest {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: { readonly name: string; readonly namespace?: string; readonly [field: string]: unknown };
  readonly [field: string]: unknown;
}

/** Plural resource names of the kinds fedmesh applies (the API's discovery would say the same). */
const plurals: Readonly<Record<string, string>> = {
  Namespace: 'namespaces',
  ServiceAccount: 'serviceaccounts',
  Secret: 'secrets',
  ConfigMap: 'configmaps',
  Service: 'services',
  ClusterRole: 'clusterroles',
  ClusterRoleBinding: 'clusterrolebindings',
  Role: 'roles',
  RoleBinding: 'rolebindings',
  CustomResourceDefinition: 'customresourcedefinitions',
  RemoteClusterConfiguration: 'remoteclusterconfigurations',
  APIService: 'apiservices',
  ValidatingWebhookConfiguration: 'validatingwebhookconfigurations',
};

/** The REST path of one object. */
export function objectPath(m: Manifest): string {
  const plural = plurals[m.kind];
  if (!plural) throw new Error(`no REST path known for kind ${m.kind}`);
  const base = m.apiVersion.includes('/') ? `/apis/${m.apiVersion}` : `/api/${m.apiVersion}`;
  const ns = m.metadata.namespace ? `/namespaces/${encodeURIComponent(m.metadata.namespace)}` : '';
  return `${base}${ns}/${plural}/${encodeURIComponent(m.metadata.name)}`;
}

/** Server-side apply (create or update) as field manager `fedmesh`; returns the object as stored. */
export async function applyManifest<T = unknown>(client: KubeRestClient, m: Manifest): Promise<T> {
  const res = await client.request<T>('PATCH', `${objectPath(m)}?fieldManager=fedmesh&force=true`, {
    body: m,
    contentType: 'application/apply-patch+yaml',
  });
  return res.body;
}
