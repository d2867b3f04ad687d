import type { IncomingMessage, ServerResponse } from 'node:http';
import yaml from 'js-yaml';
import { type ListOptions, matchesFields, parseListOptions } from './list-options.js';
import type { ObjectFormat } from './negotiation.js';
import { listPage, parseRv, type SnapshotKeeper } from './paged-list.js';
import type { RequestInfo } from './request-info.js';
import { fieldSelectorsOf, group, groupVersion, type ResourceDefinition, resources } from './resources.js';
import { jsonOf, type ServedStore, type StoredObject, type StoreEvent } from './served-store.js';
import { badRequest, expired, notFound, StatusError } from './status.js';
import { type IncludeObject, table } from './table.js';
import { defaultWatchStreamOptions, WatchStream, type WatchStreamOptions } from './watch-stream.js';

type ResourceRequest = Extract<RequestInfo, { kind: 'resource' }>;

/** Kept here for the server's wiring: paged lists (paged-list.ts) continue from its snapshots. */
export { SnapshotKeeper } from './paged-list.js';

export interface HandlerContext {
  readonly store: ServedStore;
  readonly snapshots: SnapshotKeeper;
  /** Warnings for the response (unreachable clusters), as Warning header texts. */
  readonly warnings: () => readonly string[];
  /** How long an `rv` newer than the store may be waited for before 504 (Go: 3 s). */
  readonly tooLargeRvWaitMs?: number;
  /** Back-pressure and cut-off of watches (defaults: defaultWatchStreamOptions). */
  readonly watchStream?: WatchStreamOptions;
}

