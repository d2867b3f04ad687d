import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { encodeContinue } from './continue-token.js';
import { parseListOptions } from './list-options.js';
import { type ListPage, listPage, SnapshotKeeper } from './paged-list.js';
import { newRvOrigin } from './resource-version.js';
import { type ServedObject, ServedStore, type StoredObject } from './served-store.js';
import { StatusError } from './status.js';

function rwl(namespace: string, name: string, ip = '10.0.0.1'): ServedObject {
  return {
    resource: 'remoteworkloads',
    key: `${namespace}/${name}`,
    namespace,
    name,
    labels: {},
    fields: { 'metadata.name': name, 'metadata.namespace': namespace },
    object: { kind: 'RemoteWorkload', metadata: { name, namespace }, spec: { ip } },
    cells: [name],
  };
}

/** A replica: its own store (own resourceVersions) with the objects every replica renders alike. */
function replica(objects: readonly ServedObject[]): { store: ServedStore; snapshots: SnapshotKeeper } {
  const store = new ServedStore(1000, newRvOrigin());
  store.apply(objects.map((object) => ({ type: 'upsert' as const, object })));
  return { store, snapshots: new SnapshotKeeper() };
}

const fields = ['metadata.name', 'metadata.namespace'];
const shop = Array.from({ length: 30 }, (_, i) => rwl('shop', `west.p${String(i).padStart(2, '0')}`));
const blue = Array.from({ length: 5 }, (_, i) => rwl('blue', `west.b${i}`));

function page(
  r: { store: ServedStore; snapshots: SnapshotKeeper },
  query: string,
  namespace: string | undefined = 'shop',
): Promise<ListPage> {
  const opts = parseListOptions(new URLSearchParams(query), fields);
  return listPage(r.store, r.snapshots, {
    resource: 'remoteworkloads',
    namespace,
    opts,
    matches: (o: StoredObject) => namespace === undefined || o.namespace === namespace,
  });
}

async function statusOf(p: Promise<unknown>): Promise<StatusError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof StatusError) return err;
    throw err;
  }
  throw new Error('no error');
}

/** Follows continue tokens as kubectl does, sending page n to replicas[n % replicas.length]. */
async function pagedList(replicas: { store: ServedStore; snapshots: SnapshotKeeper }[], limit: number) {
  const names: string[] = [];
  const versions = new Set<string>();
  let cont = '';
  let n = 0;
  do {
    const r = replicas[n % replicas.length];
    if (!r) throw new Error('no replica');
    const p = await page(r, `limit=${limit}${cont ? `&continue=${cont}` : ''}`);
    names.push(...p.items.map((o) => o.name));
    versions.add(p.metadata.resourceVersion);
    cont = p.metadata.continue ?? '';
    n++;
  } while (cont);
  return { names, versions, pages: n };
}

test('pages alternating between two replicas return each object exactly once, at the first page version', async () => {
  const a = replica([...shop, ...blue]);
  const b = replica([...blue, ...shop]);
  const { names, versions, pages } = await pagedList([a, b], 7);
  assert.equal(pages, 5);
  assert.deepEqual(
    names,
    shop.map((o) => o.name),
  );
  assert.deepEqual([...versions], [a.store.currentRv.toString()], "b serves a's snapshot, being the same");
});

test("a snapshot this replica no longer keeps: the same rest continues as that snapshot's", async () => {
  const a = replica(shop);
  const first = await page(a, 'limit=10');
  a.snapshots = new SnapshotKeeper(); // kept no longer (ttl, or the keeper's bound)
  a.store.apply([{ type: 'upsert', object: rwl('blue', 'west.b9') }]); // a change outside this list
  const second = await page(a, `limit=10&continue=${first.metadata.continue}`);
  assert.equal(second.metadata.resourceVersion, first.metadata.resourceVersion);
  assert.deepEqual(
    second.items.map((o) => o.name),
    shop.slice(10, 20).map((o) => o.name),
  );
});

test("a rest that changed: kube-apiserver's 410 with a token that continues, inconsistently, at the latest state", async () => {
  const a = replica(shop);
  const b = replica([...shop, rwl('shop', 'west.p99')]);
  const first = await page(a, 'limit=10');
  const err = await statusOf(page(b, `limit=10&continue=${first.metadata.continue}`));
  assert.equal(err.code, 410);
  assert.equal(err.body.reason, 'Expired');
  assert.match(err.body.message, /use the continue token in this response to retrieve the remainder/);
  const latest = err.body.metadata.continue;
  assert.ok(latest, 'the Status carries a token to continue with');
  const names: string[] = [];
  let cont = latest;
  while (cont) {
    const p = await page(b, `limit=10&continue=${cont}`);
    assert.equal(p.metadata.resourceVersion, b.store.currentRv.toString());
    names.push(...p.items.map((o) => o.name));
    cont = p.metadata.continue ?? '';
  }
  assert.deepEqual(names, [...shop.slice(10).map((o) => o.name), 'west.p99']);
  // Within one replica, a kept snapshot is served as it was, changes after it notwithstanding.
  const kept = await page(b, 'limit=10');
  b.store.apply([{ type: 'delete', resource: 'remoteworkloads', key: 'shop/west.p15' }]);
  const next = await page(b, `limit=10&continue=${kept.metadata.continue}`);
  assert.ok(next.items.some((o) => o.name === 'west.p15'));
});

