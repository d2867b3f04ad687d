// A lightweight mock of many kube-apiservers for bench/mesh-cache (the approach of Cilium's cmapisrv-mock):
// each "cluster" is an HTTPS port that answers list (in pages, as kube-apiserver does) and watch of pods, nodes,
// namespaces, services and endpointslices from memory, and a churn loop modifies pods at a fixed total rate. Every change carries its send
// time (performance clock, ms) in the label `bench.fedmesh.io/sent`, so that a subscriber measures propagation.
//   node dist/bench/mesh-cache-mock.js   (config in MOCK_CONFIG, prints one JSON line {ports, caPem} when ready)
import { createSecureServer, type Http2ServerResponse, type ServerHttp2Session } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { createCertificateAuthority, issueCertificate } from '../core/tls/certificates.js';

export interface MockConfig {
  readonly clusters: number;
  readonly podsPerCluster: number;
  readonly nodesPerCluster: number;
  readonly changesPerSecond: number;
}

export const sentLabel = 'bench.fedmesh.io/sent';
const now = () => performance.timeOrigin + performance.now();

type Pod = {
  metadata: Record<string, unknown> & { name: string; labels: Record<string, string>; resourceVersion: string };
  spec: unknown;
  status: unknown;
};

/** Pods per workload: about five pods share a label set, as the replicas of a Deployment do. */
export const podsPerWorkload = 5;

/** A 10-character hash as Kubernetes writes pod-template-hash and controller-revision-hash. */
function templateHash(cluster: number, workload: number, generation: number): string {
  let h = 0x811c9dc5 ^ cluster;
  for (const n of [workload, generation]) h = Math.imul(h ^ n, 0x01000193) >>> 0;
  return (h.toString(36) + (Math.imul(h, 31) >>> 0).toString(36)).padEnd(10, 'x').slice(0, 10);
}

/**
 * The labels of pod `i`: its workload's (one of podsPerWorkload-sized groups, in 20 teams), the revision hash of
 * the workload's current generation, and for StatefulSet pods (every fourth workload) labels of their own.
 */
function podLabels(cluster: number, i: number, generation: number): Record<string, string> {
  const workload = Math.floor(i / podsPerWorkload);
  const app = `app-${workload}`;
  const base = {
    app,
    'app.kubernetes.io/name': app,
    'app.kubernetes.io/part-of': `team-${workload % 20}`,
    tier: ['web', 'api', 'worker'][workload % 3] ?? 'web',
  };
  const hash = templateHash(cluster, workload, generation);
  if (workload % 4 === 0) {
    return {
      ...base,
      'controller-revision-hash': `${app}-${hash}`,
      'statefulset.kubernetes.io/pod-name': `${app}-${i % podsPerWorkload}`,
      'apps.kubernetes.io/pod-index': String(i % podsPerWorkload),
      [sentLabel]: '0',
    };
  }
  return { ...base, 'pod-template-hash': hash, [sentLabel]: '0' };
}

/** A pod about the size and shape of a real one (without managedFields), ≈1.5 KB of JSON. */
function makePod(cluster: number, i: number, nodes: number): Pod {
  const ns = `ns-${i % 10}`;
  const labels = podLabels(cluster, i, 0);
  const app = labels.app ?? '';
  const node = `node-${i % nodes}`;
  const ip = `10.${cluster}.${Math.floor(i / 250)}.${(i % 250) + 1}`;
  return {
    metadata: {
      name: `${app}-${i}`,
      namespace: ns,
      uid: `00000000-0000-4000-8000-${String(cluster).padStart(4, '0')}${String(i).padStart(8, '0')}`,
      resourceVersion: '1',
      creationTimestamp: '2026-01-01T00:00:00Z',
      labels,
      annotations: { 'kubectl.kubernetes.io/restartedAt': '2026-01-01T00:00:00Z' },
      ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: `${app}-rs`, uid: 'x', controller: true }],
    },
    spec: {
      nodeName: node,
      serviceAccountName: 'default',
      containers: [
        {
          name: 'main',
          image: 'registry.example/app:1.2.3',
          ports: [{ name: 'http', containerPort: 8080, protocol: 'TCP' }],
          resources: { requests: { cpu: '100m', memory: '128Mi' } },
          volumeMounts: [{ name: 'kube-api-access', mountPath: '/var/run/secrets/kubernetes.io/serviceaccount' }],
        },
      ],
      volumes: [{ name: 'kube-api-access', projected: { sources: [{ serviceAccountToken: { path: 'token' } }] } }],
    },
    status: {
      phase: 'Running',
      hostIP: `172.18.${cluster}.${(i % nodes) + 1}`,
      podIP: ip,
      podIPs: [{ ip }],
      conditions: ['PodScheduled', 'Initialized', 'ContainersReady', 'Ready'].map((type) => ({
        type,
        status: 'True',
        lastTransitionTime: '2026-01-01T00:00:00Z',
      })),
      containerStatuses: [
        { name: 'main', ready: true, restartCount: 0, image: 'registry.example/app:1.2.3', started: true },
      ],
    },
  };
}

