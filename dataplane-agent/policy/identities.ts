// Endpoints grouped by their labels as selectors see them: an identity. A selector's result depends only on the
// labels it reads, so endpoints that agree on every key some selector reads are matched by the same selectors, and
// the selector index files one item per identity instead of one per endpoint. Pods of a Deployment share their
// labels but for the few no policy reads (pod-template-hash, a version), so 100k remote pods make a few thousand
// identities: filing each endpoint in the index was most of a node's start.
// Identities are found by walking a tree of maps, one level per read key, keyed by the label's value (undefined:
// absent): the values are the endpoint's own strings, whose hashes the engine keeps, so a lookup builds no string.
// The keys only grow: a selector reading a new key splits identities (the caller regroups), one going away does
// not merge them back (groups finer than needed cost a little time, never a wrong answer).

/** What an identity holds: each member knows its place in the member list, so that leaving costs no search. */
export interface Member {
  at: number;
}

export interface Identity<S, M extends Member> {
  /** The label values, one per read key at the time it was made (undefined: absent). */
  readonly values: readonly (string | undefined)[];
  /** The same as a label map (absent keys left out): what the index holds. */
  readonly labels: Readonly<Record<string, string>>;
  readonly members: M[];
  /** Keys of the members on this node: policies matching the identity decide their profiles. */
  readonly here: Set<string>;
  /** The selectors matching it now, kept from the index's deltas (the index would walk its candidates). */
  readonly selectors: Set<S>;
}

type Level<S, M extends Member> = Map<string | undefined, Level<S, M> | Identity<S, M>>;

export class Identities<S, M extends Member> {
  private readonly keys: string[] = [];
  private readonly keySet = new Set<string>();
  private root: Level<S, M> = new Map();
  private count = 0;

  get size(): number {
    return this.count;
  }

  /** The keys read so far, in the order they came. */
  get readKeys(): readonly string[] {
    return this.keys;
  }

  /**
   * Adds label keys some selector reads; true when one is new. Every identity is then forgotten (they do not tell
   * the new keys apart): the caller moves every member to a new one.
   */
  addKeys(keys: Iterable<string>): boolean {
    let added = false;
    for (const k of keys) {
      if (this.keySet.has(k)) continue;
      this.keySet.add(k);
      this.keys.push(k);
      added = true;
    }
    if (added) {
      this.root = new Map();
      this.count = 0;
    }
    return added;
  }

  /**
   * The identity of the endpoint whose label under a key is `label(key)`; `made` is called with a new one (the
   * caller files it in the index).
   */
  find(label: (key: string) => string | undefined, made: (identity: Identity<S, M>) => void): Identity<S, M> {
    const keys = this.keys;
    let level = this.root;
    for (let i = 0; i < keys.length - 1; i++) {
      const v = label(keys[i]!);
      let next = level.get(v) as Level<S, M> | undefined;
      if (!next) {
        next = new Map();
        level.set(v, next);
      }
      level = next;
    }
    const last = keys.length === 0 ? undefined : label(keys[keys.length - 1]!);
    const known = level.get(last) as Identity<S, M> | undefined;
    if (known) return known;
    const values = keys.map(label);
    const labels: Record<string, string> = {};
    keys.forEach((k, i) => {
      const v = values[i];
      if (v !== undefined) labels[k] = v;
    });
    const identity: Identity<S, M> = { values, labels, members: [], here: new Set(), selectors: new Set() };
    level.set(last, identity);
    this.count++;
    made(identity);
    return identity;
  }

  join(identity: Identity<S, M>, member: M): void {
    member.at = identity.members.length;
    identity.members.push(member);
  }

  /** Takes a member out; true when the identity is left empty and forgotten (the caller takes it out of the index). */
  leave(identity: Identity<S, M>, member: M): boolean {
    const members = identity.members;
    const last = members.pop()!;
    if (last !== member) {
      members[member.at] = last;
      last.at = member.at;
    }
    if (members.length > 0) return false;
    this.forget(identity);
    return true;
  }

  /** Removes an identity from the tree (if it is still there: addKeys drops the whole tree). */
  private forget(identity: Identity<S, M>): void {
    const path: Level<S, M>[] = [];
    let level = this.root;
    const { values } = identity;
    if (values.length !== this.keys.length) return;
    for (let i = 0; i < values.length - 1; i++) {
      const next = level.get(values[i]) as Level<S, M> | undefined;
      if (!next) return;
      path.push(level);
      level = next;
    }
    const last = values.length === 0 ? undefined : values[values.length - 1];
    if (level.get(last) !== identity) return;
    level.delete(last);
    this.count--;
    // Empty levels go too, from the bottom up.
    for (let i = path.length - 1; i >= 0 && level.size === 0; i--) {
      path[i]!.delete(values[i]);
      level = path[i]!;
    }
  }
}
