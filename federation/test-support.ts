// Helpers for the unit tests of federation/ (a fake Kubernetes is fine in a unit test, never as the proof that a
// feature works: the e2e tests in test/ run against real clusters).
import { Writable } from 'node:stream';
import type { KubeObject } from '../core/kube/resilient-informer.js';
import type { KubeRestClient, WatchEvent } from '../core/kube/rest-client.js';
import { createLogger } from '../core/log/logger.js';
import type { MeshCache } from './mesh-cache.js';
import type { RemoteClusterDeps } from './remote-cluster.js';
import type { SourceKind } from './remote-object-schemas.js';

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

/** Objects as a kube-apiserver serves them, with the fields fedmesh reads. */
export const goodObjects = {
  Pod: {
    metadata: {
      name: 'web-7d4b9c-x2x',
      namespace: 'shop',
      uid: '5f0c6a1e-1111-4a4a-9b9b-000000000001',
      resourceVersion: '12345',
      creationTimestamp: '2026-11-30T10:00:00Z',
      labels: { app: 'web', 'app.kubernetes.io/name': 'web', 'pod-template-hash': '7d4b9c' },
      annotations: { 'kubectl.kubernetes.io/last-applied-configuration': '{"a": 1}\n' },
    },
    spec: {
      nodeName: 'node-1',
      serviceAccountName: 'default',
      containers: [
        { name: 'web', ports: [{ name: 'http', containerPort: 8080, protocol: 'TCP' }, { containerPort: 53 }] },
      ],
    },
    status: {
      phase: 'Running',
      podIP: '10.1.2.3',
      podIPs: [{ ip: '10.1.2.3' }, { ip: 'fd00::3' }],
      conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: '2026-11-30T10:00:01Z' }],
    },
  },
  Node: {
    metadata: {
      name: 'node-1.example.com',
      uid: 'u-node',
      labels: { 'kubernetes.io/hostname': 'node-1', 'node-role.kubernetes.io/worker': '' },
      annotations: { 'fedmesh.io/vtep-ip': '192.168.0.10', 'fedmesh.io/vtep-mac': '66:aa:bb:cc:dd:ee' },
    },
    spec: { podCIDR: '10.1.0.0/24', podCIDRs: ['10.1.0.0/24', 'fd00::/64'] },
    status: {
      addresses: [
        { type: 'InternalIP', address: '192.168.0.10' },
        { type: 'Hostname', address: 'node-1.example.com' },
      ],
      conditions: [{ type: 'Ready', status: 'True' }],
    },
  },
  Namespace: { metadata: { name: 'shop', labels: { 'kubernetes.io/metadata.name': 'shop' } } },
  Service: {
    metadata: {
      name: 'web',
      namespace: 'shop',
      annotations: { 'federation.fedmesh.io/serviceSelector': "app == 'web'" },
    },
    spec: {
      type: 'ClusterIP',
      clusterIP: '10.96.0.10',
      clusterIPs: ['10.96.0.10'],
      selector: { app: 'web' },
      ports: [
        { name: 'http', port: 80, targetPort: 'http', protocol: 'TCP' },
        { port: 443, targetPort: 8443 },
      ],
    },
  },
  EndpointSlice: {
    metadata: { name: 'web-abcde', namespace: 'shop', labels: { 'kubernetes.io/service-name': 'web' } },
    addressType: 'IPv4',
    endpoints: [
      {
        addresses: ['10.1.2.3'],
        conditions: { ready: true, serving: true, terminating: false },
        nodeName: 'node-1',
        zone: 'eu-west-1a',
        targetRef: { kind: 'Pod', name: 'web-7d4b9c-x2x', namespace: 'shop' },
      },
      { addresses: ['10.1.2.4'] },
    ],
    ports: [
      { name: 'http', port: 8080, protocol: 'TCP' },
      { name: '', port: null },
    ],
  },
} as Record<SourceKind, KubeObject>;

/** A copy of `obj` with the value at `path` replaced (created along the way). */
export function withField(obj: KubeObject, path: (string | number)[], value: unknown): KubeObject {
  const copy = structuredClone(obj) as Record<string | number, unknown>;
  let at: Record<string | number, unknown> = copy;
  for (const key of path.slice(0, -1)) {
    if (typeof at[key] !== 'object' || at[key] === null) at[key] = typeof key === 'number' ? [] : {};
    at = at[key] as Record<string | number, unknown>;
  }
  at[path[path.length - 1] as string | number] = value;
  return copy as KubeObject;
}
