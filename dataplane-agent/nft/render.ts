// nft text transactions, rendered from the desired state (pure). Two kinds:
//  - full: after a start or a failure. It declares, flushes and refills everything of fedmesh's and deletes what
//    the kernel holds (a terse read-back: names, no elements) and is no longer wanted, in one transaction: packets
//    see the old ruleset or the new one, never a gap (a restart opens no window).
//  - delta: the changes of one flush, element by element; chains are rewritten only when their rules changed.
// Order inside a transaction: declarations (chains empty at first), set elements, map elements (they jump to
// chains), chain rules (they reference sets and maps), then deletions of chains and last of sets.

import { declaredChainShape, declaredShape } from './object-shapes.js';
import { type NftChanges, type NftState, table } from './state.js';

/** What fedmesh's table holds in the kernel, as far as a delta needs to know. */
export interface Programmed {
  /** Set name -> declaration. */
  readonly sets: Map<string, string>;
  /** Map name -> its elements as programmed (maps hold only this node's endpoints: small). */
  readonly maps: Map<string, Map<string, string>>;
  readonly chains: Set<string>;
}

/** The table as read back tersely: which objects exist. */
export interface Existing {
  readonly table: boolean;
  readonly sets: ReadonlySet<string>;
  readonly maps: ReadonlySet<string>;
  readonly chains: ReadonlySet<string>;
  /** `set <name>`, `map <name>`, `chain <name>` -> its shape (object-shapes.ts), where it was read. */
  readonly shapes?: ReadonlyMap<string, string>;
}

export function emptyProgrammed(): Programmed {
  return { sets: new Map(), maps: new Map(), chains: new Set() };
}

const chunk = 4096;

function elementLines(kind: 'add' | 'delete', name: string, elements: Iterable<string>): string[] {
  const out: string[] = [];
  let batch: string[] = [];
  for (const el of elements) {
    batch.push(el);
    if (batch.length === chunk) {
      out.push(`${kind} element ${table} ${name} { ${batch.join(', ')} }`);
      batch = [];
    }
  }
  if (batch.length > 0) out.push(`${kind} element ${table} ${name} { ${batch.join(', ')} }`);
  return out;
}

function chainDecl(name: string, hook: string | undefined): string {
  return hook ? `add chain ${table} ${name} { ${hook} }` : `add chain ${table} ${name}`;
}

/** Rules of a chain; the caller has flushed or just created it. */
function ruleLines(name: string, rules: readonly string[]): string[] {
  return rules.map((r) => `add rule ${table} ${name} ${r}`);
}

/**
 * Replaces fedmesh's table content with `desired` in one transaction. Sets, maps and chains are reused by name
 * (a set's type never changes under one name here: names are hashes of what they hold), flushed and refilled.
 * Every object written is declared (`add` takes an existing one as it is) and flushed whatever the read-back said:
 * one created since then (by a delta that committed late) is emptied too, never appended to. One of the right name
 * and the wrong shape (object-shapes.ts) is deleted and made anew. The read-back otherwise only says what to delete.
 */
export function renderFull(desired: NftState, existing: Existing): { text: string; programmed: Programmed } {
  const lines: string[] = [`add table ${table}`];
  const programmed = emptyProgrammed();
  // Every chain is flushed first: no rule then references a set, map or chain that goes away or is remade.
  for (const name of existing.chains) lines.push(`flush chain ${table} ${name}`);
  const reshaped = reshapedObjects(desired, existing);
  if (reshaped.length > 0) {
    // Verdict map elements jump to chains: emptied before a chain is remade.
    for (const name of existing.maps) lines.push(`flush map ${table} ${name}`);
    lines.push(...reshaped);
  }
  for (const [name, chain] of desired.chains) lines.push(chainDecl(name, chain.hook), `flush chain ${table} ${name}`);
  for (const [name, set] of desired.sets) {
    lines.push(`add set ${table} ${name} { ${set.declaration} }`, `flush set ${table} ${name}`);
    lines.push(...elementLines('add', name, set.elements));
    programmed.sets.set(name, set.declaration);
  }
  for (const [name, map] of desired.maps) {
    lines.push(`add map ${table} ${name} { ${map.declaration} }`, `flush map ${table} ${name}`);
    lines.push(
      ...elementLines(
        'add',
        name,
        [...map.elements].map(([k, v]) => `${k} : ${v}`),
      ),
    );
    programmed.maps.set(name, new Map(map.elements));
  }
  for (const [name, chain] of desired.chains) {
    lines.push(...ruleLines(name, chain.rules));
    programmed.chains.add(name);
  }
  for (const name of existing.chains) if (!desired.chains.has(name)) lines.push(`delete chain ${table} ${name}`);
  for (const name of existing.maps) if (!desired.maps.has(name)) lines.push(`delete map ${table} ${name}`);
  for (const name of existing.sets) if (!desired.sets.has(name)) lines.push(`delete set ${table} ${name}`);
  return { text: `${lines.join('\n')}\n`, programmed };
}