test('a continue token with a resourceVersion is 400, in kube-apiserver words', async () => {
  const a = replica(shop);
  const first = await page(a, 'limit=10');
  const err = await statusOf(page(a, `limit=10&resourceVersion=5&continue=${first.metadata.continue}`));
  assert.equal(err.code, 400);
  assert.equal(err.message, 'specifying resource version is not allowed when using continue');
});

const b64 = (v: unknown) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url');

test('tampered, garbage and oversized continue tokens: a clean 400 naming the problem', async () => {
  const a = replica([...shop, ...blue]);
  const good = (await page(a, 'limit=10')).metadata.continue ?? '';
  const decoded = JSON.parse(Buffer.from(good, 'base64url').toString()) as Record<string, unknown>;
  const cases: [string, string, RegExp][] = [
    ['garbage', 'garbage!', /not one this server issued/],
    ['not JSON', b64('{"v":2,'), /not one this server issued/],
    ['JSON null', b64(null), /not one this server issued/],
    ['JSON array', b64([1, 2]), /not one this server issued/],
    ['an old token', b64({ v: 1, rv: '5', k: 'shop/x' }), /not one this server issued/],
    ['rv not a number', b64({ ...decoded, rv: '12abc' }), /not one this server issued/],
    ['rv huge', b64({ ...decoded, rv: '9'.repeat(500) }), /longer than any token|not one this server issued/],
    ['digest missing', b64({ ...decoded, d: undefined }), /not one this server issued/],
    ['empty key', b64({ ...decoded, k: '' }), /not one this server issued/],
    ['another resource', b64({ ...decoded, r: 'remotenodes' }), /a list of remotenodes, not of remoteworkloads/],
    ['another namespace', b64({ ...decoded, k: 'blue/west.b0' }), /another namespace than "shop"/],
    ['oversized', 'A'.repeat(200_000), /longer than any token this server issues/],
  ];
  for (const [what, token, message] of cases) {
    const err = await statusOf(page(a, `limit=10&continue=${token}`));
    assert.equal(err.code, 400, what);
    assert.equal(err.body.reason, 'BadRequest', what);
    assert.match(err.message, message, what);
  }
});

test('fuzzed continue tokens never crash and never return another namespace', async () => {
  const a = replica([...shop, ...blue]);
  const good = JSON.parse(
    Buffer.from((await page(a, 'limit=10')).metadata.continue ?? '', 'base64url').toString(),
  ) as Record<string, unknown>;
  const token = fc.oneof(
    fc.string({ maxLength: 300 }),
    fc.base64String({ maxLength: 400 }).map((s) => s.replaceAll('+', '-').replaceAll('/', '_').replaceAll('=', '')),
    fc.jsonValue().map(b64),
    fc
      .record({
        v: fc.oneof(fc.constant(2), fc.jsonValue()),
        r: fc.constantFrom('remoteworkloads', 'remotenodes', 'x'),
        rv: fc.oneof(fc.constant(String(good.rv)), fc.constant('latest'), fc.stringMatching(/^\d{1,45}$/), fc.string()),
        k: fc.oneof(fc.constantFrom('shop/', 'shop/west.p05', 'blue/west.b1', 'shop/\u0000', 'zzz'), fc.string()),
        d: fc.oneof(fc.constant(String(good.d)), fc.base64String({ maxLength: 44 }), fc.jsonValue()),
      })
      .map(b64),
  );
  await fc.assert(
    fc.asyncProperty(token, async (t) => {
      try {
        const p = await page(a, `limit=10&continue=${encodeURIComponent(t)}`);
        for (const o of p.items) assert.equal(o.namespace, 'shop');
      } catch (err) {
        assert.ok(err instanceof StatusError, String(err));
        assert.ok([400, 410].includes(err.code), `${err.code} ${err.message}`);
      }
    }),
    { numRuns: 500 },
  );
});

test('a latest token continues only in its own namespace', async () => {
  const a = replica([...shop, ...blue]);
  const t = encodeContinue({ resource: 'remoteworkloads', rv: 'latest', lastKey: 'shop/west.p25' });
  const p = await page(a, `continue=${t}`);
  assert.deepEqual(
    p.items.map((o) => o.name),
    ['west.p26', 'west.p27', 'west.p28', 'west.p29'],
  );
  const err = await statusOf(page(a, `continue=${t}`, 'blue'));
  assert.equal(err.code, 400);
});

test('alternating replicas with a selection, and a client that changes its page size midway', async () => {
  const labelled = (o: ServedObject, i: number): ServedObject => ({ ...o, labels: { even: String(i % 2 === 0) } });
  const objects = [...shop.map(labelled), ...blue];
  const a = replica(objects);
  const b = replica([...objects].reverse());
  const select = (r: typeof a, query: string) => {
    const opts = parseListOptions(new URLSearchParams(query), fields);
    return listPage(r.store, r.snapshots, {
      resource: 'remoteworkloads',
      namespace: 'shop',
      opts,
      matches: (o) => o.namespace === 'shop' && opts.labelMatches(o.labels),
    });
  };
  const names: string[] = [];
  let cont = '';
  let n = 0;
  do {
    const limit = n < 2 ? 4 : 3;
    const p = await select(
      n % 2 === 0 ? a : b,
      `labelSelector=even%3Dtrue&limit=${limit}${cont ? `&continue=${cont}` : ''}`,
    );
    names.push(...p.items.map((o) => o.name));
    cont = p.metadata.continue ?? '';
    n++;
  } while (cont);
  assert.deepEqual(
    names,
    shop.filter((_, i) => i % 2 === 0).map((o) => o.name),
  );
});
