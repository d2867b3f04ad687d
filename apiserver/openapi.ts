import { etagOf } from './discovery.js';
import { group, groupVersion, type ResourceDefinition, resourceNames, resources, version } from './resources.js';

/** OpenAPI v3 (per group-version) and v2 documents, so that `kubectl explain` and server-side tooling work (OAPI-*). */

const metaPrefix = 'io.k8s.apimachinery.pkg.apis.meta.v1';
const schemaPrefix = 'io.fedmesh.federation.v1alpha1';

type Schema = Record<string, unknown>;
const str = (description: string): Schema => ({ type: 'string', description });
const bool = (description: string): Schema => ({ type: 'boolean', description });
const int = (description: string): Schema => ({ type: 'integer', format: 'int64', description });
const arr = (items: Schema, description: string): Schema => ({ type: 'array', items, description });
const obj = (properties: Record<string, Schema>, description: string): Schema => ({
  type: 'object',
  properties,
  description,
});
const labels = (description: string): Schema => ({
  type: 'object',
  additionalProperties: { type: 'string' },
  description,
});

const port = obj(
  { name: str('Port name.'), port: int('Port number.'), protocol: str('TCP, UDP or SCTP.') },
  'A named port.',
);
const staleStatus = {
  ready: bool('Whether the object is ready in its cluster.'),
  stale: bool('True while its cluster is unreachable: the object is kept (Retain) but may be out of date.'),
  staleSince: str('When its cluster became unreachable (RFC 3339).'),
};

const specs: Record<ResourceDefinition['kind'], { spec: Schema; extra?: Record<string, Schema>; status: Schema }> = {
  RemoteWorkload: {
    spec: obj(
      {
        cluster: str('The remote cluster of the pod.'),
        podName: str('The pod name in its cluster.'),
        nodeName: str('The node of the pod in its cluster.'),
        ips: arr({ type: 'string' }, 'The pod IPs.'),
        serviceAccountName: str('The pod service account.'),
        ports: arr(port, 'The container ports, for named ports in policy.'),
      },
      'The remote pod as local policy sees it.',
    ),
    status: obj(staleStatus, 'Readiness and staleness.'),
  },
  RemoteNode: {
    spec: obj(
      {
        cluster: str('The remote cluster of the node.'),
        nodeName: str('The node name in its cluster.'),
        addresses: arr(
          obj({ type: str('InternalIP, ExternalIP, Hostname…'), address: str('The address.') }, 'A node address.'),
          'The node addresses.',
        ),
        podCIDRs: arr({ type: 'string' }, 'The pod CIDRs routed to the node.'),
        vtep: obj({ address: str('Tunnel address.'), mac: str('Tunnel MAC.') }, 'The VXLAN tunnel endpoint.'),
      },
      'The remote node: a host endpoint and a tunnel-map entry.',
    ),
    status: obj(staleStatus, 'Readiness and staleness.'),
  },
  FederatedEndpoint: {
    spec: obj(
      {
        serviceSelector: str(
          'The selector of the federated Service (annotation federation.fedmesh.io/serviceSelector), canonical.',
        ),
        ports: arr(port, 'The federated Service ports; backends are matched by port name and protocol.'),
      },
      'What the federated Service asks for.',
    ),
    extra: {
      endpoints: arr(
        obj(
          {
            cluster: str('The cluster of the endpoint.'),
            service: str('The backing Service in that cluster.'),
            ip: str('The endpoint IP.'),
            nodeName: str('The node of the endpoint.'),
            podName: str('The pod behind the endpoint.'),
            ready: bool('EndpointSlice condition ready.'),
            serving: bool('EndpointSlice condition serving.'),
            terminating: bool('EndpointSlice condition terminating.'),
            ports: arr(port, 'The federated port names with the backend port numbers.'),
          },
          'One endpoint.',
        ),
        'The endpoints selected across the mesh.',
      ),
    },
    status: obj(
      {
        valid: bool('Whether the selector parses.'),
        error: str('Why the selector is invalid.'),
        endpoints: int('How many endpoints.'),
        readyEndpoints: int('How many are ready.'),
        clusters: arr({ type: 'string' }, 'Clusters with endpoints.'),
        backends: arr({ type: 'string' }, 'Backing Services as cluster/name.'),
        staleClusters: arr({ type: 'string' }, 'Backing clusters that are unreachable.'),
      },
      'A summary.',
    ),
  },
};

function gvk(kind: string): unknown[] {
  return [{ group, version, kind }];
}

