// The nftables content fedmesh wants, as plain data: named sets and verdict maps (which hold everything that
// changes per endpoint), and chains (which change only when a policy does). Elements are kept in nft's own text
// form, so that rendering is joining strings and read-back is parsing into the same strings.

export const tableFamily = 'inet';
export const tableName = 'fedmesh';
export const table = `${tableFamily} ${tableName}`;

/** Told each element that comes into (add) or leaves (remove) a set, as it happens (element-stream.ts). */
export interface ElementSink {
  add(element: string): void;
  remove(element: string): void;
}

/** A set's elements in nft's text form: a Set, or a structure that builds the text when it is enumerated. */
export interface NftElements extends Iterable<string> {
  readonly size: number;
}

export interface NftSet {
  /** The declaration body, e.g. `type ipv4_addr;` or `type ipv4_addr; flags interval; auto-merge;`. */
  readonly declaration: string;
  readonly elements: NftElements;
}

export interface NftMap {
  /** e.g. `type ipv4_addr : verdict;`. */
  readonly declaration: string;
  /** key -> verdict, e.g. `10.0.0.1` -> `jump prof-ab12`. */
  readonly elements: Map<string, string>;
}

export interface NftChain {
  /** For base chains: `type filter hook forward priority filter; policy accept;`. */
  readonly hook?: string;
  readonly rules: readonly string[];
}

export interface NftState {
  readonly sets: Map<string, NftSet>;
  readonly maps: Map<string, NftMap>;
  readonly chains: Map<string, NftChain>;
}

export function emptyState(): NftState {
  return { sets: new Map(), maps: new Map(), chains: new Map() };
}

/** What changed in a desired state since the last flush, by name; elements at the level of single elements. */
export interface NftChanges {
  /** Sets created, deleted (absent from the desired state) or with elements changed. */
  readonly sets: Map<string, { readonly added: Set<string>; readonly removed: Set<string> }>;
  /** Maps whose listed keys changed (set or removed: read the desired map). */
  readonly maps: Map<string, Set<string>>;
  /** Chains to rewrite (or delete, when absent from the desired state). */
  readonly chains: Set<string>;
}

export function emptyChanges(): NftChanges {
  return { sets: new Map(), maps: new Map(), chains: new Set() };
}

export function hasChanges(c: NftChanges): boolean {
  return c.sets.size > 0 || c.maps.size > 0 || c.chains.size > 0;
}
