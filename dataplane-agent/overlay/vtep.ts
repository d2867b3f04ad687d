import { createHash } from 'node:crypto';
import { formatIpv4, parseIpv4Cidr } from '../ipv4.js';

/** The Node annotations that publish a node's VXLAN tunnel endpoint to the other clusters. */
export const vtepMacAnnotation = 'fedmesh.io/vtep-mac';
export const vtepIpAnnotation = 'fedmesh.io/vtep-ip';

/**
 * A stable, locally administered unicast MAC for a node's VXLAN device (Calico's recipe: 0x66 then 5 bytes of a
 * hash of the name), so that a restarted agent or a rebuilt device keeps the address remote nodes have in their
 * neighbour and FDB tables.
 */
export function vtepMac(cluster: string, node: string): string {
  const h = createHash('sha1').update(`${cluster}/${node}`).digest();
  return ['66', ...[...h.subarray(0, 5)].map((b) => b.toString(16).padStart(2, '0'))].join(':');
}

/**
 * The node's tunnel address: the network address of its first pod CIDR (Flannel's choice). Pod IPs are handed
 * out from the first host address on, so it is never a pod's, and it lies inside the block the remote nodes route
 * to this node anyway. Undefined when the node has no valid IPv4 pod CIDR.
 */
export function vtepIp(podCIDRs: readonly string[]): string | undefined {
  for (const text of podCIDRs) {
    const c = parseIpv4Cidr(text);
    if (c && c.prefix < 32) return formatIpv4(c.base);
  }
  return undefined;
}
