import yaml from 'js-yaml';

/** Credentials embedded in a kubeconfig: a bearer token, or a client certificate and key (PEM). */
export type KubeconfigCredentials = { readonly token: string } | { readonly certPem: string; readonly keyPem: string };

/**
 * A kubeconfig with one cluster, one user and one context, everything inline (no file paths, no exec
 * plugins): the form fedmesh writes for the testbed's admins and for cluster access Secrets.
 */
export function renderKubeconfig(o: {
  readonly cluster: string;
  readonly server: string;
  readonly caPem: string;
  readonly user: string;
  readonly credentials: KubeconfigCredentials;
  readonly context?: string;
}): string {
  const b64 = (s: string) => Buffer.from(s).toString('base64');
  const context = o.context ?? o.cluster;
  const user =
    'token' in o.credentials
      ? { token: o.credentials.token }
      : { 'client-certificate-data': b64(o.credentials.certPem), 'client-key-data': b64(o.credentials.keyPem) };
  return yaml.dump(
    {
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: o.cluster, cluster: { server: o.server, 'certificate-authority-data': b64(o.caPem) } }],
      users: [{ name: o.user, user }],
      contexts: [{ name: context, context: { cluster: o.cluster, user: o.user } }],
      'current-context': context,
    },
    { lineWidth: -1, noRefs: true },
  );
}
