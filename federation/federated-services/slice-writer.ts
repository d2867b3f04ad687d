// Carries out a slice plan against the local kube-apiserver: new and changed slices first, deletions last (an
// endpoint moving between slices is never absent), updates and deletions conditional on the version planned from.
import type { Counter } from 'prom-client';
import type { KubeObject } from '../../core/kube/resilient-informer.js';
import { isStatus, type KubeRestClient } from '../../core/kube/rest-client.js';
import { isEmptyPlan, type SlicePlan, type WrittenSlice } from './slice-plan.js';
import { writtenSliceOf } from './written-slice.js';

export type WriteOperation = 'create' | 'update' | 'delete';
export type WriteCounter = Counter<'operation' | 'result' | 'controller'>;

export interface SliceWriterOptions {
  readonly client: KubeRestClient;
  readonly controller: string;
  /** The managed-by label of the slices written (to read back the stored objects). */
  readonly managedBy: string;
  readonly writes?: WriteCounter;
  /** The stored object of each create and update (so that the caller's view follows its own writes at once). */
  readonly onStored: (s: WrittenSlice) => void;
  readonly onDeleted: (namespace: string, name: string) => void;
}

const nsSlicesPath = (ns: string) => `/apis/discovery.k8s.io/v1/namespaces/${encodeURIComponent(ns)}/endpointslices`;

export async function applySlicePlan(opts: SliceWriterOptions, namespace: string, plan: SlicePlan): Promise<void> {
  if (isEmptyPlan(plan)) return;
  const base = nsSlicesPath(namespace);
  const counted = async <T>(operation: WriteOperation, run: () => Promise<T>): Promise<T> => {
    try {
      const out = await run();
      opts.writes?.inc({ operation, result: 'success', controller: opts.controller });
      return out;
    } catch (err) {
      opts.writes?.inc({ operation, result: 'error', controller: opts.controller });
      throw err;
    }
  };
  const stored = (body: unknown) => {
    const s =
      typeof body === 'object' && body !== null ? writtenSliceOf(body as KubeObject, opts.managedBy) : undefined;
    if (s) opts.onStored(s);
  };
  await Promise.all([
    ...plan.create.map(async (body) => stored(await counted('create', () => opts.client.create(base, body)))),
    ...plan.update.map(async (body) => {
      const path = `${base}/${encodeURIComponent(body.metadata.name)}`;
      stored(await counted('update', async () => (await opts.client.request('PUT', path, { body })).body));
    }),
  ]);
  await Promise.all(
    plan.delete.map(async (d) => {
      const path = `${base}/${encodeURIComponent(d.name)}`;
      try {
        await counted('delete', () =>
          opts.client.delete(path, { preconditions: { resourceVersion: d.resourceVersion } }),
        );
      } catch (err) {
        if (!isStatus(err, 404)) throw err;
      }
      opts.onDeleted(namespace, d.name);
    }),
  );
}