interface MockCluster {
  readonly pods: Pod[];
  readonly others: Record<string, unknown[]>;
  readonly podWatchers: Set<Http2ServerResponse>;
  /** The last pod events, so that a watch from a list's resourceVersion misses nothing, as with an apiserver. */
  readonly podEvents: { readonly rv: number; readonly line: string }[];
  /** Each workload's current generation: a change rolls one pod to it, and now and then starts a new one. */
  readonly generations: number[];
  rv: number;
}

/** Pod events kept per cluster for watches that resume (about 40 s at 300 changes/s over 50 clusters). */
const eventsKept = 256;

function makeCluster(c: number, cfg: MockConfig): MockCluster {
  const pods = Array.from({ length: cfg.podsPerCluster }, (_, i) => makePod(c, i, cfg.nodesPerCluster));
  const nodes = Array.from({ length: cfg.nodesPerCluster }, (_, i) => ({
    metadata: { name: `node-${i}`, uid: `n-${c}-${i}`, resourceVersion: '1', labels: { zone: `z${i % 3}` } },
    spec: { podCIDRs: [`10.${c}.${i}.0/24`] },
    status: {
      addresses: [{ type: 'InternalIP', address: `172.18.${c}.${i + 1}` }],
      conditions: [{ type: 'Ready', status: 'True' }],
    },
  }));
  const namespaces = Array.from({ length: 10 }, (_, i) => ({
    metadata: { name: `ns-${i}`, uid: `ns-${c}-${i}`, resourceVersion: '1', labels: { team: `t${i}` } },
  }));
  return {
    pods,
    others: { nodes, namespaces, services: [], endpointslices: [] },
    podWatchers: new Set(),
    podEvents: [],
    generations: Array.from({ length: Math.ceil(cfg.podsPerCluster / podsPerWorkload) }, () => 0),
    rv: 1,
  };
}

const resourceOf = (path: string) => /\/(pods|nodes|namespaces|services|endpointslices)$/.exec(path)?.[1];

