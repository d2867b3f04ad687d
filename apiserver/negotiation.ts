/**
 * Content negotiation (NEG-01): the ordered Accept list with media-type parameters. We serve JSON, YAML, Table
 * (meta.k8s.io v1 and v1beta1) and aggregated discovery v2; protobuf and CBOR are not offered, so clients that
 * list JSON as a fallback get JSON.
 */

export interface MediaRange {
  readonly type: string; // e.g. application/json, */*
  readonly params: Readonly<Record<string, string>>;
  readonly q: number;
}

export function parseAccept(header: string | undefined): MediaRange[] {
  if (!header || header.trim() === '') return [{ type: '*/*', params: {}, q: 1 }];
  const out: MediaRange[] = [];
  for (const part of header.split(',')) {
    const [typeRaw, ...paramsRaw] = part.split(';');
    const type = (typeRaw ?? '').trim().toLowerCase();
    if (type === '') continue;
    const params: Record<string, string> = {};
    let q = 1;
    for (const p of paramsRaw) {
      const eq = p.indexOf('=');
      if (eq < 0) continue;
      const k = p.slice(0, eq).trim().toLowerCase();
      const v = p
        .slice(eq + 1)
        .trim()
        .replace(/^"|"$/g, '');
      if (k === 'q') q = Number(v);
      else params[k] = v;
    }
    out.push({ type, params, q: Number.isFinite(q) ? q : 0 });
  }
  // Stable sort by q: equal weights keep the client's order, which is its preference.
  return out
    .map((m, i) => ({ m, i }))
    .sort((a, b) => b.m.q - a.m.q || a.i - b.i)
    .map(({ m }) => m);
}

export type ObjectFormat =
  | { readonly kind: 'json' }
  | { readonly kind: 'yaml' }
  | { readonly kind: 'table'; readonly version: 'v1' | 'v1beta1' };

const isJson = (t: string) => t === 'application/json' || t === 'application/*' || t === '*/*';

/** The format for an object or list response, or undefined when nothing acceptable can be produced (406). */
export function chooseObjectFormat(ranges: readonly MediaRange[]): ObjectFormat | undefined {
  for (const r of ranges) {
    if (r.q <= 0) continue;
    const as = r.params.as;
    if (as === undefined) {
      if (isJson(r.type)) return { kind: 'json' };
      if (r.type === 'application/yaml') return { kind: 'yaml' };
      continue;
    }
    if (r.type !== 'application/json') continue;
    if (as === 'Table' && (r.params.g ?? '') === 'meta.k8s.io' && (r.params.v === 'v1' || r.params.v === 'v1beta1')) {
      return { kind: 'table', version: r.params.v };
    }
    // PartialObjectMetadata(List) and other transformations are not offered: the client's next choice applies.
  }
  return undefined;
}

export type DiscoveryFormat = 'aggregated-v2' | 'legacy';

/** For `/apis`: aggregated discovery v2 when asked (exact g/v/as), legacy APIGroupList for plain JSON. */
export function chooseDiscoveryFormat(ranges: readonly MediaRange[]): DiscoveryFormat | undefined {
  for (const r of ranges) {
    if (r.q <= 0) continue;
    if (r.params.as !== undefined) {
      if (
        r.type === 'application/json' &&
        r.params.as === 'APIGroupDiscoveryList' &&
        r.params.g === 'apidiscovery.k8s.io' &&
        r.params.v === 'v2'
      ) {
        return 'aggregated-v2';
      }
      continue;
    }
    if (isJson(r.type)) return 'legacy';
  }
  return undefined;
}
