// Whether kube-apiserver would accept an address in an EndpointSlice of a given addressType. fedmesh writes remote
// clusters' endpoint addresses into local EndpointSlices: one address the local API server refuses would fail the
// whole write, again on every retry. The rules are Kubernetes' own (discovery validation of v1.37 with its default
// StrictIPCIDRValidation): IPv4 in dotted decimal without leading zeros; IPv6 in canonical form (RFC 5952, as Go
// prints it), not IPv4-mapped; neither unspecified, loopback, link-local unicast nor link-local multicast; FQDN a
// lower-case DNS subdomain of at least two labels (one trailing dot allowed).

import { formatIPv6, parseIPv4, parseIPv6 } from '../core/net/ip-address.js';

/** Why an address is refused, in words that quote nothing of it; undefined when Kubernetes accepts it. */
export function endpointAddressProblem(addressType: string, address: string): string | undefined {
  switch (addressType) {
    case 'IPv4':
      return ipv4Problem(address);
    case 'IPv6':
      return ipv6Problem(address);
    case 'FQDN':
      return fqdnProblem(address);
    default:
      return `is of addressType ${addressType.slice(0, 16)}, which is not IPv4, IPv6 or FQDN`;
  }
}

function ipv4Problem(address: string): string | undefined {
  const bytes = parseIPv4(address);
  if (!bytes) return 'is not an IPv4 address (four numbers 0-255 without leading zeros, separated by dots)';
  const [a, b, c] = bytes;
  if (address === '0.0.0.0') return 'is the unspecified address';
  if (a === 127) return 'is in the loopback range (127.0.0.0/8)';
  if (a === 169 && b === 254) return 'is in the link-local range (169.254.0.0/16)';
  if (a === 224 && b === 0 && c === 0) return 'is in the link-local multicast range (224.0.0.0/24)';
  return undefined;
}

function ipv6Problem(address: string): string | undefined {
  // Lower-case hex groups only: an embedded IPv4 part or upper case is never the canonical form.
  const bytes = address.length <= 39 && /^[0-9a-f:]+$/.test(address) ? parseIPv6(address) : null;
  if (!bytes) return 'is not an IPv6 address in canonical form (lower-case hex groups, no IPv4 part)';
  if (formatIPv6(bytes) !== address) return 'is not in the canonical form of an IPv6 address (RFC 5952)';
  const groups = Array.from({ length: 8 }, (_, i) => (bytes[i * 2]! << 8) | bytes[i * 2 + 1]!);
  const [g0 = 0, , , , , g5 = 0] = groups;
  if (groups.slice(0, 5).every((g) => g === 0) && g5 === 0xffff) return 'is an IPv4-mapped IPv6 address';
  if (groups.every((g) => g === 0)) return 'is the unspecified address';
  if (groups.slice(0, 7).every((g) => g === 0) && groups[7] === 1) return 'is the loopback address (::1)';
  if ((g0 & 0xffc0) === 0xfe80) return 'is in the link-local range (fe80::/10)';
  if ((g0 & 0xff0f) === 0xff02) return 'is in the link-local multicast range (ff02::/16 and its flag variants)';
  return undefined;
}

const dnsLabel = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

function fqdnProblem(address: string): string | undefined {
  const name = address.endsWith('.') ? address.slice(0, -1) : address;
  const labels = name.split('.');
  if (name.length === 0 || name.length > 253 || !labels.every((l) => l.length <= 63 && dnsLabel.test(l))) {
    return 'is not a DNS subdomain (lower-case letters, digits and hyphens in dot-separated labels)';
  }
  if (labels.length < 2) return 'is not a fully qualified domain name (it needs at least two labels)';
  return undefined;
}

/** An address left out of a remote EndpointSlice: where (a field path, never the value) and why. */
export interface DroppedAddress {
  readonly field: string;
  readonly problem: string;
}

interface SliceShape {
  readonly addressType?: unknown;
  readonly endpoints?: readonly { readonly addresses?: readonly unknown[] }[] | null;
}

/**
 * A shape-checked EndpointSlice without the addresses Kubernetes refuses (and without endpoints left with none),
 * so that one bad address never keeps the others out; the same object when it has none.
 */
export function withoutRefusedAddresses<T extends object>(slice: T): { slice: T; dropped: DroppedAddress[] } {
  const s = slice as SliceShape;
  const type = typeof s.addressType === 'string' ? s.addressType : '';
  const dropped: DroppedAddress[] = [];
  const endpoints = (s.endpoints ?? []).map((e, i) => {
    const addresses = (e.addresses ?? []).filter((a, j) => {
      const problem = endpointAddressProblem(type, typeof a === 'string' ? a : '');
      if (problem) dropped.push({ field: `endpoints[${i}].addresses[${j}]`, problem });
      return problem === undefined;
    });
    return addresses.length === (e.addresses ?? []).length ? e : { ...e, addresses };
  });
  if (dropped.length === 0) return { slice, dropped };
  return { slice: { ...slice, endpoints: endpoints.filter((e) => (e.addresses ?? []).length > 0) }, dropped };
}