/** Deletions of the existing objects that are wanted under their name but have another shape. */
function reshapedObjects(desired: NftState, existing: Existing): string[] {
  const shapes = existing.shapes;
  if (!shapes) return [];
  const out: string[] = [];
  const differs = (key: string, want: string) => {
    const have = shapes.get(key);
    return have !== undefined && have !== want;
  };
  for (const [name, chain] of desired.chains) {
    if (differs(`chain ${name}`, declaredChainShape(chain.hook))) out.push(`delete chain ${table} ${name}`);
  }
  for (const [name, map] of desired.maps) {
    if (differs(`map ${name}`, declaredShape(map.declaration))) out.push(`delete map ${table} ${name}`);
  }
  for (const [name, set] of desired.sets) {
    if (differs(`set ${name}`, declaredShape(set.declaration))) out.push(`delete set ${table} ${name}`);
  }
  return out;
}

/**
 * The transaction for one flush's changes (as text, and as its single-line commands), and the programmed state
 * after it commits (applied by the caller only when nft succeeded). Returns an empty text when nothing needs the
 * kernel.
 */
export function renderDelta(
  desired: NftState,
  changes: NftChanges,
  programmed: Programmed,
): { text: string; lines: readonly string[]; commit: () => void } {
  const decl: string[] = [];
  const elements: string[] = [];
  const rules: string[] = [];
  const mapLines: string[] = [];
  const deletions: string[] = [];
  const commits: (() => void)[] = [];

  for (const [name, delta] of changes.sets) {
    const want = desired.sets.get(name);
    const have = programmed.sets.get(name);
    if (want && have === undefined) {
      decl.push(`add set ${table} ${name} { ${want.declaration} }`);
      elements.push(...elementLines('add', name, want.elements));
      commits.push(() => programmed.sets.set(name, want.declaration));
    } else if (want) {
      elements.push(...elementLines('delete', name, delta.removed), ...elementLines('add', name, delta.added));
    } else if (have !== undefined) {
      deletions.push(`delete set ${table} ${name}`);
      commits.push(() => programmed.sets.delete(name));
    }
  }
  const removedChains: string[] = [];
  for (const name of changes.chains) {
    const want = desired.chains.get(name);
    const have = programmed.chains.has(name);
    if (want) {
      decl.push(have ? `flush chain ${table} ${name}` : chainDecl(name, want.hook));
      rules.push(...ruleLines(name, want.rules));
      if (!have) commits.push(() => programmed.chains.add(name));
    } else if (have) {
      removedChains.push(`flush chain ${table} ${name}`, `delete chain ${table} ${name}`);
      commits.push(() => programmed.chains.delete(name));
    }
  }
  for (const [name, keys] of changes.maps) {
    const want = desired.maps.get(name);
    const have = programmed.maps.get(name);
    if (!want || !have) continue; // the verdict maps are fixed: created by the full sync
    const del: string[] = [];
    const add: string[] = [];
    for (const key of keys) {
      const w = want.elements.get(key);
      const h = have.get(key);
      if (w === h) continue;
      if (h !== undefined) del.push(key);
      if (w !== undefined) add.push(`${key} : ${w}`);
      commits.push(() => {
        if (w === undefined) have.delete(key);
        else have.set(key, w);
      });
    }
    mapLines.push(...elementLines('delete', name, del), ...elementLines('add', name, add));
  }
  const lines = [...decl, ...elements, ...rules, ...mapLines, ...removedChains, ...deletions];
  return {
    text: lines.length === 0 ? '' : `${lines.join('\n')}\n`,
    lines,
    commit: () => {
      for (const c of commits) c();
    },
  };
}
