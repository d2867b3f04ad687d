import { canonicalSelector } from '../../core/selector/canonical.js';
import { CLUSTER_LABEL } from '../../core/selector/cluster-scope.js';
import { matcherFor } from '../../core/selector/evaluate.js';
import { parseSelector } from '../../core/selector/parser.js';
import type { MeshEndpointSlice, MeshService, Protocol } from '../mesh-types.js';
import { federatedSelectorOf, mayBeBackend } from './federated-service.js';
import type { LocalAddressGuard } from './local-networks.js';

export interface EndpointPort {
  readonly name: string;
  readonly port: number;
  readonly protocol: Protocol;
}

/** One address of a backend, as a federated Service's EndpointSlices and its FederatedEndpoint both show it. */
export interface FederatedEndpointAddress {
  readonly cluster: string;
  readonly service: string;
  /** IPv4, IPv6 or FQDN: the backend slice's addressType (a slice holds one family). */
  readonly addressType: string;
  readonly ip: string;
  readonly nodeName: string;
  readonly podName: string;
  /** The topology zone the source slice gives ('' when it gives none). */
  readonly zone: string;
  readonly ready: boolean;
  readonly serving: boolean;
  readonly terminating: boolean;
  /** The federated Service's port names with the backend's port numbers (matched by name and protocol). */
  readonly ports: readonly EndpointPort[];
}

/** Something a user must fix, shown as a Warning Event on the federated Service. */
export interface FederationWarning {
  readonly reason: 'InvalidServiceSelector' | 'PortNotMatched' | 'PortProtocolConflict' | 'RemoteAddressIsLocal';
  readonly message: string;
}

export type FederatedEndpointsResult =
  | {
      readonly valid: true;
      readonly selector: string;
      readonly backends: readonly { readonly cluster: string; readonly name: string }[];
      /** Sorted by cluster, service, address; one entry per (cluster, address, ports). */
      readonly endpoints: readonly FederatedEndpointAddress[];
      readonly warnings: readonly FederationWarning[];
    }
  | {
      readonly valid: false;
      readonly selector: string;
      readonly error: string;
      readonly warnings: readonly FederationWarning[];
    };

const portKey = (name: string, protocol: string) => `${name}/${protocol}`;

type Compiled =
  | { readonly matches: ReturnType<typeof matcherFor>; readonly canonical: string }
  | { readonly error: string };
/** Selectors compiled once: every sync of a federated Service evaluates the same expression again. */
const compiledSelectors = new Map<string, Compiled>();

function compile(expr: string): Compiled {
  let c = compiledSelectors.get(expr);
  if (c) return c;
  try {
    const tree = parseSelector(expr);
    c = { matches: matcherFor(tree), canonical: canonicalSelector(tree) };
  } catch (err) {
    c = { error: err instanceof Error ? err.message : String(err) };
  }
  if (compiledSelectors.size >= 10_000) compiledSelectors.clear(); // bounded: annotations are user input
  compiledSelectors.set(expr, c);
  return c;
}

/**
 * The endpoints of a federated Service (DESIGN.md, "Federated services"): every Service of the mesh in the same
 * namespace that the selector picks (over its labels plus the virtual fedmesh.io/cluster), except Services that
 * carry the federation annotation; their EndpointSlices' endpoints, with the ports whose name and protocol the
 * federated Service declares (numbers from the backend). An endpoint with no such port is left out. Pure: the
 * EndpointSlices fedmesh writes and the FederatedEndpoint it serves are both made from this one result.
 */
export function federatedEndpoints(
  federated: MeshService,
  services: Iterable<MeshService>,
  slicesOf: (cluster: string, namespace: string, service: string) => Iterable<MeshEndpointSlice>,
  guard?: LocalAddressGuard,
): FederatedEndpointsResult {
  return endpointsOfSelection(federated, selectBackends(federated, services), slicesOf, guard);
}

/** The Services a federated Service selects, or why its selector is invalid. */
export type BackendSelection =
  | { readonly valid: true; readonly selector: string; readonly backends: readonly MeshService[] }
  | { readonly valid: false; readonly selector: string; readonly error: string };

/**
 * The first half of `federatedEndpoints`: which Services of the mesh it selects (sorted by cluster and name). It
 * changes only with Services, so a controller may keep it while only EndpointSlices change.
 */
export function selectBackends(federated: MeshService, services: Iterable<MeshService>): BackendSelection {
  const expr = federatedSelectorOf(federated) ?? '';
  const compiled = compile(expr);
  if ('error' in compiled) return { valid: false, selector: expr, error: compiled.error };
  const { matches, canonical } = compiled;
  const backends: MeshService[] = [];
  for (const svc of services) {
    if (svc.namespace !== federated.namespace || !mayBeBackend(svc)) continue;
    if (!matches({ get: (k) => (k === CLUSTER_LABEL ? svc.cluster : own(svc.labels, k)) })) continue;
    backends.push(svc);
  }
  backends.sort((a, b) => cmp(a.cluster, b.cluster) || cmp(a.name, b.name));
  return { valid: true, selector: canonical, backends };
}

