import { group, type ResourceName, resourceNames, version } from './resources.js';

/** What a request asks for, from its method and path alone (k8s.io/apiserver's RequestInfo, AUTHZ-02). */
export type RequestInfo =
  | {
      readonly kind: 'resource';
      readonly verb: string;
      readonly resource: ResourceName;
      readonly namespace: string | undefined;
      readonly name: string | undefined;
      /** True for /apis/<g>/<v>/<res> of a namespaced resource: every namespace. */
      readonly allNamespaces: boolean;
    }
  | { readonly kind: 'unknown-resource'; readonly verb: string; readonly path: string }
  | { readonly kind: 'non-resource'; readonly verb: string; readonly path: string };

const methodVerbs: Readonly<Record<string, string>> = {
  POST: 'create',
  PUT: 'update',
  PATCH: 'patch',
  DELETE: 'delete',
};

const truthy = (v: string | null) => v !== null && v !== 'false' && v !== '0';
const isResource = (s: string | undefined): s is ResourceName => resourceNames.includes(s as ResourceName);

export function requestInfo(method: string, url: URL): RequestInfo {
  const path = url.pathname;
  const parts = path.split('/').filter((p) => p !== '');
  const lower = method.toLowerCase();
  if (parts[0] !== 'apis' || parts[1] !== group || parts[2] !== version || parts.length < 4) {
    return { kind: 'non-resource', verb: lower === 'head' ? 'get' : lower, path };
  }
  let rest = parts.slice(3);
  let namespace: string | undefined;
  if (rest[0] === 'namespaces' && rest.length >= 3) {
    namespace = rest[1];
    rest = rest.slice(2);
  }
  const [resource, name, ...sub] = rest;
  if (!isResource(resource) || sub.length > 0) {
    return { kind: 'unknown-resource', verb: verbFor(method, url, name !== undefined), path };
  }
  const namespaced = resource !== 'remotenodes';
  if (!namespaced && namespace !== undefined) return { kind: 'unknown-resource', verb: lower, path };
  const verb = verbFor(method, url, name !== undefined);
  // A collection watch on one name is authorized as a watch of that name (requestinfo.go).
  let authzName = name;
  if (name === undefined && (verb === 'list' || verb === 'watch')) {
    const m = /(?:^|,)metadata\.name==?([^,]+)/.exec(url.searchParams.get('fieldSelector') ?? '');
    if (m) authzName = m[1];
  }
  return {
    kind: 'resource',
    verb,
    resource,
    namespace,
    name: authzName,
    allNamespaces: namespaced && namespace === undefined,
  };
}

function verbFor(method: string, url: URL, named: boolean): string {
  if (method === 'GET' || method === 'HEAD') {
    if (truthy(url.searchParams.get('watch'))) return 'watch';
    return named ? 'get' : 'list';
  }
  if (method === 'DELETE' && !named) return 'deletecollection';
  return methodVerbs[method] ?? method.toLowerCase();
}
