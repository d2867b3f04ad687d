// Checks of the flags every fedmesh process has (cluster name, log level, bind addresses), worded the same way
// by every command.

import { dns1123LabelError } from '../kube/names.js';
import { isLogLevel, type LogLevel } from '../log/logger.js';
import { parseBindAddress } from '../metrics/health-server.js';
import { UsageError } from './usage-error.js';

/** --cluster-name: required, a DNS-1123 label. */
export function clusterNameFlag(value: string | undefined, command: string): string {
  if (!value) throw new UsageError('--cluster-name is required', command);
  const error = dns1123LabelError(value);
  if (error) throw new UsageError(`--cluster-name "${value}" is not a DNS-1123 label: it ${error}`, command);
  return value;
}

/** --log-level, default info. */
export function logLevelFlag(value: string | undefined, command: string): LogLevel {
  const level = value ?? 'info';
  if (!isLogLevel(level))
    throw new UsageError(`--log-level must be debug, info, warn or error, not "${level}"`, command);
  return level;
}

/** A HOST:PORT flag with its default. */
export function bindAddressFlag(
  name: string,
  value: string | undefined,
  fallback: string,
  command: string,
): { host: string; port: number } {
  const bind = parseBindAddress(value ?? fallback);
  if (!bind) throw new UsageError(`--${name} must be HOST:PORT`, command);
  return bind;
}

/** Flag table entries of the flags above, with the same help in every command that runs in a cluster. */
export const commonFlagSpecs = {
  'cluster-name': {
    type: 'string',
    value: 'NAME',
    description: 'name of the local cluster in the mesh (chart value cluster.name)',
  },
  kubeconfig: {
    type: 'string',
    value: 'FILE',
    description: 'kubeconfig of the local cluster (default: in-cluster config)',
  },
  'log-level': { type: 'string', value: 'LEVEL', description: 'debug, info (default), warn or error' },
} as const;
