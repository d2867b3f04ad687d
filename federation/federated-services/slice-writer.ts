// Carries out a slice plan against the local kube-apiserver: new and changed slices first, deletions last (an
// endpoint moving between slices is never absent), updates and deletions conditional on the version planned from.
// A failed create or update holds back only the deletions of slices holding one of its addresses (they may be
// moving into it); every other deletion (a withdrawn cluster's slices, say) goes ahead, and the first error is
// thrown afterwards, so that the caller retries.
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
  /** The slice of that name as last read or written (its endpoints tell which failed writes a deletion waits for). */
  readonly held: (namespace: string, name: string) => WrittenSlice | undefined;
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
  const writes = await Promise.allSettled([
    ...plan.create.map(async (body) => stored(await counted('create', () => opts.client.create(base, body)))),
    ...plan.update.map(async (body) => {
      const path = `${base}/${encodeURIComponent(body.metadata.name)}`;
      stored(await counted('update', async () => (await opts.client.request('PUT', path, { body })).body));
    }),
  ]);
  const bodies = [...plan.create, ...plan.update];
  const unwritten = new Set<string>();
  writes.forEach((w, i) => {
    const body = bodies[i];
    if (w.status === 'fulfilled' || !body) return;
    for (const e of body.endpoints) for (const a of e.addresses) unwritten.add(addressKey(body.addressType, a));
  });
  const independent = (name: string) => {
    if (unwritten.size === 0) return true;
    const s = opts.held(namespace, name);
    // Unknown content: it may hold an endpoint of a failed write, so it waits for the retry.
    return (
      s !== undefined && !s.endpoints.some((e) => e.addresses.some((a) => unwritten.has(addressKey(s.addressType, a))))
    );
  };
  const deletions = await Promise.allSettled(
    plan.delete
      .filter((d) => independent(d.name))
      .map(async (d) => {
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
  const failed = [...writes, ...deletions].find((r) => r.status === 'rejected');
  if (failed) throw failed.reason;
}

const addressKey = (addressType: string, address: string) => `${addressType}|${address}`;
