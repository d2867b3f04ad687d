import { isStatus, KubeRestClient, type WatchEvent } from '../../core/kube/rest-client.js';

/**
 * The part of a kubelet that the testbed's clusters need: a bound pod being deleted (deletionTimestamp
 * set) is removed for good once "its containers stopped". Without it such pods, and the namespaces holding
 * them, would stay Terminating forever. Runs until SIGTERM.
 */
interface PodMeta {
  metadata: { name: string; namespace: string; uid: string; deletionTimestamp?: string; resourceVersion?: string };
  spec?: { nodeName?: string };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function finalize(client: KubeRestClient, pod: PodMeta): Promise<void> {
  if (!pod.metadata.deletionTimestamp || !pod.spec?.nodeName) return;
  const path = `/api/v1/namespaces/${pod.metadata.namespace}/pods/${pod.metadata.name}`;
  try {
    await client.delete(path, {
      apiVersion: 'v1',
      kind: 'DeleteOptions',
      gracePeriodSeconds: 0,
      preconditions: { uid: pod.metadata.uid },
    });
  } catch (err) {
    if (!isStatus(err, 404) && !isStatus(err, 409)) throw err;
  }
}

export async function runKubeletSim(kubeconfig: string, signal: AbortSignal): Promise<void> {
  const client = await KubeRestClient.fromKubeconfigFile(kubeconfig, 8);
  let backoff = 500;
  while (!signal.aborted) {
    try {
      const list = await client.get<{ metadata: { resourceVersion: string }; items: PodMeta[] }>('/api/v1/pods');
      await Promise.all(list.items.map((p) => finalize(client, p)));
      let rv = list.metadata.resourceVersion;
      backoff = 500;
      // Watch until the server closes the stream (timeoutSeconds), then resume from the last version seen.
      for (;;) {
        let expired = false;
        await client.watch(
          `/api/v1/pods?watch=1&allowWatchBookmarks=true&timeoutSeconds=300&resourceVersion=${rv}`,
          (ev: WatchEvent) => {
            if (ev.type === 'ERROR') {
              expired = true;
              return;
            }
            const pod = ev.object as unknown as PodMeta;
            if (pod.metadata?.resourceVersion) rv = pod.metadata.resourceVersion;
            if (ev.type === 'ADDED' || ev.type === 'MODIFIED') {
              finalize(client, pod).catch((err: unknown) => console.error(`kubelet-sim: ${String(err)}`));
            }
          },
          signal,
        );
        if (expired || signal.aborted) break;
      }
    } catch (err) {
      if (signal.aborted) break;
      console.error(`kubelet-sim: ${err instanceof Error ? err.message : String(err)}; retrying in ${backoff} ms`);
      await sleep(backoff);
      backoff = Math.min(backoff * 2, 10_000);
    }
  }
  client.close();
}
