import { createHash } from 'node:crypto';
import { category, group, groupVersion, resourceNames, resources, verbs, version } from './resources.js';

/** Discovery documents (DISC-01…07). Built once: they never depend on remote clusters. */

export function apiResourceList(): unknown {
  return {
    kind: 'APIResourceList',
    apiVersion: 'v1',
    groupVersion,
    resources: resourceNames.map((n) => {
      const d = resources[n];
      return {
        name: d.name,
        singularName: d.singular,
        namespaced: d.namespaced,
        kind: d.kind,
        verbs: [...verbs],
        shortNames: [...d.shortNames],
        categories: [category],
      };
    }),
  };
}

export function apiGroup(): unknown {
  return {
    kind: 'APIGroup',
    apiVersion: 'v1',
    name: group,
    versions: [{ groupVersion, version }],
    preferredVersion: { groupVersion, version },
  };
}

export function apiGroupList(): unknown {
  const { kind: _k, apiVersion: _a, ...g } = apiGroup() as Record<string, unknown>;
  return { kind: 'APIGroupList', apiVersion: 'v1', groups: [g] };
}

export function apiGroupDiscoveryList(): unknown {
  return {
    kind: 'APIGroupDiscoveryList',
    apiVersion: 'apidiscovery.k8s.io/v2',
    metadata: {},
    items: [
      {
        metadata: { name: group },
        versions: [
          {
            version,
            freshness: 'Current',
            resources: resourceNames.map((n) => {
              const d = resources[n];
              return {
                resource: d.name,
                responseKind: { group, version, kind: d.kind },
                scope: d.namespaced ? 'Namespaced' : 'Cluster',
                singularResource: d.singular,
                verbs: [...verbs],
                shortNames: [...d.shortNames],
                categories: [category],
              };
            }),
          },
        ],
      },
    ],
  };
}

export const aggregatedDiscoveryContentType = 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList';

/** A quoted strong ETag of a JSON body, as Go's aggregated discovery handler sets it. */
export function etagOf(body: string): string {
  return `"${createHash('sha512').update(body).digest('hex')}"`;
}
