// The testbed has no kubelet, so `helm test` pods would stay Pending forever. This stand-in runs them the way a
// kubelet would, on the host: the container's command with its env (plus the KUBERNETES_SERVICE_* variables),
// its ServiceAccount token (a real TokenRequest bound to the pod) mounted at the volume's mountPath inside a
// private mount namespace (nothing changes on the host's file system), then writes the pod's phase from the exit
// code. Only pods annotated as Helm test hooks are run; the image is assumed to be this repository's (Node.js).

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isStatus, type KubeRestClient } from '../../core/kube/rest-client.js';
import { runCommand } from './run-command.js';

export interface TestPod {
  readonly metadata: {
    readonly name: string;
    readonly namespace: string;
    readonly uid: string;
    readonly annotations?: Readonly<Record<string, string>>;
  };
  readonly spec: {
    readonly serviceAccountName?: string;
    readonly containers: readonly {
      readonly name?: string;
      readonly command?: readonly string[];
      readonly args?: readonly string[];
      readonly env?: readonly {
        readonly name: string;
        readonly value?: string;
        readonly valueFrom?: { readonly fieldRef?: { readonly fieldPath: string } };
      }[];
      readonly volumeMounts?: readonly { readonly name: string; readonly mountPath: string }[];
    }[];
    readonly volumes?: readonly { readonly name: string; readonly projected?: unknown }[];
  };
  readonly status?: { readonly phase?: string };
}

export interface Launch {
  readonly argv: readonly string[];
  readonly env: Readonly<Record<string, string>>;
  /** Where the ServiceAccount files go (the mountPath of the projected token volume), if the pod mounts one. */
  readonly tokenMountPath: string | undefined;
}

/** What a kubelet would run for the pod's first container (pure: the caller supplies the API server address). */
export function launchOf(pod: TestPod, apiServer: { host: string; port: string }): Launch {
  const c = pod.spec.containers[0];
  if (!c) throw new Error(`pod ${pod.metadata.name} has no container`);
  const argv = [...(c.command ?? []), ...(c.args ?? [])];
  if (argv.length === 0) throw new Error(`pod ${pod.metadata.name}: the stand-in needs an explicit command`);
  const env: Record<string, string> = {
    KUBERNETES_SERVICE_HOST: apiServer.host,
    KUBERNETES_SERVICE_PORT: apiServer.port,
  };
  for (const e of c.env ?? []) {
    const path = e.valueFrom?.fieldRef?.fieldPath;
    if (path === 'metadata.namespace') env[e.name] = pod.metadata.namespace;
    else if (path === 'metadata.name') env[e.name] = pod.metadata.name;
    else if (path) throw new Error(`pod ${pod.metadata.name}: the stand-in does not resolve fieldRef ${path}`);
    else env[e.name] = e.value ?? '';
  }
  const projected = new Set((pod.spec.volumes ?? []).filter((v) => v.projected).map((v) => v.name));
  const tokenMountPath = (c.volumeMounts ?? []).find((m) => projected.has(m.name))?.mountPath;
  return { argv, env, tokenMountPath };
}

export const isHelmTestPod = (pod: TestPod) => pod.metadata.annotations?.['helm.sh/hook'] === 'test';

/** Runs one pod to completion and records its phase; returns its output. */
async function runPod(client: KubeRestClient, pod: TestPod, apiServer: { host: string; port: string }, caPem: string) {
  const launch = launchOf(pod, apiServer);
  const { namespace, name, uid } = pod.metadata;
  const dir = mkdtempSync(join(tmpdir(), 'fedmesh-test-pod-'));
  try {
    let argv = launch.argv;
    if (launch.tokenMountPath) {
      const sa = pod.spec.serviceAccountName ?? 'default';
      const tr = await client.create<{ status: { token: string } }>(
        `/api/v1/namespaces/${namespace}/serviceaccounts/${sa}/token`,
        {
          apiVersion: 'authentication.k8s.io/v1',
          kind: 'TokenRequest',
          spec: { expirationSeconds: 3607, boundObjectRef: { apiVersion: 'v1', kind: 'Pod', name, uid } },
        },
      );
      writeFileSync(join(dir, 'token'), tr.status.token, { mode: 0o644 });
      writeFileSync(join(dir, 'ca.crt'), caPem);
      writeFileSync(join(dir, 'namespace'), namespace);
      // A tmpfs over /run hides the host's /run from this process only; the files are bound where the pod expects.
      const script = 'mount -t tmpfs tmpfs /run && mkdir -p "$1" && mount --bind "$2" "$1" && shift 2 && exec "$@"';
      argv = [
        'unshare',
        '--mount',
        '--propagation',
        'private',
        'sh',
        '-c',
        script,
        'sh',
        launch.tokenMountPath,
        dir,
        ...argv,
      ];
    }
    const [cmd, ...args] = argv;
    if (!cmd) throw new Error('unreachable');
    const res = await runCommand(cmd, args, { env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...launch.env } });
    const phase = res.code === 0 ? 'Succeeded' : 'Failed';
    const reason = res.code === 0 ? 'Completed' : 'Error';
    await client.mergePatch(`/api/v1/namespaces/${namespace}/pods/${name}/status`, {
      status: {
        phase,
        containerStatuses: [
          {
            name: pod.spec.containers[0]?.name ?? 'main',
            image: 'fedmesh',
            imageID: '',
            ready: false,
            restartCount: 0,
            state: { terminated: { exitCode: res.code ?? 1, reason } },
          },
        ],
      },
    });
    return `${res.stdout}${res.stderr}`;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Runs every Helm test pod of `namespace` that appears until `signal` aborts; the outputs by pod name. Polls
 * (a few pods, short-lived) rather than watching.
 */
export async function runHelmTestPods(
  client: KubeRestClient,
  namespace: string,
  apiServer: { host: string; port: string },
  caPem: string,
  signal: AbortSignal,
): Promise<Map<string, string>> {
  const outputs = new Map<string, string>();
  const done = new Set<string>();
  while (!signal.aborted) {
    const list = await client.get<{ items: TestPod[] }>(`/api/v1/namespaces/${namespace}/pods`);
    for (const pod of list.items.filter(isHelmTestPod)) {
      if (done.has(pod.metadata.uid) || pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed') continue;
      done.add(pod.metadata.uid);
      try {
        outputs.set(pod.metadata.name, await runPod(client, pod, apiServer, caPem));
      } catch (err) {
        if (!isStatus(err, 404)) throw err; // deleted meanwhile (helm replaced it)
      }
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return outputs;
}
