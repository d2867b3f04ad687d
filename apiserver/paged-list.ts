import { createHash } from 'node:crypto';
import { type ContinueToken, decodeContinue, encodeContinue } from './continue-token.js';
import type { ListOptions } from './list-options.js';
import { parseResourceVersion } from './resource-version.js';
import type { ResourceName } from './resources.js';
import type { ServedStore, Snapshot, StoredObject } from './served-store.js';
import { badRequest, expired, expiredWithContinue, timeout } from './status.js';

/**
 * Snapshots that paginated lists continue from: the same resourceVersion across pages (LIST-03), for a few
 * minutes, as etcd keeps revisions until compaction.
 */
export class SnapshotKeeper {
  private readonly kept = new Map<string, { snap: Snapshot; expires: number }>();
  constructor(
    private readonly ttlMs = 5 * 60_000,
    private readonly max = 64,
  ) {}
  keep(resource: string, snap: Snapshot): void {
    const now = Date.now();
    for (const [k, v] of this.kept) if (v.expires <= now) this.kept.delete(k);
    if (this.kept.size >= this.max) {
      const oldest = this.kept.keys().next().value;
      if (oldest !== undefined) this.kept.delete(oldest);
    }
    this.kept.set(`${resource}@${snap.rv}`, { snap, expires: now + this.ttlMs });
  }
  find(resource: string, rv: bigint): Snapshot | undefined {
    const e = this.kept.get(`${resource}@${rv}`);
    return e && e.expires > Date.now() ? e.snap : undefined;
  }
}

export interface ListRequest {
  readonly resource: ResourceName;
  /** The request's namespace; undefined for all namespaces or a cluster-scoped resource. */
  readonly namespace: string | undefined;
  readonly opts: ListOptions;
  /** Whether an object is in the request's namespace and matches its selectors. */
  readonly matches: (o: StoredObject) => boolean;
}

export interface ListPage {
  readonly items: readonly StoredObject[];
  readonly metadata: { readonly resourceVersion: string; readonly continue?: string };
}

// kube-apiserver's words (k8s.io/apiserver storage/etcd3), so that clients and people recognise them.
const continueRvNotAllowed = 'specifying resource version is not allowed when using continue';
const inconsistentContinue =
  'The provided continue parameter is too old to display a consistent list result. You can start a new list ' +
  'without the continue parameter, or use the continue token in this response to retrieve the remainder of the ' +
  'results. Continuing with the provided token results in an inconsistent list - objects that were created, ' +
  'modified, or deleted between the time the first chunk was returned and now may show up in the list.';

/** Where a page starts: the snapshot, the resourceVersion the page reports, and the key to continue after. */
interface Start {
  readonly snap: Snapshot;
  /** The snapshot's own version, or the first page's when this replica's rest is provably the same. */
  readonly rv: bigint;
  readonly after: string | undefined;
}

/**
 * One page of a list (LIST-02/03). A continue token of this replica whose snapshot is still kept continues
 * from it. When that snapshot is gone, or the token is another replica's (the Service may send each page to
 * another replica), the list continues from the token's key on the current state if that state's rest is
 * exactly the rest the first page's snapshot had (same digest): the result is then the consistent list the
 * client asked for. Only when the rest differs is the answer kube-apiserver's: 410 Expired with a token that
 * continues, knowingly inconsistent, at the latest state.
 */
export async function listPage(
  store: ServedStore,
  snapshots: SnapshotKeeper,
  req: ListRequest,
  tooLargeRvWaitMs = 3000,
): Promise<ListPage> {
  const start = req.opts.continueToken
    ? continueStart(store, snapshots, req)
    : await freshStart(store, req, tooLargeRvWaitMs);
  const { snap, rv } = start;
  const items = snap.items;
  const page: StoredObject[] = [];
  const limit = req.opts.limit;
  let i = start.after === undefined ? 0 : firstAfter(items, start.after);
  for (; i < items.length; i++) {
    const o = items[i] as StoredObject;
    if (!req.matches(o)) continue;
    if (limit !== undefined && page.length >= limit) break;
    page.push(o);
  }
  const last = page[page.length - 1];
  if (i >= items.length || last === undefined) return { items: page, metadata: { resourceVersion: rv.toString() } };
  const token: ContinueToken = {
    resource: req.resource,
    rv,
    lastKey: last.key,
    rest: pageBoundaryDigest(items, i, req),
  };
  if (rv === snap.rv) snapshots.keep(req.resource, snap);
  return { items: page, metadata: { resourceVersion: rv.toString(), continue: encodeContinue(token) } };
}

