// Protocols and ports as policies write them: Kubernetes `{protocol, port, endPort}` and Calico's `80`, `"80:90"`,
// `"http"`. Each parser reports problems to Diagnostics under the field's path and returns what it could read.

import { at, type Diagnostics } from './diagnostics.js';
import { PORT_PROTOCOLS, type PortMatch, PROTOCOL_NUMBERS, type Protocol, type ProtocolName } from './model.js';

const NAMES = Object.keys(PROTOCOL_NUMBERS) as ProtocolName[];
const BY_NUMBER = new Map<number, ProtocolName>(NAMES.map((n) => [PROTOCOL_NUMBERS[n], n]));
const BY_UPPER = new Map<string, ProtocolName>(NAMES.map((n) => [n.toUpperCase(), n]));

/** A protocol name (any case, as Calico accepts) or number 1-255; known numbers become their names. */
export function parseProtocol(value: string | number, path: string, d: Diagnostics): Protocol | null {
  if (typeof value === 'number') {
    if (!Number.isInteger(value) || value < 1 || value > 255) {
      d.fail(path, `Invalid value: ${value}: an IP protocol number must be from 1 to 255`);
      return null;
    }
    return BY_NUMBER.get(value) ?? value;
  }
  const named = BY_UPPER.get(value.toUpperCase());
  if (named !== undefined) return named;
  if (/^[1-9][0-9]{0,2}$/.test(value)) return parseProtocol(Number(value), path, d);
  d.fail(path, `Unsupported value: ${JSON.stringify(value)}: supported values: ${NAMES.join(', ')}, or 1-255`);
  return null;
}

export function protocolHasPorts(protocol: Protocol | null): boolean {
  return typeof protocol === 'string' && PORT_PROTOCOLS.includes(protocol);
}

export function isIcmp(protocol: Protocol | null): boolean {
  return protocol === 'ICMP' || protocol === 'ICMPv6';
}

/**
 * An IANA service name, as Kubernetes requires for named ports (validation.IsValidPortName): at most 15
 * characters of a-z, 0-9 and '-', at least one letter, no '-' at either end or twice in a row.
 */
export function portNameErrors(name: string): string[] {
  const errors: string[] = [];
  if (name.length > 15) errors.push('must be no more than 15 characters');
  if (!/^[-a-z0-9]+$/.test(name)) errors.push('must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)');
  if (name.includes('--')) errors.push('must not contain consecutive hyphens');
  if (!/[a-z]/.test(name)) errors.push('must contain at least one letter (a-z)');
  if (name.startsWith('-') || name.endsWith('-')) errors.push('must not begin or end with a hyphen');
  return errors;
}

/** A port number: an integer from 1 to 65535. */
export function validPort(n: number): boolean {
  return Number.isInteger(n) && n >= 1 && n <= 65535;
}

/** A Calico-style port: 80, "80", "8000:8080" or "http". */
export function parseFnpPort(value: number | string, path: string, d: Diagnostics): PortMatch | null {
  if (typeof value === 'number') {
    if (!validPort(value)) {
      d.fail(path, `Invalid value: ${value}: a port must be from 1 to 65535`);
      return null;
    }
    return { kind: 'range', from: value, to: value };
  }
  const range = /^([0-9]{1,5})(?::([0-9]{1,5}))?$/.exec(value);
  if (range !== null) {
    const from = Number(range[1]);
    const to = range[2] === undefined ? from : Number(range[2]);
    if (!validPort(from) || !validPort(to)) {
      d.fail(path, `Invalid value: ${JSON.stringify(value)}: ports must be from 1 to 65535`);
      return null;
    }
    if (to < from) {
      d.fail(path, `Invalid value: ${JSON.stringify(value)}: a range is "first:last" with first <= last`);
      return null;
    }
    return { kind: 'range', from, to };
  }
  const problems = portNameErrors(value);
  if (problems.length > 0) {
    d.fail(
      path,
      `Invalid value: ${JSON.stringify(value)}: not a port number, a range "first:last", or a port name (${problems.join('; ')})`,
    );
    return null;
  }
  return { kind: 'named', name: value };
}

/** A Kubernetes NetworkPolicyPort's `port` and `endPort` (already valid when it comes from the API server). */
export function parseNetworkPolicyPort(
  port: number | string | null | undefined,
  endPort: number | null | undefined,
  path: string,
  d: Diagnostics,
): PortMatch | null {
  if (port === undefined || port === null) {
    if (endPort !== undefined && endPort !== null) d.fail(at(path, 'endPort'), 'Required value: needs a numeric port');
    return null;
  }
  if (typeof port === 'string') {
    if (endPort !== undefined && endPort !== null) {
      d.fail(at(path, 'endPort'), 'Invalid value: may not be specified when `port` is non-numeric');
    }
    const problems = portNameErrors(port);
    if (problems.length > 0) d.fail(at(path, 'port'), `Invalid value: ${JSON.stringify(port)}: ${problems.join('; ')}`);
    return { kind: 'named', name: port };
  }
  if (!validPort(port)) {
    d.fail(at(path, 'port'), `Invalid value: ${port}: must be between 1 and 65535, inclusive`);
    return null;
  }
  const to = endPort ?? port;
  if (!validPort(to) || to < port) {
    d.fail(at(path, 'endPort'), `Invalid value: ${to}: must be greater than or equal to \`port\``);
    return null;
  }
  return { kind: 'range', from: port, to };
}
