import type { Diagnostic, Diagnostics } from './diagnostics.js';
import type { NormalizedPolicy } from './model.js';

/**
 * What compiling a policy object gives: every error and warning with its field path, and the normalized policy.
 * Admission refuses an object with errors. A consumer that cannot refuse (the agent, reading stored objects) still
 * gets the policy when every part could be read: an error such as a main selector that names another cluster has a
 * clear meaning (it selects no local endpoint). `policy` is null only when some part has no meaning at all (a
 * selector that does not parse, a malformed CIDR); such a consumer must report it and decide fail-open or closed.
 */
export interface PolicyCompilation {
  readonly policy: NormalizedPolicy | null;
  readonly errors: readonly Diagnostic[];
  readonly warnings: readonly Diagnostic[];
}

export function finish(d: Diagnostics, build: () => NormalizedPolicy): PolicyCompilation {
  return { policy: d.unreadable ? null : build(), errors: d.errors, warnings: d.warnings };
}
