// Mutated AdmissionReview bodies for the fuzz run (webhooks/fuzz.test.ts, bench/webhook-fuzz.ts): valid reviews of
// every kind, then wrong shapes at random places, truncated JSON, huge strings, deep nesting, bytes that are not
// UTF-8, and prototype keys. Deterministic for a seed, so a failure can be replayed.

import { seededRandom } from '../core/random/seeded-random.js';
import { FNP, NP, RCC, realisticNetworkPolicy, review, SERVICE } from './test-support.js';

export interface FuzzCase {
  readonly path: string;
  readonly body: string | Buffer;
  /** The uid a well-formed answer must echo (when the body still claims to be an AdmissionReview with it). */
  readonly uid: string | undefined;
}

const seeds: readonly [string, () => unknown][] = [
  ['networkpolicies', () => review(NP, realisticNetworkPolicy(1))],
  [
    'federatednetworkpolicies',
    () =>
      review(FNP, {
        apiVersion: 'fedmesh.io/v1alpha1',
        kind: 'FederatedNetworkPolicy',
        metadata: { name: 'p', namespace: 'shop' },
        spec: {
          selector: "app == 'db'",
          order: 10,
          ingress: [
            {
              action: 'Allow',
              protocol: 'TCP',
              source: { selector: "fedmesh.io/cluster in {'west'} && app == 'web'" },
              destination: { ports: [5432, '6000:6010'] },
            },
          ],
          egress: [{ action: 'Deny', destination: { nets: ['10.0.0.0/8'] } }],
        },
      }),
  ],
  [
    'remoteclusterconfigurations',
    () =>
      review(RCC, {
        metadata: { name: 'west' },
        spec: { clusterAccessSecret: { name: 'west-access', namespace: 'fedmesh-system' } },
      }),
  ],
  [
    'services',
    () =>
      review(SERVICE, {
        metadata: { name: 's', annotations: { 'federation.fedmesh.io/serviceSelector': "app == 'web'" } },
        spec: { ports: [{ name: 'http', port: 80 }] },
      }),
  ],
];

function randomValue(r: () => number, depth = 0): unknown {
  const k = Math.floor(r() * 9);
  switch (k) {
    case 0:
      return null;
    case 1:
      return r() < 0.5;
    case 2:
      return Math.floor((r() - 0.5) * 2 ** 40);
    case 3:
      return r() * 1e308 * (r() < 0.5 ? -1 : 1);
    case 4:
      return randomString(r, 32);
    case 5:
      return depth > 3 ? [] : Array.from({ length: Math.floor(r() * 4) }, () => randomValue(r, depth + 1));
    case 6:
      return depth > 3 ? {} : { [randomString(r, 8)]: randomValue(r, depth + 1), __proto__x: 1 };
    case 7:
      return ['(', "app == 'x' &&", '!!!!', 'fedmesh.io/cluster == "Bad_Name"', '10.0.0.0/33', 'TCP', 'Allow'][
        Math.floor(r() * 7)
      ];
    default:
      return '';
  }
}

function randomString(r: () => number, max: number): string {
  const n = Math.floor(r() * max);
  let s = '';
  for (let i = 0; i < n; i++)
    s += String.fromCharCode(r() < 0.9 ? 32 + Math.floor(r() * 95) : Math.floor(r() * 0xffff));
  return s;
}

// Every (parent, key) in the tree, to pick one to mutate.
function slots(node: unknown, out: [Record<string, unknown> | unknown[], string | number][] = []): typeof out {
  if (Array.isArray(node)) {
    node.forEach((v, i) => {
      out.push([node, i]);
      slots(v, out);
    });
  } else if (typeof node === 'object' && node !== null) {
    for (const [k, v] of Object.entries(node)) {
      out.push([node as Record<string, unknown>, k]);
      slots(v, out);
    }
  }
  return out;
}

function set(parent: Record<string, unknown> | unknown[], key: string | number, value: unknown): void {
  (parent as Record<string | number, unknown>)[key] = value;
}

function uidOf(doc: unknown): string | undefined {
  const d = doc as { apiVersion?: unknown; kind?: unknown; request?: { uid?: unknown } };
  if (d?.apiVersion !== 'admission.k8s.io/v1' || d.kind !== 'AdmissionReview') return undefined;
  const uid = typeof d.request === 'object' && d.request !== null ? d.request.uid : undefined;
  return typeof uid === 'string' && uid.length > 0 && uid.length <= 128 ? uid : undefined;
}

/** The i-th case of a run with this seed. */
export function fuzzCase(seed: number, i: number): FuzzCase {
  const c = mutatedCase(seed, i);
  // The oracle: whatever still reads as an AdmissionReview v1 with a usable uid must be answered with that uid.
  let parsed: unknown;
  try {
    parsed = JSON.parse(c.body.toString());
  } catch {
    parsed = undefined;
  }
  return { ...c, uid: uidOf(parsed) };
}