/** The second half: the endpoints of a selection, from the backends' EndpointSlices as they are now. */
export function endpointsOfSelection(
  federated: MeshService,
  selection: BackendSelection,
  slicesOf: (cluster: string, namespace: string, service: string) => Iterable<MeshEndpointSlice>,
  guard?: LocalAddressGuard,
): FederatedEndpointsResult {
  if (!selection.valid) {
    const { selector, error } = selection;
    return {
      valid: false,
      selector,
      error,
      warnings: [
        { reason: 'InvalidServiceSelector', message: `the serviceSelector "${selector}" is invalid: ${error}` },
      ],
    };
  }
  const { backends, selector } = selection;
  const refused = new Map<string, number>();
  return {
    valid: true,
    selector,
    backends: backends.map((b) => ({ cluster: b.cluster, name: b.name })),
    endpoints: endpointsOfBackends(federated.ports, backends, slicesOf, guard, refused),
    warnings: [...portWarnings(federated, backends), ...localAddressWarnings(refused)],
  };
}

/** A warning per remote cluster some of whose endpoint addresses were this cluster's own (left out). */
export function localAddressWarnings(refused: ReadonlyMap<string, number>): FederationWarning[] {
  return [...refused].map(([cluster, n]) => ({
    reason: 'RemoteAddressIsLocal' as const,
    message: `${n} endpoint address${n === 1 ? '' : 'es'} of cluster ${cluster} ${n === 1 ? 'is' : 'are'} this cluster's own (a node's address or pod CIDR, or a local pod's address) and ${n === 1 ? 'is' : 'are'} left out: a remote cluster cannot point a local Service at local hosts; check that cluster's EndpointSlices and pod CIDRs`,
  }));
}

/**
 * The endpoints of the given backend Services (in their order): from their EndpointSlices, with the ports whose
 * name and protocol `ports` declares (numbers from the backend); an endpoint with none of them is left out, unless
 * `ports` is empty. One entry per (cluster, address family, address, ports): an address in two slices (a slice
 * being rebalanced) or two backends counts once, ready if either says so. Also the machinery of ServiceImports.
 */
export function endpointsOfBackends(
  ports: readonly { readonly name: string; readonly protocol: Protocol }[],
  backends: readonly MeshService[],
  slicesOf: (cluster: string, namespace: string, service: string) => Iterable<MeshEndpointSlice>,
  guard?: LocalAddressGuard,
  /** Filled with how many addresses of each remote cluster the guard refused. */
  refused?: Map<string, number>,
): FederatedEndpointAddress[] {
  const wanted = new Set(ports.map((p) => portKey(p.name, p.protocol)));
  const byKey = new Map<string, FederatedEndpointAddress>();
  for (const svc of backends) {
    const slices = [...slicesOf(svc.cluster, svc.namespace, svc.name)].sort((a, b) => cmp(a.name, b.name));
    for (const slice of slices) {
      const matched = slice.ports
        .filter((p) => wanted.has(portKey(p.name, p.protocol)))
        .map((p) => ({ name: p.name, port: p.port, protocol: p.protocol }))
        .sort((a, b) => cmp(a.name, b.name) || cmp(a.protocol, b.protocol));
      if (wanted.size > 0 && matched.length === 0) continue;
      const portsId = matched.map((p) => `${p.name}/${p.protocol}/${p.port}`).join(',');
      for (const ep of slice.endpoints) {
        for (const ip of ep.addresses) {
          if (guard && svc.cluster !== guard.localCluster && guard.isLocal(ip)) {
            refused?.set(svc.cluster, (refused.get(svc.cluster) ?? 0) + 1);
            continue;
          }
          const key = `${svc.cluster}|${slice.addressType}|${ip}|${portsId}`;
          const prev = byKey.get(key);
          if (prev && (prev.ready || !ep.ready)) continue;
          byKey.set(key, {
            cluster: svc.cluster,
            service: svc.name,
            addressType: slice.addressType,
            ip,
            nodeName: ep.nodeName,
            podName: ep.podName,
            zone: ep.zone ?? '',
            ready: ep.ready,
            serving: ep.serving,
            terminating: ep.terminating,
            ports: matched,
          });
        }
      }
    }
  }
  return [...byKey.values()].sort((a, b) => cmp(a.cluster, b.cluster) || cmp(a.service, b.service) || cmp(a.ip, b.ip));
}

/** Ports of the federated Service that no backend declares, and names that backends declare with another protocol. */
function portWarnings(federated: MeshService, backends: readonly MeshService[]): FederationWarning[] {
  if (backends.length === 0) return [];
  const out: FederationWarning[] = [];
  for (const p of federated.ports) {
    const same = backends.some((b) => b.ports.some((bp) => bp.name === p.name && bp.protocol === p.protocol));
    if (same) continue;
    const other = backends.flatMap((b) =>
      b.ports.filter((bp) => bp.name === p.name).map((bp) => `${b.cluster}/${b.name} (${bp.protocol})`),
    );
    const label = p.name === '' ? 'the unnamed port' : `port "${p.name}"`;
    if (other.length > 0) {
      out.push({
        reason: 'PortProtocolConflict',
        message: `${label} is ${p.protocol} here but ${other.join(', ')} in the selected Services: no endpoint gets it`,
      });
    } else {
      out.push({
        reason: 'PortNotMatched',
        message: `${label}/${p.protocol} matches no port of the ${backends.length} selected Services in any cluster (ports match by name and protocol)`,
      });
    }
  }
  return out;
}

function own(labels: Readonly<Record<string, string>>, key: string): string | undefined {
  return Object.hasOwn(labels, key) ? labels[key] : undefined;
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
