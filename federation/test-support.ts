// Helpers for the unit tests of federation/ (a fake Kubernetes is fine in a unit test, never as the proof that a
// feature works: the e2e tests in test/ run against real clusters).
import { Writable } from 'node:stream';
import type { KubeRestClient, WatchEvent } from '../core/kube/rest-client.js';
import { createLogger } from '../core/log/logger.js';
import type { MeshCache } from './mesh-cache.js';
import type { RemoteClusterDeps } from './remote-cluster.js';

/** A logger that writes nowhere (errors only, so that nothing is formatted needlessly). */
export const quietLog = createLogger(
  'test',
  'error',
  new Writable({
    write(_c, _e, cb) {
      cb();
    },
  }),
);

type Watch = (
  path: string,
  onEvent: (e: WatchEvent) => void,
  signal?: AbortSignal,
  onOpen?: () => void,
) => Promise<void>;

/** A watch the server accepts and keeps open, silent, until it is aborted. */
export const openWatch: Watch = (_path, _onEvent, signal, onOpen) => {
  onOpen?.();
  return new Promise<void>((r) => signal?.addEventListener('abort', () => r(), { once: true }));
};

/**
 * A KubeRestClient answering from functions: `get` (lists; default an empty list), `watch` (default `openWatch`);
 * requests succeed, status patches succeed.
 */
export function fakeKubeClient(over: { get?: (path: string) => Promise<unknown>; watch?: Watch } = {}): KubeRestClient {
  return {
    get: over.get ?? (async () => ({ metadata: { resourceVersion: '1' }, items: [] })),
    watch: over.watch ?? openWatch,
    request: async () => ({ statusCode: 200, body: {}, headers: {} }),
    mergePatch: async () => ({}),
    close: () => {},
    resetConnections: () => {},
  } as unknown as KubeRestClient;
}

/** What a RemoteCluster or RccController needs, for a test: a read-only follower (no status writes), no probes. */
export function followerDeps(localClient: KubeRestClient, cache: MeshCache): RemoteClusterDeps {
  return {
    localClient,
    localCluster: 'east',
    cache,
    log: quietLog,
    metrics: undefined,
    mayWriteStatus: () => false,
    probeIntervalMs: 0,
  };
}