function write(res: ServerResponse, code: number, contentType: string, body: string): void {
  res.writeHead(code, { 'Content-Type': contentType, 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

function writeObject(res: ServerResponse, format: ObjectFormat, obj: unknown, jsonText?: string): void {
  if (format.kind === 'yaml') write(res, 200, 'application/yaml', yaml.dump(obj, { noRefs: true, lineWidth: -1 }));
  else write(res, 200, 'application/json', jsonText ?? JSON.stringify(obj));
}

function includeObjectOf(url: URL): IncludeObject {
  const v = url.searchParams.get('includeObject');
  if (v === null || v === '' || v === 'Metadata') return 'Metadata';
  if (v === 'None' || v === 'Object') return v;
  throw badRequest(`includeObject must be None, Metadata or Object, not "${v}"`);
}

function inScope(o: StoredObject, info: ResourceRequest): boolean {
  return info.namespace === undefined || o.namespace === info.namespace;
}

function matches(o: StoredObject, info: ResourceRequest, opts: ListOptions): boolean {
  return inScope(o, info) && opts.labelMatches(o.labels) && matchesFields(o.fields, opts.fieldRequirements);
}

function addWarnings(res: ServerResponse, warnings: readonly string[]): void {
  if (warnings.length === 0) return;
  // RFC 7234 warn-code 299 with an escaped quoted text, as k8s.io/apiserver writes them.
  res.setHeader(
    'Warning',
    warnings.map((w) => `299 - "${w.slice(0, 256).replaceAll('\\', '\\\\').replaceAll('"', '\\"')}"`),
  );
}

export function handleGet(
  ctx: HandlerContext,
  info: ResourceRequest,
  url: URL,
  format: ObjectFormat,
  res: ServerResponse,
): void {
  const def = resources[info.resource];
  const name = info.name ?? '';
  const key = def.namespaced ? `${info.namespace}/${name}` : name;
  const o = ctx.store.get(info.resource, key);
  if (!o) throw notFound(group, def.name, name);
  addWarnings(res, ctx.warnings());
  if (format.kind === 'table') {
    const body = table(def, format.version, [o], { resourceVersion: o.resourceVersion }, includeObjectOf(url));
    writeObject(res, { kind: 'json' }, body);
    return;
  }
  writeObject(res, format, o.object, format.kind === 'json' ? jsonOf(o) : undefined);
}

export async function handleList(
  ctx: HandlerContext,
  info: ResourceRequest,
  url: URL,
  format: ObjectFormat,
  res: ServerResponse,
): Promise<void> {
  const def = resources[info.resource];
  const opts = parseListOptions(url.searchParams, fieldSelectorsOf(def));
  const { items: page, metadata: meta } = await listPage(
    ctx.store,
    ctx.snapshots,
    { resource: info.resource, namespace: info.namespace, opts, matches: (o) => matches(o, info, opts) },
    ctx.tooLargeRvWaitMs,
  );
  addWarnings(res, ctx.warnings());
  if (format.kind === 'table') {
    writeObject(res, { kind: 'json' }, table(def, format.version, page, meta, includeObjectOf(url)));
    return;
  }
  if (format.kind === 'yaml') {
    writeObject(res, format, {
      kind: def.listKind,
      apiVersion: groupVersion,
      metadata: meta,
      items: page.map((o) => o.object),
    });
    return;
  }
  const head = `{"kind":"${def.listKind}","apiVersion":"${groupVersion}","metadata":${JSON.stringify(meta)},"items":[`;
  write(res, 200, 'application/json', `${head}${page.map(jsonOf).join(',')}]}`);
}

/** What the server learns about one watch's end. */
export interface WatchHooks {
  /** Called once when the watch ends, however it ends. */
  readonly onEnd: () => void;
  /** The watch was cut because its client fell behind. */
  readonly onCut: (why: string) => void;
}

/** The longest a watch may run (setTimeout's limit is about 24.8 days). */
const maxWatchSeconds = 24 * 3600;

/**
 * A watch (WATCH-01…07): initial ADDED events for RV unset/"0" or with sendInitialEvents, else the held events
 * after RV; then live events, filtered with both sides of each change so that an object leaving the selector is
 * seen as DELETED. Too old → one ERROR event (410 Expired) and the end, as Go does. Writing follows the client's
 * pace (watch-stream.ts): nothing is rendered ahead of what the connection takes.
 */
export function handleWatch(
  ctx: HandlerContext,
  info: ResourceRequest,
  url: URL,
  format: ObjectFormat,
  req: IncomingMessage,
  res: ServerResponse,
  hooks: WatchHooks,
): void {
  const def = resources[info.resource];
  const opts = parseListOptions(url.searchParams, fieldSelectorsOf(def));
  if (info.name !== undefined && url.pathname.split('/').pop() === info.name) {
    // A named watch path: kubectl sends the collection with a metadata.name selector instead; support both.
    const m = /(?:^|,)metadata\.name==?([^,]+)/.exec(url.searchParams.get('fieldSelector') ?? '');
    if (m && m[1] !== info.name) throw badRequest("fieldSelector metadata.name doesn't match requested name");
  }
  const named = info.name;
  const keep = (o: StoredObject | undefined) =>
    o !== undefined && matches(o, info, opts) && (named === undefined || o.name === named);
  let columnsSent = false;
  const encode = (type: string, obj: unknown): string => `${JSON.stringify({ type, object: obj })}\n`;
  const eventText = (type: string, o: StoredObject): string => {
    if (format.kind === 'table') {
      const t = table(
        def,
        format.version,
        [o],
        { resourceVersion: o.resourceVersion },
        includeObjectOf(url),
        !columnsSent,
      );
      columnsSent = true;
      return encode(type, t);
    }
    return `{"type":"${type}","object":${jsonOf(o)}}\n`;
  };
  const bookmark = (rv: bigint, initialEnd = false) =>
    encode('BOOKMARK', {
      kind: def.kind,
      apiVersion: groupVersion,
      metadata: {
        resourceVersion: rv.toString(),
        ...(initialEnd ? { annotations: { 'k8s.io/initial-events-end': 'true' } } : {}),
      },
    });

  function translate(ev: StoreEvent): [string, StoredObject][] {
    if (ev.object.resource !== info.resource) return [];
    const now = ev.type !== 'DELETED' && keep(ev.object);
    const before = keep(ev.prev);
    if (ev.type === 'DELETED') return before ? [['DELETED', ev.object]] : [];
    if (now && before) return [['MODIFIED', ev.object]];
    if (now) return [['ADDED', ev.object]];
    if (before) return [['DELETED', ev.object]];
    return [];
  }
  function* texts(events: readonly StoreEvent[]): Generator<string> {
    for (const ev of events) for (const [t, o] of translate(ev)) yield eventText(t, o);
  }
  function* replay(items: readonly StoredObject[], end: string | undefined): Generator<string> {
    for (const o of items) if (keep(o)) yield eventText('ADDED', o);
    if (end !== undefined) yield end;
  }

  // Decide the start before subscribing can deliver anything; all of this runs in one tick, so no change slips
  // between. The start is kept as references (a shared snapshot, held events), rendered as the client reads.
  let start: { texts: Iterator<string>; events: number } | undefined;
  let expiredStatus: unknown;
  const sendInitial =
    opts.sendInitialEvents === true || opts.resourceVersion === undefined || opts.resourceVersion === '0';
  if (sendInitial) {
    const snap = ctx.store.snapshot(info.resource);
    const end = opts.sendInitialEvents === true ? bookmark(snap.rv, true) : undefined;
    // The replay is one source however large: it walks the snapshot and holds no copy of it.
    start = { texts: replay(snap.items, end), events: 1 };
  } else {
    const rv = parseRv(opts.resourceVersion ?? '0');
    const held = rv > ctx.store.currentRv ? 'expired' : ctx.store.eventsSince(rv);
    if (held === 'expired') {
      expiredStatus = expired(`too old resource version: ${rv} (${ctx.store.oldestResumableRv})`).body;
    } else {
      start = { texts: texts(held), events: held.length };
    }
  }

  addWarnings(res, ctx.warnings());
  res.writeHead(200, {
    'Content-Type': 'application/json',
    'Transfer-Encoding': 'chunked',
    'Cache-Control': 'no-cache',
  });
  if (expiredStatus !== undefined) {
    res.end(encode('ERROR', expiredStatus));
    hooks.onEnd();
    return;
  }
  // A watch lasts until its timeout, not until some idle socket timer fires.
  req.socket.setTimeout(0);
  let ended = false;
  const stream = new WatchStream(res, ctx.watchStream ?? defaultWatchStreamOptions, (why) => {
    hooks.onCut(why);
    finish();
  });
  const unsubscribe = ctx.store.subscribe((events) => {
    const mine = events.filter((ev) => ev.object.resource === info.resource);
    if (mine.length > 0 && !ended) stream.enqueue(texts(mine), mine.length);
  });
  const seconds = Math.min(opts.timeoutSeconds ?? 1800 + Math.floor(Math.random() * 1800), maxWatchSeconds);
  const timer = setTimeout(() => finish(), seconds * 1000);
  const bookmarks = opts.allowWatchBookmarks
    ? setInterval(() => {
        if (!ended) stream.enqueue([bookmark(ctx.store.currentRv)].values(), 1);
      }, 60_000)
    : undefined;
  function finish(): void {
    if (ended) return;
    ended = true;
    unsubscribe();
    stream.close();
    clearTimeout(timer);
    if (bookmarks) clearInterval(bookmarks);
    if (!res.destroyed) res.end();
    hooks.onEnd();
  }
  req.on('close', finish);
  res.on('close', finish);
  res.on('error', finish);
  res.flushHeaders();
  if (start) stream.enqueue(start.texts, start.events);
}

export function assertNotWrite(info: ResourceRequest, def: ResourceDefinition): void {
  if (!['get', 'list', 'watch'].includes(info.verb)) {
    throw new StatusError({
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: `${info.verb} is not supported on resources of kind "${def.name}.${group}": fedmesh's federation API is read-only`,
      reason: 'MethodNotAllowed',
      code: 405,
    });
  }
}
