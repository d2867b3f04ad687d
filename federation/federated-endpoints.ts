import { canonicalSelector } from '../core/selector/canonical.js';
import { CLUSTER_LABEL } from '../core/selector/cluster-scope.js';
import { matcherFor } from '../core/selector/evaluate.js';
import { parseSelector } from '../core/selector/parser.js';
import type { MeshEndpointSlice, MeshService, Protocol, ServicePort } from './mesh-types.js';
import { fedmeshServiceSelectorAnnotation, tigeraServiceSelectorAnnotation } from './slim.js';

/** The annotation that makes a Service federated, and Calico's key, read too so that a migration needs no rewrite. */
const serviceSelectorAnnotations = [fedmeshServiceSelectorAnnotation, tigeraServiceSelectorAnnotation] as const;

/** The selector expression of a federated Service, or undefined when the Service is not federated. */
export function federatedSelectorOf(svc: Pick<MeshService, 'annotations' | 'selector'>): string | undefined {
  if (svc.selector !== null) return undefined; // a Service with spec.selector is filled by Kubernetes, not by us
  for (const key of serviceSelectorAnnotations) {
    const v = svc.annotations[key];
    if (v !== undefined) return v;
  }
  return undefined;
}

export interface FederatedEndpointAddress {
  readonly cluster: string;
  readonly service: string;
  readonly ip: string;
  readonly nodeName: string;
  readonly podName: string;
  readonly ready: boolean;
  readonly serving: boolean;
  readonly terminating: boolean;
  /** The federated Service's port names with the backend's port numbers (matched by name and protocol). */
  readonly ports: readonly { readonly name: string; readonly port: number; readonly protocol: Protocol }[];
}

export type FederatedEndpointsResult =
  | {
      readonly valid: true;
      readonly selector: string;
      readonly backends: readonly { readonly cluster: string; readonly name: string }[];
      readonly endpoints: readonly FederatedEndpointAddress[];
    }
  | { readonly valid: false; readonly selector: string; readonly error: string };

/**
 * The endpoints of a federated Service (DESIGN.md, "Federated services"): every Service of the mesh in the same
 * namespace that the selector picks (with the virtual fedmesh.io/cluster label), except federated Services
 * themselves; their EndpointSlices' endpoints, with ports matched by name and protocol. Pure.
 */
export function federatedEndpoints(
  federated: MeshService,
  services: Iterable<MeshService>,
  slicesOf: (cluster: string, namespace: string, service: string) => Iterable<MeshEndpointSlice>,
): FederatedEndpointsResult {
  const expr = federatedSelectorOf(federated) ?? '';
  let matches: ReturnType<typeof matcherFor>;
  let canonical: string;
  try {
    const tree = parseSelector(expr);
    matches = matcherFor(tree);
    canonical = canonicalSelector(tree);
  } catch (err) {
    return { valid: false, selector: expr, error: err instanceof Error ? err.message : String(err) };
  }
  const wanted = new Map(federated.ports.map((p) => [`${p.name}/${p.protocol}`, p] as const));
  const backends: { cluster: string; name: string }[] = [];
  const endpoints: FederatedEndpointAddress[] = [];
  for (const svc of services) {
    if (svc.namespace !== federated.namespace || federatedSelectorOf(svc) !== undefined) continue;
    const labels = new Map(Object.entries(svc.labels));
    labels.set(CLUSTER_LABEL, svc.cluster);
    if (!matches({ get: (k) => labels.get(k) })) continue;
    backends.push({ cluster: svc.cluster, name: svc.name });
    for (const slice of slicesOf(svc.cluster, svc.namespace, svc.name)) {
      const ports = portsFor(wanted, slice.ports);
      for (const ep of slice.endpoints) {
        for (const ip of ep.addresses) {
          endpoints.push({
            cluster: svc.cluster,
            service: svc.name,
            ip,
            nodeName: ep.nodeName,
            podName: ep.podName,
            ready: ep.ready,
            serving: ep.serving,
            terminating: ep.terminating,
            ports,
          });
        }
      }
    }
  }
  backends.sort((a, b) => (a.cluster === b.cluster ? cmp(a.name, b.name) : cmp(a.cluster, b.cluster)));
  endpoints.sort((a, b) => cmp(a.cluster, b.cluster) || cmp(a.service, b.service) || cmp(a.ip, b.ip));
  return { valid: true, selector: canonical, backends, endpoints };
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function portsFor(
  wanted: ReadonlyMap<string, ServicePort>,
  slicePorts: MeshEndpointSlice['ports'],
): FederatedEndpointAddress['ports'] {
  const out: { name: string; port: number; protocol: Protocol }[] = [];
  for (const p of slicePorts) {
    if (wanted.has(`${p.name}/${p.protocol}`)) out.push({ name: p.name, port: p.port, protocol: p.protocol });
  }
  return out;
}
