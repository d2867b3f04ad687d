// The parts of the Helm chart that have one definition in TypeScript: CRDs, RBAC rules, the APIService's group
// and priorities, the validating webhooks. `npm run chart:generate` writes them into charts/fedmesh/ (crds/ and
// files/generated/); the templates read files/generated/ with .Files.Get, so the chart and the processes that
// apply the same objects themselves (the testbed, `fedmesh remote-access`) cannot drift apart. A unit test
// checks that the committed files are what this module generates.

import yaml from 'js-yaml';
import { apiServiceName, registrationManifests } from '../../apiserver/index.js';
import type { Manifest } from '../../core/kube/apply.js';
import { fnpCrd } from '../../core/policy/fnp-crd.js';
import { agentClusterRoleRules } from '../../dataplane-agent/access.js';
import { mcsCrds } from '../../federation/index.js';
import { rccCrd } from '../../federation/rcc-crd.js';
import { remoteAccessClusterRole } from '../../federation/remote-access.js';
import { serverAccessManifests } from '../../federation/server-access.js';
import { webhookConfigurationManifest, webhooksAccessManifests } from '../../webhooks/index.js';

/** The chart folder, relative to the repository root. */
export const chartDir = 'charts/fedmesh';

/** Every CRD the chart installs (Helm's crds/ folder: installed first, never upgraded or deleted by Helm). */
const crds: readonly { readonly source: string; readonly crd: Manifest }[] = [
  { source: 'federation/rcc-crd.ts', crd: rccCrd as unknown as Manifest },
  { source: 'core/policy/fnp-crd.ts', crd: fnpCrd as unknown as Manifest },
  ...mcsCrds.map((crd) => ({ source: 'federation/federated-services/mcs/crds.ts', crd })),
];

function rulesOf(manifests: readonly Manifest[], kind: 'ClusterRole' | 'Role', name?: string): unknown[] {
  const m = manifests.find((x) => x.kind === kind && (name === undefined || x.metadata.name === name));
  if (!m) throw new Error(`no ${kind}${name ? ` ${name}` : ''} among the manifests`);
  return m.rules as unknown[];
}

/** Stands for the release namespace in generated values; the templates put in the real one. */
export const releaseNamespace = '__RELEASE_NAMESPACE__';

/**
 * The validating webhooks (webhooks/configuration.ts) without what the chart decides: where to call them
 * (clientConfig, whose path is kept), failurePolicy and timeoutSeconds (values).
 */
function webhookDefinitions(): { path: string; webhook: Record<string, unknown> }[] {
  const vwc = webhookConfigurationManifest({
    endpoint: { service: { namespace: releaseNamespace, name: 'fedmesh-webhooks' } },
    caBundlePem: '',
    excludedNamespaces: [releaseNamespace],
  });
  return (vwc.webhooks as Record<string, unknown>[]).map((w) => {
    const { clientConfig, failurePolicy: _f, timeoutSeconds: _t, ...webhook } = w;
    const path = (clientConfig as { service?: { path?: string } }).service?.path;
    if (!path) throw new Error(`webhook ${String(w.name)} has no service path`);
    return { path, webhook };
  });
}

/** The registration objects; the placeholders are what the chart templates fill in (namespace, Service, CA). */
const placeholderRegistration = () =>
  registrationManifests({ namespace: 'placeholder', serviceName: 'placeholder', port: 443, caBundlePem: '' });

/** The rule sets the templates use, by key (files/generated/rbac.yaml). */
export function ruleSets(): Record<string, unknown[]> {
  // The rules do not depend on the namespace; the chart puts the objects in its own.
  const server = serverAccessManifests('placeholder');
  const registration = placeholderRegistration();
  const webhooks = webhooksAccessManifests(releaseNamespace);
  return {
    // federation/server-access.ts serverAccessManifests: the ClusterRole fedmesh:server
    serverCluster: rulesOf(server, 'ClusterRole', 'fedmesh:server'),
    // federation/server-access.ts serverAccessManifests: the Role fedmesh:server in the server's namespace
    serverNamespace: rulesOf(server, 'Role', 'fedmesh:server'),
    // federation/remote-access.ts remoteAccessClusterRole: what another cluster's fedmesh may read here
    remoteAccess: remoteAccessClusterRole().rules as unknown[],
    // apiserver/registration.ts: read access to federation.fedmesh.io, aggregated into view, edit and admin
    federationReader: rulesOf(registration, 'ClusterRole', 'fedmesh:federation-reader'),
    // webhooks/access.ts webhooksAccessManifests: the ClusterRole and the Role of fedmesh:webhooks
    webhooksCluster: rulesOf(webhooks, 'ClusterRole', 'fedmesh:webhooks'),
    webhooksNamespace: rulesOf(webhooks, 'Role', 'fedmesh:webhooks'),
    // dataplane-agent/access.ts agentClusterRoleRules: the ClusterRole fedmesh:agent
    agentCluster: agentClusterRoleRules(),
  };
}

/** The APIService's fixed fields (apiserver/registration.ts); the chart adds the Service and caBundle. */
function apiServiceSpec(): Record<string, unknown> {
  const svc = placeholderRegistration().find((m) => m.kind === 'APIService');
  if (!svc) throw new Error('registrationManifests has no APIService');
  const { group, version, groupPriorityMinimum, versionPriority } = svc.spec as Record<string, unknown>;
  return { name: apiServiceName, group, version, groupPriorityMinimum, versionPriority };
}

const header = (source: string) => `# Generated by \`npm run chart:generate\` from ${source}: do not edit by hand.\n`;
const dump = (doc: unknown) => yaml.dump(doc, { lineWidth: -1, noRefs: true, sortKeys: false });

/** Every generated file, by path relative to the repository root. */
export function generatedChartFiles(): Map<string, string> {
  const files = new Map<string, string>();
  for (const { source, crd } of crds) {
    files.set(`${chartDir}/crds/${crd.metadata.name}.yaml`, header(source) + dump(crd));
  }
  files.set(
    `${chartDir}/files/generated/rbac.yaml`,
    header('federation/server-access.ts, federation/remote-access.ts, apiserver/registration.ts') + dump(ruleSets()),
  );
  files.set(
    `${chartDir}/files/generated/apiservice.yaml`,
    header('apiserver/registration.ts') + dump(apiServiceSpec()),
  );
  files.set(
    `${chartDir}/files/generated/webhooks.yaml`,
    header('webhooks/configuration.ts') + dump({ webhooks: webhookDefinitions() }),
  );
  return files;
}

/** Generated folders: a file in them that the generator no longer writes is stale. */
export const generatedDirs = [`${chartDir}/crds`, `${chartDir}/files/generated`] as const;
