// What validation may know about the cluster besides the object: the local cluster's name, the remote clusters
// that exist (RemoteClusterConfigurations), and whether a Secret exists. Validators only read it, so tests give
// them a plain object.

import type { Diagnostic } from '../core/policy/index.js';

export interface ValidationContext {
  /** This cluster's name in the mesh (--cluster-name). */
  readonly localCluster: string;
  /** The namespace whose cluster access Secrets fedmesh server reads (its own). */
  readonly accessSecretNamespace: string;
  /** The names of the RemoteClusterConfigurations now; undefined before the first complete list. */
  knownClusters(): ReadonlySet<string> | undefined;
  /** Whether the Secret exists; undefined when that cannot be told now (the reason is in `error`). */
  secretExists(namespace: string, name: string): Promise<{ exists: boolean } | { error: string }>;
}

/** What a validator decides: errors deny the request; warnings go back to the client either way. */
export interface Verdict {
  readonly errors: readonly Diagnostic[];
  readonly warnings: readonly string[];
}
