// The local cluster's own addresses, which no remote cluster's endpoint may take in a local Service: its nodes'
// addresses and pod CIDRs, and its pods' addresses. A remote admin writes the addresses of its EndpointSlices, and
// without this check could point a local federated Service (or a ServiceImport) at a local node's kubelet or at a
// pod of another namespace; with a NodePort or LoadBalancer Service, traffic from outside would reach them.

import { NetworkSet } from '../../core/net/network-set.js';
import type { MeshCacheReader } from '../mesh-cache.js';

/** What a computation of endpoints asks about an address of another cluster. */
export interface LocalAddressGuard {
  readonly localCluster: string;
  /** Whether the address is this cluster's own (a remote endpoint with it is left out). */
  isLocal(address: string): boolean;
}

export class LocalNetworks implements LocalAddressGuard {
  /** The local nodes' networks, made again after a local node changed. */
  private networks: NetworkSet | undefined;
  private recomputeQueued = false;

  /**
   * @param recompute called (once per burst of events, such as the list of thousands of nodes) when a local node
   *   came or went: what was computed with the old networks must be computed again.
   */
  constructor(
    private readonly cache: Pick<MeshCacheReader, 'list' | 'endpointsByIp'>,
    readonly localCluster: string,
    private readonly recompute: () => void = () => {},
  ) {}

  /** A local node came, went or changed: its networks are read again at the next question. */
  invalidate(): void {
    this.networks = undefined;
  }

  /** A node event of the mesh: a local node's invalidates the networks, and one that came or went recomputes. */
  onNodeEvent(type: 'added' | 'modified' | 'deleted', cluster: string): void {
    if (cluster !== this.localCluster) return;
    this.invalidate();
    if (type === 'modified' || this.recomputeQueued) return;
    this.recomputeQueued = true;
    queueMicrotask(() => {
      this.recomputeQueued = false;
      this.recompute();
    });
  }

  isLocal(address: string): boolean {
    this.networks ??= new NetworkSet(
      this.cache
        .list('HostEndpoint', { cluster: this.localCluster })
        .flatMap((n) => [...n.podCIDRs, ...n.addresses.map((a) => a.address)]),
    );
    return (
      this.networks.contains(address) || this.cache.endpointsByIp(address).some((e) => e.cluster === this.localCluster)
    );
  }
}
