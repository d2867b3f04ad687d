import { readFileSync } from 'node:fs';
import yaml from 'js-yaml';
import { isStatus, type KubeRestClient } from '../../core/kube/rest-client.js';
import {
  type ExpandedScenario,
  expandScenario,
  type NodeObject,
  type PodObject,
  type Scenario,
  ScenarioError,
  validateScenario,
} from './scenario.js';

/** Placeholder image: no kubelet ever pulls it. */
const placeholderImage = 'registry.invalid/fedmesh/testbed-placeholder:1';

export interface SeedResult {
  namespaces: number;
  serviceAccounts: number;
  nodes: number;
  services: number;
  pods: number;
  seconds: number;
  podsPerSecond: number;
}

export function loadScenarioFile(path: string): Scenario {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ScenarioError(`cannot read scenario ${path}: ${(err as Error).message}`);
  }
  let doc: unknown;
  try {
    doc = yaml.load(text);
  } catch (err) {
    throw new ScenarioError(`${path} is not valid YAML or JSON: ${(err as Error).message}`);
  }
  try {
    return validateScenario(doc ?? {});
  } catch (err) {
    throw new ScenarioError(`${path}: ${(err as Error).message}`);
  }
}

export function nodeManifest(n: NodeObject, now: string): Record<string, unknown> {
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name: n.name,
      labels: { 'kubernetes.io/hostname': n.name, 'kubernetes.io/os': 'linux', ...n.labels },
    },
    spec: { podCIDR: n.podCIDR, podCIDRs: [n.podCIDR] },
    status: {
      addresses: [
        { type: 'InternalIP', address: n.internalIP },
        { type: 'Hostname', address: n.name },
      ],
      capacity: { cpu: '8', memory: '32Gi', pods: '250' },
      allocatable: { cpu: '8', memory: '32Gi', pods: '250' },
      conditions: [
        {
          type: 'Ready',
          status: n.ready ? 'True' : 'False',
          reason: n.ready ? 'KubeletReady' : 'KubeletNotReady',
          message: 'set by fedmesh testbed seed',
          lastHeartbeatTime: now,
          lastTransitionTime: now,
        },
      ],
      nodeInfo: {
        architecture: 'amd64',
        operatingSystem: 'linux',
        kubeletVersion: 'v0.0.0-testbed',
        kubeProxyVersion: '',
        bootID: '',
        machineID: '',
        systemUUID: '',
        containerRuntimeVersion: 'testbed://0',
        kernelVersion: '',
        osImage: 'fedmesh testbed',
      },
    },
  };
}

export function podManifest(p: PodObject): Record<string, unknown> {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: p.name, namespace: p.namespace, labels: p.labels, annotations: p.annotations },
    spec: {
      ...(p.node ? { nodeName: p.node } : {}),
      ...(p.serviceAccount ? { serviceAccountName: p.serviceAccount } : {}),
      ...(p.hostNetwork ? { hostNetwork: true } : {}),
      automountServiceAccountToken: false,
      terminationGracePeriodSeconds: 1,
      containers: [
        {
          name: 'app',
          image: placeholderImage,
          ports: p.ports.map((port) => ({ protocol: 'TCP', ...port })),
        },
      ],
    },
  };
}

export function podStatus(p: PodObject, now: string): Record<string, unknown> {
  const running = p.phase === 'Running';
  const cond = (type: string, ok: boolean) => ({ type, status: ok ? 'True' : 'False', lastTransitionTime: now });
  return {
    phase: p.phase,
    conditions: [
      cond('PodScheduled', p.node !== undefined),
      cond('Initialized', running),
      cond('ContainersReady', running && p.ready),
      cond('Ready', running && p.ready),
    ],
    ...(p.hostIP ? { hostIP: p.hostIP, hostIPs: [{ ip: p.hostIP }] } : {}),
    ...(p.ip ? { podIP: p.ip, podIPs: [{ ip: p.ip }] } : {}),
    ...(running ? { startTime: now } : {}),
    containerStatuses: [
      {
        name: 'app',
        image: placeholderImage,
        imageID: '',
        ready: running && p.ready,
        started: running,
        restartCount: 0,
        state: running ? { running: { startedAt: now } } : { waiting: { reason: 'ContainerCreating' } },
      },
    ],
  };
}

function serviceManifest(s: NonNullable<Scenario['services']>[number]): Record<string, unknown> {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: s.name, namespace: s.namespace, labels: s.labels ?? {}, annotations: s.annotations ?? {} },
    spec: {
      type: s.type ?? 'ClusterIP',
      ...(s.selector ? { selector: s.selector } : {}),
      ...(s.clusterIP ? { clusterIP: s.clusterIP } : {}),
      ...(s.externalName ? { externalName: s.externalName } : {}),
      ...(s.type === 'ExternalName' ? {} : { ports: (s.ports ?? []).map((p) => ({ protocol: 'TCP', ...p })) }),
    },
  };
}

