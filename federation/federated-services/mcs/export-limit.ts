// How many exports of one remote cluster this cluster imports. Every import costs the local cluster a
// ServiceImport, a derived Service (a ClusterIP of the service range) and EndpointSlices, and a remote admin can
// announce any number of exports: without a limit, one partly trusted cluster could fill the local service range
// and etcd. Past the limit a cluster's oldest exports are imported (ServiceExport creation time, then
// namespace/name), counting only those whose namespace exists here (the others import nothing); the rest are left
// out until it withdraws some. Exports of this cluster are its own users' and are not limited.
//
// Below the limit (the normal case) an announcement is admitted at once. Above it, the choice needs a sort of the
// cluster's announcements: `settle` makes it, and the caller runs it at a bounded rate, so that a cluster churning
// thousands of announcements costs one sort per period, not one per event. Until then a new announcement of a
// cluster over its limit waits, and a withdrawn one is out at once.

import type { Announcement } from './announcement.js';

/** Exports of one remote cluster imported at most, unless configured otherwise. */
export const DEFAULT_MAX_EXPORTS_PER_CLUSTER = 1000;

interface ClusterExports {
  /** namespace/name → announcement. */
  readonly all: Map<string, Announcement>;
  /** The admitted keys; undefined: all of them (the cluster is within its limit). */
  admitted: Set<string> | undefined;
  /** The admitted set must be chosen again. */
  dirty: boolean;
  /** At the last settle: exports whose namespace exists here that were left out. */
  leftOut: number;
}

const keyOf = (a: Announcement) => `${a.namespace}/${a.name}`;
const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

export class ExportLimit {
  private readonly clusters = new Map<string, ClusterExports>();

  constructor(
    readonly limit: number,
    private readonly localCluster: string,
  ) {
    if (!Number.isSafeInteger(limit) || limit < 1) throw new RangeError(`export limit ${limit}: a positive integer`);
  }

  /** An announcement arrived or changed. */
  set(a: Announcement): void {
    if (a.cluster === this.localCluster) return;
    let c = this.clusters.get(a.cluster);
    if (!c) {
      c = { all: new Map(), admitted: undefined, dirty: false, leftOut: 0 };
      this.clusters.set(a.cluster, c);
    }
    const key = keyOf(a);
    const known = c.all.has(key);
    if (c.admitted === undefined && !known && c.all.size + 1 > this.limit) {
      // Over the limit from now: what was admitted stays so until the next settle; the new one waits.
      c.admitted = new Set(c.all.keys());
    }
    c.all.set(key, a);
    if (c.admitted !== undefined) c.dirty = true;
  }

  /** An announcement was withdrawn. */
  delete(cluster: string, namespace: string, name: string): void {
    const c = this.clusters.get(cluster);
    const key = `${namespace}/${name}`;
    if (!c?.all.delete(key)) return;
    if (c.all.size === 0) {
      this.clusters.delete(cluster);
      return;
    }
    if (c.admitted !== undefined) {
      c.admitted.delete(key);
      c.dirty = true;
    }
  }

  /** Whether the export `key` (namespace/name) of `cluster` is imported. */
  admits(cluster: string, key: string): boolean {
    if (cluster === this.localCluster) return true;
    const c = this.clusters.get(cluster);
    if (!c?.all.has(key)) return false;
    return c.admitted === undefined || c.admitted.has(key);
  }

  /** A namespace appeared or went here: the clusters over their limit choose again. */
  namespacesChanged(): void {
    for (const c of this.clusters.values()) if (c.admitted !== undefined) c.dirty = true;
  }

  get needsSettle(): boolean {
    for (const c of this.clusters.values()) if (c.dirty) return true;
    return false;
  }

  /**
   * Chooses the admitted exports of every cluster that changed while over its limit. Returns the keys whose
   * admission changed (to sync again). `namespaceExists` says which exports could be imported at all.
   */
  settle(namespaceExists: (namespace: string) => boolean): string[] {
    const changed: string[] = [];
    for (const c of this.clusters.values()) {
      if (!c.dirty) continue;
      c.dirty = false;
      const before = c.admitted;
      let after: Set<string> | undefined;
      if (c.all.size > this.limit) {
        const ranked = [...c.all.values()]
          .map((a) => ({ a, key: keyOf(a), here: namespaceExists(a.namespace) }))
          .sort(
            (x, y) =>
              Number(y.here) - Number(x.here) ||
              x.a.exportedAt - y.a.exportedAt ||
              cmp(x.a.namespace, y.a.namespace) ||
              cmp(x.a.name, y.a.name),
          );
        after = new Set(ranked.slice(0, this.limit).map((r) => r.key));
        c.leftOut = ranked.slice(this.limit).filter((r) => r.here).length;
      }
      c.admitted = after;
      if (after === undefined) c.leftOut = 0;
      for (const key of c.all.keys()) {
        const was = before === undefined || before.has(key);
        const is = after === undefined || after.has(key);
        if (was !== is) changed.push(key);
      }
    }
    return changed;
  }

  /**
   * Remote clusters over their limit at the last settle: cluster → how many exports it announces, and how many of
   * those whose namespace exists here are left out.
   */
  overLimit(): Map<string, { readonly announced: number; readonly leftOut: number }> {
    const out = new Map<string, { announced: number; leftOut: number }>();
    for (const [cluster, c] of this.clusters) {
      if (c.admitted !== undefined && c.leftOut > 0) out.set(cluster, { announced: c.all.size, leftOut: c.leftOut });
    }
    return out;
  }
}