function continueStart(store: ServedStore, snapshots: SnapshotKeeper, req: ListRequest): Start {
  const rvParam = req.opts.resourceVersion;
  if (rvParam !== undefined && rvParam !== '0') throw badRequest(continueRvNotAllowed);
  const token = decodeContinue(req.opts.continueToken ?? '', req.resource, req.namespace);
  if (token.rv === 'latest') {
    const snap = store.snapshot(req.resource);
    return { snap, rv: snap.rv, after: token.lastKey };
  }
  const kept = snapshots.find(req.resource, token.rv);
  if (kept) return { snap: kept, rv: token.rv, after: token.lastKey };
  const snap = store.snapshot(req.resource);
  const from = firstAfter(snap.items, token.lastKey);
  if (restDigest(snap.items, from, req.matches) === token.rest) {
    // The rest here is the rest of the first page's snapshot: serve it as that snapshot.
    return { snap, rv: token.rv, after: token.lastKey };
  }
  throw expiredWithContinue(
    inconsistentContinue,
    encodeContinue({ resource: req.resource, rv: 'latest', lastKey: token.lastKey }),
  );
}

async function freshStart(store: ServedStore, req: ListRequest, tooLargeRvWaitMs: number): Promise<Start> {
  const raw = req.opts.resourceVersion;
  if (raw === undefined || raw === '0') {
    const snap = store.snapshot(req.resource);
    return { snap, rv: snap.rv, after: undefined };
  }
  const rv = parseRv(raw);
  if (store.isFutureRv(rv)) await waitForRv(store, rv, tooLargeRvWaitMs);
  else if (!store.ownsRv(rv)) throw expired(`too old resource version: ${rv} (${store.oldestResumableRv})`);
  const snap = store.snapshot(req.resource);
  if (req.opts.resourceVersionMatch === 'Exact' && snap.rv !== rv) {
    // Only the current state is held: an exact older version cannot be served.
    throw expired(`too old resource version: ${rv} (${snap.rv})`);
  }
  return { snap, rv: snap.rv, after: undefined };
}

/** A resourceVersion parameter as a number; 400 for anything this server cannot have issued. */
export function parseRv(raw: string): bigint {
  const rv = parseResourceVersion(raw);
  if (rv === undefined) throw badRequest(`resourceVersion "${raw}" is not valid: it must be one this server returned`);
  return rv;
}

/** Waits until the store reaches `rv` (a client read a later revision of this process), or 504 as Go does. */
async function waitForRv(store: ServedStore, rv: bigint, waitMs: number): Promise<void> {
  const deadline = Date.now() + waitMs;
  while (store.isFutureRv(rv)) {
    if (Date.now() > deadline) throw timeout(`Too large resource version: ${rv}, current: ${store.currentRv}`, 1);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * The digest of what a list would still return from index `from` on: the selected objects' content digests,
 * hashed from the last one back, so that one backward pass can read it off at every page start.
 */
function restDigest(items: readonly StoredObject[], from: number, matches: (o: StoredObject) => boolean): string {
  const h = createHash('sha256');
  for (let i = items.length - 1; i >= from; i--) {
    const o = items[i] as StoredObject;
    if (matches(o)) h.update(o.digest);
  }
  return h.digest('base64url').slice(0, 32);
}

/**
 * The rest digests at the page starts of one paged list (every `limit` selected objects), read off one backward
 * pass when its first token is issued: each page then costs nothing more, where hashing the rest per page would
 * cost O(n²/limit) over a list. A few selections per snapshot are remembered, each with O(n/limit) digests.
 */
const pageStarts = new WeakMap<readonly StoredObject[], Map<string, ReadonlyMap<number, string>>>();
const selectionsPerSnapshot = 8;

function pageBoundaryDigest(items: readonly StoredObject[], from: number, req: ListRequest): string {
  const limit = req.opts.limit ?? 0;
  const key = JSON.stringify([req.namespace, req.opts.labelSelector, req.opts.fieldRequirements, limit]);
  let bySelection = pageStarts.get(items);
  if (!bySelection) {
    bySelection = new Map();
    pageStarts.set(items, bySelection);
  }
  let starts = bySelection.get(key);
  if (!starts) {
    // Page k starts at the (k·limit)-th selected object.
    const boundary = new Set<number>();
    let selected = 0;
    for (let i = 0; i < items.length; i++) {
      if (!req.matches(items[i] as StoredObject)) continue;
      if (selected > 0 && selected % limit === 0) boundary.add(i);
      selected++;
    }
    const at = new Map<number, string>();
    const h = createHash('sha256');
    for (let i = items.length - 1; i >= 0 && boundary.size > at.size; i--) {
      const o = items[i] as StoredObject;
      if (req.matches(o)) h.update(o.digest);
      if (boundary.has(i)) at.set(i, h.copy().digest('base64url').slice(0, 32));
    }
    if (bySelection.size >= selectionsPerSnapshot) bySelection.clear();
    bySelection.set(key, at);
    starts = at;
  }
  return starts.get(from) ?? restDigest(items, from, req.matches);
}

function firstAfter(items: readonly StoredObject[], key: string): number {
  let lo = 0;
  let hi = items.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((items[mid]?.key ?? '') <= key) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
