import { homedir } from 'node:os';
import { join } from 'node:path';

/**
 * The control-plane versions the testbed builds, newest first within each line. The first of each list is
 * wanted; the others are the neighbouring releases tried when the Go module proxy lacks something the
 * wanted one needs.
 */
export const versionCandidates = {
  kubernetes: ['1.37.2', '1.37.1', '1.37.0', '1.36.3'],
  etcd: ['3.6.16', '3.6.15', '3.6.14', '3.6.13'],
  helm: ['3.22.0', '3.21.4', '3.21.3'],
} as const;

export type Tool = keyof typeof versionCandidates;

/** The binaries the cache holds, and the tool that builds each. */
export const binaries = {
  'kube-apiserver': 'kubernetes',
  'kube-controller-manager': 'kubernetes',
  kubectl: 'kubernetes',
  etcd: 'etcd',
  helm: 'helm',
} as const satisfies Record<string, Tool>;

export type Binary = keyof typeof binaries;

/** The name of the versioned cache folder: what was asked for, so that a change of version builds anew. */
export function versionKey(): string {
  return `k8s-v${versionCandidates.kubernetes[0]}_etcd-v${versionCandidates.etcd[0]}_helm-v${versionCandidates.helm[0]}`;
}

/** `${FEDMESH_TESTBED_CACHE}` or `${XDG_CACHE_HOME:-~/.cache}/fedmesh/testbed/<versions>`. */
export function cacheDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.FEDMESH_TESTBED_CACHE) return env.FEDMESH_TESTBED_CACHE;
  const base = env.XDG_CACHE_HOME || join(env.HOME || homedir(), '.cache');
  return join(base, 'fedmesh', 'testbed', versionKey());
}
