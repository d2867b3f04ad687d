// nft text transactions, rendered from the desired state (pure). Two kinds:
//  - full: after a start or a failure. It declares, flushes and refills everything of fedmesh's and deletes what
//    the kernel holds (a terse read-back: names, no elements) and is no longer wanted, in one transaction: packets
//    see the old ruleset or the new one, never a gap (a restart opens no window).
//  - delta: the changes of one flush, element by element; chains are rewritten only when their rules changed.
// Order inside a transaction: declarations (chains empty at first), set elements, map elements (they jump to
// chains), chain rules (they reference sets and maps), then deletions of chains and last of sets.
// A full sync may load the elements of large new sets ahead of its transaction (prefill, below).

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
export function renderFull(
  desired: NftState,
  existing: Existing,
  /** Sets created and filled ahead of this transaction (see prefill below): declared, not flushed nor refilled. */
  prefilled: ReadonlySet<string> = new Set(),
  /** Of those, elements loaded ahead that are no longer wanted (a streamed set, element-stream.ts): deleted here. */
  unwanted: ReadonlyMap<string, readonly string[]> = new Map(),
): { text: string; programmed: Programmed } {
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
    lines.push(`add set ${table} ${name} { ${set.declaration} }`);
    if (!prefilled.has(name)) lines.push(`flush set ${table} ${name}`, ...elementLines('add', name, set.elements));
    else lines.push(...elementLines('delete', name, unwanted.get(name) ?? []));
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

// Prefill: a full sync into a table that lacks a large set (a node's first sync after a boot, or a table left by a
// version without that set) loads the set's elements ahead of its transaction, in chunks that several nft processes
// load side by side: one `nft -f` reads its input on one core, ~11 µs an element here (133k elements: ~1.5 s).
// Safe because a set the kernel does not hold is referenced by no rule: creating and filling it changes no verdict.
// The steps: (1) one small transaction creates the sets (`create`: refused if one exists after all, say made since the
// read-back, whose elements and references the agent would not know); (2) the chunks add their elements; (3) the full
// transaction declares those sets without flushing or refilling them and writes everything else as always, so
// verdicts change only when (3) commits. If any step fails, the sync fails; the next one reads the set back as
// existing and flushes and refills it in its one transaction, so a partly loaded set never decides a verdict.

/**
 * Below this many elements a set is loaded in the full transaction. At this size, two chunks side by side save about
 * 80 ms (half of the ~0.17 s nft takes for 16k elements here), against ~6 ms to start each extra nft process.
 */
export const PREFILL_MIN_ELEMENTS = 16_384;
/** Elements per chunk transaction (~0.16-0.2 s of nft each): small enough to share out, large against a start. */
export const PREFILL_CHUNK_ELEMENTS = 16_384;

/**
 * The sets a full sync loads ahead: at least `minElements` elements, absent from the kernel (no set or map of that
 * name), and without the interval flag: nft merges and checks the intervals of one transaction against each other
 * and against what the kernel holds, which chunks loaded side by side would not see of one another.
 */
export function setsToPrefill(desired: NftState, existing: Existing, minElements = PREFILL_MIN_ELEMENTS): string[] {
  const out: string[] = [];
  for (const [name, set] of desired.sets) {
    if (set.elements.size < minElements || existing.sets.has(name) || existing.maps.has(name)) continue;
    if (isIntervalSet(set.declaration)) continue;
    out.push(name);
  }
  return out;
}

/** Whether a set declaration has the interval flag (its elements cannot be loaded in separate transactions). */
export function isIntervalSet(declaration: string): boolean {
  return /(^|;)\s*flags [^;]*\binterval\b/.test(declaration);
}

/** Step (1): the transaction that creates the sets to prefill, empty (and the table, if the kernel has none). */
export function renderPrefillDeclarations(desired: NftState, names: readonly string[]): string {
  const lines = [`add table ${table}`];
  for (const name of names) {
    const set = desired.sets.get(name);
    if (set) lines.push(`create set ${table} ${name} { ${set.declaration} }`);
  }
  return `${lines.join('\n')}\n`;
}

/**
 * Step (2): the chunk transactions, each a slice of one set's elements; together they hold every element of those
 * sets once. A set is cut in equal slices of at most `chunkElements`, and at least two, so that a set at the
 * threshold is loaded on two cores too.
 */
export function renderPrefillChunks(
  desired: NftState,
  names: readonly string[],
  chunkElements = PREFILL_CHUNK_ELEMENTS,
): { readonly set: string; readonly text: string }[] {
  const out: { set: string; text: string }[] = [];
  for (const name of names) {
    const set = desired.sets.get(name);
    if (!set) continue;
    const slices = Math.max(2, Math.ceil(set.elements.size / chunkElements));
    const per = Math.max(1, Math.ceil(set.elements.size / slices));
    let batch: string[] = [];
    const flush = () => {
      out.push({ set: name, text: `${elementLines('add', name, batch).join('\n')}\n` });
      batch = [];
    };
    for (const el of set.elements) {
      batch.push(el);
      if (batch.length === per) flush();
    }
    if (batch.length > 0) flush();
  }
  return out;
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