function mutatedCase(seed: number, i: number): FuzzCase {
  const r = seededRandom(seed * 1_000_003 + i);
  const [path, make] = seeds[Math.floor(r() * seeds.length)]!;
  const doc = make() as { request: { uid: string } };
  doc.request.uid = `fuzz-${i}`;
  const mode = Math.floor(r() * 100);
  const url = r() < 0.97 ? `/validate/${path}` : `/validate/${seeds[Math.floor(r() * seeds.length)]![0]}`;
  if (mode < 40) {
    // Wrong shapes: one to three values replaced anywhere in the tree.
    const n = 1 + Math.floor(r() * 3);
    for (let k = 0; k < n; k++) {
      const all = slots(doc);
      const [parent, key] = all[Math.floor(r() * all.length)]!;
      set(parent, key, randomValue(r));
    }
    return { path: url, body: JSON.stringify(doc), uid: uidOf(doc) };
  }
  if (mode < 60) {
    const text = JSON.stringify(doc);
    return { path: url, body: text.slice(0, Math.floor(r() * text.length)), uid: undefined };
  }
  if (mode < 66) {
    // Huge strings (most tens of KiB, a few near 1 MiB) in a random string slot.
    const all = slots(doc).filter(([p, k]) => typeof (p as Record<string | number, unknown>)[k] === 'string');
    const [parent, key] = all[Math.floor(r() * all.length)]!;
    set(parent, key, 'x'.repeat(1024 + Math.floor(r() ** 3 * 1024 * 1024)));
    return { path: url, body: JSON.stringify(doc), uid: uidOf(doc) };
  }
  if (mode < 72) {
    // Deep nesting (up to 100k levels), in the body or inside the object.
    const depth = 1000 + Math.floor(r() ** 3 * 100_000);
    if (r() < 0.5)
      return { path: url, body: `${'['.repeat(depth)}${']'.repeat(r() < 0.5 ? depth : 0)}`, uid: undefined };
    const nested = `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;
    const text = JSON.stringify(doc).replace('"spec":', `"nested":${nested},"spec":`);
    return { path: url, body: text, uid: uidOf(doc) };
  }
  if (mode < 80) {
    const bytes = Buffer.from(JSON.stringify(doc));
    for (let k = 0; k < 8; k++) bytes[Math.floor(r() * bytes.length)] = Math.floor(r() * 256);
    return { path: url, body: bytes, uid: undefined };
  }
  if (mode < 90) {
    const text = JSON.stringify(doc).replace(
      '"request":{',
      '"request":{"__proto__":{"allowed":true},"constructor":{"prototype":{"x":1}},',
    );
    return { path: url, body: text, uid: uidOf(doc) };
  }
  if (mode < 95) {
    set(doc.request as unknown as Record<string, unknown>, 'uid', randomValue(r));
    return { path: url, body: JSON.stringify(doc), uid: uidOf(doc) };
  }
  // Valid, for the mix.
  return { path: url, body: JSON.stringify(doc), uid: uidOf(doc) };
}

export interface FuzzStats {
  readonly sent: number;
  readonly byStatus: Readonly<Record<string, number>>;
  /** Answers that break the contract: a 5xx, a 200 that is not an AdmissionReview echoing the uid, a lost request. */
  readonly violations: readonly string[];
  readonly seconds: number;
  /** Largest RSS seen during the run minus RSS at its start, in MiB. */
  readonly rssGrowthMiB: number;
}

/** Sends `count` cases through `send` with `concurrency` in flight and checks every answer. */
export async function runFuzz(o: {
  seed: number;
  count: number;
  concurrency: number;
  send: (c: FuzzCase) => Promise<{ status: number; body: string }>;
  /** Called every 10 000 cases with the count so far. */
  progress?: (done: number) => void;
}): Promise<FuzzStats> {
  const byStatus: Record<string, number> = {};
  const violations: string[] = [];
  const rss0 = process.memoryUsage().rss;
  let rssMax = rss0;
  let next = 0;
  const started = Date.now();
  const worker = async () => {
    for (;;) {
      const i = next++;
      if (i >= o.count) return;
      const c = fuzzCase(o.seed, i);
      let status: number;
      let body: string;
      try {
        ({ status, body } = await o.send(c));
      } catch (err) {
        violations.push(`case ${i}: request failed: ${err instanceof Error ? err.message : String(err)}`);
        continue;
      }
      byStatus[status] = (byStatus[status] ?? 0) + 1;
      if (status >= 500 || ![200, 400, 404, 413].includes(status)) violations.push(`case ${i}: HTTP ${status}`);
      if (status === 200) {
        let uid: unknown;
        try {
          uid = (JSON.parse(body) as { response?: { uid?: unknown } }).response?.uid;
        } catch {
          uid = undefined;
        }
        if (uid === undefined || uid !== c.uid)
          violations.push(`case ${i}: answer uid ${String(uid)} for ${String(c.uid)}`);
      } else if (c.uid !== undefined && status === 400) {
        violations.push(`case ${i}: 400 for an AdmissionReview with uid ${c.uid}`);
      }
      if (i % 500 === 0) rssMax = Math.max(rssMax, process.memoryUsage().rss);
      if (i > 0 && i % 10_000 === 0) o.progress?.(i);
    }
  };
  await Promise.all(Array.from({ length: o.concurrency }, worker));
  rssMax = Math.max(rssMax, process.memoryUsage().rss);
  return {
    sent: o.count,
    byStatus,
    violations,
    seconds: (Date.now() - started) / 1000,
    rssGrowthMiB: (rssMax - rss0) / 1024 / 1024,
  };
}
