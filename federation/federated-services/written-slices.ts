// Every replica's view of the EndpointSlices one controller wrote (by its managed-by label), grouped by the
// Service they belong to, kept current by a watch and by the controller's own writes. A new leader plans from
// it, so that what is already right is not written again.
import { ResilientInformer } from '../../core/kube/resilient-informer.js';
import type { KubeRestClient } from '../../core/kube/rest-client.js';
import type { Logger } from '../../core/log/logger.js';
import { managedByLabel, type SlicePlan, type WrittenSlice } from './slice-plan.js';
import { applySlicePlan, type WriteCounter } from './slice-writer.js';
import { writtenSliceOf } from './written-slice.js';

export interface WrittenSliceViewOptions {
  readonly client: KubeRestClient;
  readonly managedBy: string;
  /** The label that names the slice's Service (`namespace/<value>` is the group key). */
  readonly groupLabel: string;
  /** More label requirements, e.g. `kubernetes.io/service-name` (exists). */
  readonly alsoSelect?: string;
  /** A group changed by someone else's hand (or by a relist): sync it. */
  readonly onChange: (key: string) => void;
  readonly log: Logger;
  /** The controller writing (a metric label). */
  readonly controller: string;
  readonly writes?: WriteCounter;
}

export class WrittenSliceView {
  private readonly groups = new Map<string, Map<string, WrittenSlice>>();
  private readonly groupOf = new Map<string, string>(); // namespace/slice → group key
  private readonly informer: ResilientInformer<WrittenSlice>;

  constructor(private readonly opts: WrittenSliceViewOptions) {
    this.informer = new ResilientInformer<WrittenSlice>({
      client: opts.client,
      path: '/apis/discovery.k8s.io/v1/endpointslices',
      query: {
        labelSelector: [`${managedByLabel}=${opts.managedBy}`, opts.groupLabel, opts.alsoSelect]
          .filter((x) => x !== undefined)
          .join(','),
      },
      convert: (raw) => writtenSliceOf(raw, opts.managedBy),
      handlers: {
        onList: (items) => {
          const touched = new Set(this.groups.keys());
          this.groups.clear();
          this.groupOf.clear();
          for (const s of items.values()) touched.add(this.store(s));
          for (const k of touched) opts.onChange(k);
        },
        onUpsert: (_key, s) => {
          const prev = this.groups.get(this.groupKey(s))?.get(s.name);
          if (prev?.resourceVersion === s.resourceVersion) return; // the echo of our own write
          opts.onChange(this.store(s));
        },
        onDelete: (key) => {
          const i = key.indexOf('/');
          const group = this.remove(key.slice(0, i), key.slice(i + 1));
          if (group !== undefined) opts.onChange(group);
        },
        onPhase: (phase, failure) => {
          if (phase === 'failed') {
            opts.log.warn(
              { err: String(failure?.error) },
              `cannot watch the EndpointSlices managed by ${opts.managedBy}`,
            );
          }
        },
      },
    });
  }

  get synced(): Promise<void> {
    return this.informer.synced;
  }

  start(): void {
    this.informer.start();
  }

  stop(): Promise<void> {
    return this.informer.stop();
  }

  /** Carries out a plan for slices of `namespace`; the view follows the writes at once. */
  apply(namespace: string, plan: SlicePlan): Promise<void> {
    return applySlicePlan(
      {
        client: this.opts.client,
        controller: this.opts.controller,
        managedBy: this.opts.managedBy,
        ...(this.opts.writes ? { writes: this.opts.writes } : {}),
        onStored: (s) => this.store(s),
        onDeleted: (ns, n) => this.remove(ns, n),
        held: (ns, n) => this.groups.get(this.groupOf.get(`${ns}/${n}`) ?? '')?.get(n),
      },
      namespace,
      plan,
    );
  }

  keys(): Iterable<string> {
    return this.groups.keys();
  }

  get(key: string): WrittenSlice[] {
    return [...(this.groups.get(key)?.values() ?? [])];
  }

  groupKey(s: WrittenSlice): string {
    return `${s.namespace}/${s.labels[this.opts.groupLabel] ?? ''}`;
  }

  /** Stores a slice (from the watch, or the answer to our own write); returns its group. */
  store(s: WrittenSlice): string {
    const key = this.groupKey(s);
    const sliceKey = `${s.namespace}/${s.name}`;
    const before = this.groupOf.get(sliceKey);
    if (before !== undefined && before !== key) this.remove(s.namespace, s.name);
    let m = this.groups.get(key);
    if (!m) {
      m = new Map();
      this.groups.set(key, m);
    }
    m.set(s.name, s);
    this.groupOf.set(sliceKey, key);
    return key;
  }

  /** Forgets a slice; returns the group it was in. */
  remove(namespace: string, name: string): string | undefined {
    const sliceKey = `${namespace}/${name}`;
    const key = this.groupOf.get(sliceKey);
    if (key === undefined) return undefined;
    this.groupOf.delete(sliceKey);
    const m = this.groups.get(key);
    m?.delete(name);
    if (m?.size === 0) this.groups.delete(key);
    return key;
  }
}