export async function startMock(cfg: MockConfig): Promise<{ ports: number[]; caPem: string; stop: () => void }> {
  const ca = createCertificateAuthority('bench-mock-ca');
  const cert = issueCertificate(ca, { commonName: 'mock', ipAddresses: ['127.0.0.1'], usage: 'server' });
  const clusters = Array.from({ length: cfg.clusters }, (_, c) => makeCluster(c, cfg));
  const sessions = new Set<ServerHttp2Session>();
  // HTTP/2 with HTTP/1.1 allowed, as a kube-apiserver serves (the cache's clients multiplex over HTTP/2).
  const servers = clusters.map((cl) =>
    createSecureServer({ cert: cert.certPem, key: cert.keyPem, allowHTTP1: true }, (req, res) => {
      const url = new URL(req.url ?? '/', 'https://x');
      if (url.pathname === '/version') {
        res.writeHead(200, { 'Content-Type': 'application/json' }).end('{"gitVersion":"v0.0.0-mock"}');
        return;
      }
      const resource = resourceOf(url.pathname);
      if (!resource) {
        res.writeHead(404, { 'Content-Type': 'application/json' }).end('{"kind":"Status","code":404}');
        return;
      }
      if (url.searchParams.get('watch')) {
        // HTTP/2 frames the stream itself and forbids Transfer-Encoding.
        res.writeHead(
          200,
          req.httpVersionMajor === 2
            ? { 'Content-Type': 'application/json' }
            : { 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked' },
        );
        // Headers now, so that the watch is established before its first event.
        const flush = (res as unknown as { flushHeaders?: () => void }).flushHeaders;
        if (flush) flush.call(res);
        else res.write('');
        if (resource === 'pods') {
          const from = Number(url.searchParams.get('resourceVersion') || cl.rv);
          const oldest = cl.podEvents[0]?.rv ?? cl.rv + 1;
          if (from < oldest - 1) {
            res.end(`${JSON.stringify({ type: 'ERROR', object: { kind: 'Status', code: 410, reason: 'Expired' } })}\n`);
            return;
          }
          const missed = cl.podEvents.filter((e) => e.rv > from).map((e) => e.line);
          if (missed.length > 0) res.write(missed.join(''));
          cl.podWatchers.add(res);
          res.on('close', () => cl.podWatchers.delete(res));
        }
        return;
      }
      // Pages of `limit`, as kube-apiserver serves a list without resourceVersion; the token is the offset.
      const all = resource === 'pods' ? cl.pods : (cl.others[resource] ?? []);
      const limit = Number(url.searchParams.get('limit') || 0);
      const from = Number(url.searchParams.get('continue') || 0);
      const to = limit > 0 ? from + limit : all.length;
      const metadata = { resourceVersion: String(cl.rv), ...(to < all.length ? { continue: String(to) } : {}) };
      res
        .writeHead(200, { 'Content-Type': 'application/json' })
        .end(JSON.stringify({ kind: 'List', apiVersion: 'v1', metadata, items: all.slice(from, to) }));
    }),
  );
  for (const s of servers) {
    s.on('session', (sess: ServerHttp2Session) => {
      sessions.add(sess);
      sess.on('close', () => sessions.delete(sess));
    });
  }
  const ports = await Promise.all(
    servers.map(
      (s) =>
        new Promise<number>((resolve) => s.listen(0, '127.0.0.1', () => resolve((s.address() as AddressInfo).port))),
    ),
  );
  // Churn: a timer every 10 ms sends as many changes as are due, spread over random clusters and pods. A change
  // is a rollout step: the pod takes its workload's current revision hash, and one change in podsPerWorkload
  // starts a new revision, so label values keep being born and dropped as in a cluster with deployments.
  let sent = 0;
  const t0 = now();
  const timer = setInterval(() => {
    const due = Math.floor(((now() - t0) / 1000) * cfg.changesPerSecond);
    while (sent < due) {
      sent++;
      const cl = clusters[Math.floor(Math.random() * clusters.length)];
      const index = cl ? Math.floor(Math.random() * cl.pods.length) : 0;
      const pod = cl?.pods[index];
      if (!cl || !pod) continue;
      const c = clusters.indexOf(cl);
      const workload = Math.floor(index / podsPerWorkload);
      if (Math.random() < 1 / podsPerWorkload) cl.generations[workload] = (cl.generations[workload] ?? 0) + 1;
      cl.rv++;
      pod.metadata.resourceVersion = String(cl.rv);
      pod.metadata.labels = podLabels(c, index, cl.generations[workload] ?? 0);
      pod.metadata.labels[sentLabel] = now().toFixed(3);
      const line = `${JSON.stringify({ type: 'MODIFIED', object: pod })}\n`;
      cl.podEvents.push({ rv: cl.rv, line });
      if (cl.podEvents.length > eventsKept) cl.podEvents.shift();
      for (const w of cl.podWatchers) w.write(line);
    }
  }, 10);
  return {
    ports,
    caPem: ca.certPem,
    stop: () => {
      clearInterval(timer);
      for (const s of sessions) s.destroy();
      for (const s of servers) s.close();
    },
  };
}

if (process.argv[1]?.endsWith('mesh-cache-mock.js')) {
  const cfg = JSON.parse(process.env.MOCK_CONFIG ?? '{}') as MockConfig;
  const mock = await startMock(cfg);
  process.stdout.write(`${JSON.stringify({ ports: mock.ports, caPem: mock.caPem })}\n`);
  process.on('SIGTERM', () => {
    mock.stop();
    process.exit(0);
  });
}
