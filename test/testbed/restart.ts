import { KubeRestClient } from '../../core/kube/rest-client.js';
import { isRunning, startDetached } from './processes.js';
import { type ProcessRecord, type TestbedState, writeState } from './state.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function apiserverOf(state: TestbedState, cluster: string): ProcessRecord {
  const rec = state.processes.find((p) => p.cluster === cluster && p.component === 'kube-apiserver');
  if (!rec) throw new Error(`no kube-apiserver recorded for cluster ${cluster}`);
  return rec;
}

/** Kills a cluster's kube-apiserver at once (SIGKILL: an outage, not a graceful shutdown); waits until it is gone. */
export async function killApiserver(state: TestbedState, cluster: string): Promise<void> {
  const rec = apiserverOf(state, cluster);
  try {
    process.kill(-rec.pid, 'SIGKILL');
  } catch {
    // already gone
  }
  for (let i = 0; i < 100 && isRunning(rec); i++) await sleep(50);
  if (isRunning(rec)) throw new Error(`kube-apiserver of ${cluster} (pid ${rec.pid}) did not die`);
}

/**
 * Starts a cluster's kube-apiserver again with the same flags (same port, same certificates), records the new
 * pid in the state so that `down` stops it, and waits until it is ready.
 */
export async function restartApiserver(state: TestbedState, cluster: string, timeoutMs = 120_000): Promise<void> {
  const rec = apiserverOf(state, cluster);
  if (isRunning(rec)) throw new Error(`kube-apiserver of ${cluster} still runs (pid ${rec.pid})`);
  const started = startDetached(rec.argv, rec.log);
  const next: ProcessRecord = { ...rec, pid: started.pid, startedAt: new Date().toISOString() };
  state.processes = state.processes.map((p) => (p === rec ? next : p));
  writeState(state);
  const c = state.clusters.find((x) => x.name === cluster);
  if (!c) throw new Error(`no cluster ${cluster}`);
  const client = await KubeRestClient.fromKubeconfigFile(c.kubeconfig, 2);
  const deadline = Date.now() + timeoutMs;
  try {
    for (;;) {
      if (started.exitCode !== undefined) throw new Error(`kube-apiserver of ${cluster} exited (${started.exitCode})`);
      try {
        const r = await client.request('GET', '/readyz', { accept: 'text/plain', timeoutMs: 3000 });
        if (r.statusCode === 200) return;
      } catch {
        // not yet
      }
      if (Date.now() > deadline) throw new Error(`kube-apiserver of ${cluster} not ready after restart`);
      await sleep(250);
    }
  } finally {
    client.close();
  }
}