function schemas(ref: (name: string) => string): Record<string, Schema> {
  const out: Record<string, Schema> = {
    [`${metaPrefix}.ObjectMeta`]: obj(
      {
        name: str('Name of the object.'),
        namespace: str('Namespace of the object.'),
        uid: str('Stable unique id.'),
        resourceVersion: str('Opaque version of the object, for watches.'),
        creationTimestamp: str('When the source object (pod, node or Service) was created in its cluster.'),
        labels: labels('Labels, with the virtual fedmesh.io/cluster label.'),
        annotations: labels('Annotations.'),
      },
      'Standard object metadata.',
    ),
    [`${metaPrefix}.ListMeta`]: obj(
      { resourceVersion: str('Version of the list.'), continue: str('Token for the next page.') },
      'Standard list metadata.',
    ),
  };
  for (const n of resourceNames) {
    const d = resources[n];
    const s = specs[d.kind];
    if (!s) continue;
    out[`${schemaPrefix}.${d.kind}`] = {
      ...obj(
        {
          apiVersion: str('federation.fedmesh.io/v1alpha1'),
          kind: str(d.kind),
          metadata: { allOf: [{ $ref: ref(`${metaPrefix}.ObjectMeta`) }], description: 'Standard object metadata.' },
          spec: s.spec,
          ...(s.extra ?? {}),
          status: s.status,
        },
        d.description,
      ),
      'x-kubernetes-group-version-kind': gvk(d.kind),
    };
    out[`${schemaPrefix}.${d.listKind}`] = {
      ...obj(
        {
          apiVersion: str('federation.fedmesh.io/v1alpha1'),
          kind: str(d.listKind),
          metadata: { allOf: [{ $ref: ref(`${metaPrefix}.ListMeta`) }], description: 'Standard list metadata.' },
          items: arr({ $ref: ref(`${schemaPrefix}.${d.kind}`) }, `The ${d.name}.`),
        },
        `A list of ${d.name}.`,
      ),
      'x-kubernetes-group-version-kind': gvk(d.listKind),
    };
  }
  return out;
}

function operation(d: ResourceDefinition, verb: 'get' | 'list' | 'watch', ref: string, v3: boolean): unknown {
  const response = v3
    ? { description: 'OK', content: { 'application/json': { schema: { $ref: ref } } } }
    : { description: 'OK', schema: { $ref: ref } };
  return {
    description: `${verb} ${d.name}`,
    operationId: `${verb}Federation${d.kind}`,
    tags: ['federation_v1alpha1'],
    responses: { '200': response, '401': { description: 'Unauthorized' } },
    'x-kubernetes-action': verb,
    'x-kubernetes-group-version-kind': { group, version, kind: d.kind },
  };
}

function paths(ref: (name: string) => string, v3: boolean): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const n of resourceNames) {
    const d = resources[n];
    const one = ref(`${schemaPrefix}.${d.kind}`);
    const list = ref(`${schemaPrefix}.${d.listKind}`);
    const base = `/apis/${groupVersion}`;
    if (d.namespaced) {
      out[`${base}/${d.name}`] = { get: operation(d, 'list', list, v3) };
      out[`${base}/namespaces/{namespace}/${d.name}`] = { get: operation(d, 'list', list, v3) };
      out[`${base}/namespaces/{namespace}/${d.name}/{name}`] = { get: operation(d, 'get', one, v3) };
    } else {
      out[`${base}/${d.name}`] = { get: operation(d, 'list', list, v3) };
      out[`${base}/${d.name}/{name}`] = { get: operation(d, 'get', one, v3) };
    }
  }
  return out;
}

export interface OpenApiDocs {
  readonly v2: string;
  readonly v3GroupVersion: string;
  readonly v3Root: string;
  readonly v3Etag: string;
  readonly v2Etag: string;
}

/** The documents, built once as JSON text with their ETags. */
export function buildOpenApi(serverVersion: string): OpenApiDocs {
  const info = { title: 'fedmesh federation API', version: serverVersion };
  const v3GroupVersion = JSON.stringify({
    openapi: '3.0.0',
    info,
    paths: paths((n) => `#/components/schemas/${n}`, true),
    components: { schemas: schemas((n) => `#/components/schemas/${n}`) },
  });
  const v3Etag = etagOf(v3GroupVersion);
  const hash = v3Etag.slice(1, 33).toUpperCase();
  const v3Root = JSON.stringify({
    paths: { [`apis/${groupVersion}`]: { serverRelativeURL: `/openapi/v3/apis/${groupVersion}?hash=${hash}` } },
  });
  const v2 = JSON.stringify({
    swagger: '2.0',
    info,
    paths: paths((n) => `#/definitions/${n}`, false),
    definitions: schemas((n) => `#/definitions/${n}`),
  });
  return { v2, v3GroupVersion, v3Root, v3Etag, v2Etag: etagOf(v2) };
}