async function ignoreExists<T>(p: Promise<T>): Promise<'created' | 'existed'> {
  try {
    await p;
    return 'created';
  } catch (err) {
    if (isStatus(err, 409)) return 'existed';
    throw err;
  }
}

/** Runs `fn` over `items` with at most `width` in flight; the first failure stops new work and is thrown. */
async function inParallel<T>(items: readonly T[], width: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  let failure: unknown;
  const worker = async () => {
    while (failure === undefined && next < items.length) {
      const item = items[next++] as T;
      try {
        await fn(item);
      } catch (err) {
        failure ??= err;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(width, items.length) }, worker));
  if (failure !== undefined) throw failure;
}

/**
 * Creates what kubelets and users would have: namespaces (with their default service account),
 * service accounts, nodes with a Ready status, services, and pods with spec.nodeName and a status
 * (phase, conditions, podIP/podIPs). Existing objects are updated (labels, status) instead of failing,
 * so a scenario can be applied again.
 */
export async function seed(
  client: KubeRestClient,
  scenario: Scenario,
  opts: { concurrency?: number; report?: (msg: string) => void } = {},
): Promise<SeedResult> {
  const started = Date.now();
  const x: ExpandedScenario = expandScenario(scenario);
  const width = opts.concurrency ?? 48;
  const now = new Date().toISOString();
  await inParallel(x.namespaces, width, async (ns) => {
    const r = await ignoreExists(
      client.create('/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: ns }),
    );
    if (r === 'existed' && Object.keys(ns.labels).length > 0) {
      await client.mergePatch(`/api/v1/namespaces/${ns.name}`, { metadata: { labels: ns.labels } });
    }
    // kube-controller-manager creates it too, but perhaps not before our first pod: admission needs it now.
    await ignoreExists(
      client.create(`/api/v1/namespaces/${ns.name}/serviceaccounts`, {
        apiVersion: 'v1',
        kind: 'ServiceAccount',
        metadata: { name: 'default' },
      }),
    );
  });
  await inParallel(x.serviceAccounts, width, async (sa) => {
    await ignoreExists(
      client.create(`/api/v1/namespaces/${sa.namespace}/serviceaccounts`, {
        apiVersion: 'v1',
        kind: 'ServiceAccount',
        metadata: { name: sa.name },
      }),
    );
  });
  await inParallel(x.nodes, width, async (n) => {
    const manifest = nodeManifest(n, now);
    if ((await ignoreExists(client.create('/api/v1/nodes', manifest))) === 'existed') {
      await client.mergePatch(`/api/v1/nodes/${n.name}`, { metadata: manifest.metadata, spec: {} });
      await client.request('PATCH', `/api/v1/nodes/${n.name}/status`, {
        body: { status: manifest.status },
        contentType: 'application/merge-patch+json',
      });
    }
  });
  await inParallel(x.services, width, async (s) => {
    const manifest = serviceManifest(s);
    if ((await ignoreExists(client.create(`/api/v1/namespaces/${s.namespace}/services`, manifest))) === 'existed') {
      await client.mergePatch(`/api/v1/namespaces/${s.namespace}/services/${s.name}`, {
        metadata: manifest.metadata,
      });
    }
  });
  let done = 0;
  const progress = setInterval(() => {
    const secs = (Date.now() - started) / 1000;
    opts.report?.(`pods ${done}/${x.pods.length} (${Math.round(done / secs)}/s)`);
  }, 5000);
  try {
    await inParallel(x.pods, width, async (p) => {
      const base = `/api/v1/namespaces/${p.namespace}/pods`;
      if ((await ignoreExists(client.create(base, podManifest(p)))) === 'existed') {
        await client.mergePatch(`${base}/${p.name}`, { metadata: { labels: p.labels, annotations: p.annotations } });
      }
      // Pod creation resets the status (the kubelet owns it): set it through the status subresource.
      await client.request('PATCH', `${base}/${p.name}/status`, {
        body: { status: podStatus(p, now) },
        contentType: 'application/merge-patch+json',
      });
      done += 1;
    });
  } finally {
    clearInterval(progress);
  }
  const seconds = (Date.now() - started) / 1000;
  return {
    namespaces: x.namespaces.length,
    serviceAccounts: x.serviceAccounts.length,
    nodes: x.nodes.length,
    services: x.services.length,
    pods: x.pods.length,
    seconds,
    podsPerSecond: x.pods.length / Math.max(seconds, 0.001),
  };
}
