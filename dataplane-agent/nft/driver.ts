// The nftables driver: one text transaction per flush (nft 1.0.6 cannot read JSON from a pipe), terse JSON
// read-back of sets, maps and chains (never a set's elements: parseExisting) to learn what a previous run left.
// Small deltas (the common case: a pod relabelled, added or gone) go to a long-lived `nft -i` session, which saves
// starting nft each time; full syncs and large deltas go to `nft -f -`, which reads its input far faster, from a
// file written in full first (transaction-file.ts: a transaction is never cut short). A full sync into a table
// that lacks a large set loads that set's elements first, in chunks run side by side (render.ts, prefill), or
// while they were computed (streamSet, element-stream.ts). Never touches anything outside table inet fedmesh, and
// never deletes that table: a stopped or restarting agent leaves its rules enforcing.

import { tmpdir } from 'node:os';
import { errorMessage } from '../../core/log/logger.js';
import { runTool } from '../exec.js';
import { ElementStream } from './element-stream.js';
import { type ReadBackObject, readBackChainShape, readBackShape } from './object-shapes.js';
import { blamesRule, type RefusedRule, refusedRules } from './refused-rules.js';
import {
  type Existing,
  emptyProgrammed,
  isIntervalSet,
  PREFILL_CHUNK_ELEMENTS,
  PREFILL_MIN_ELEMENTS,
  type Programmed,
  renderDelta,
  renderFull,
  renderPrefillChunks,
  renderPrefillDeclarations,
  setsToPrefill,
} from './render.js';
import { fitsSession, NftSession, NftSessionError } from './session.js';
import { type NftChanges, type NftState, table, tableFamily, tableName } from './state.js';
import { runNftTransaction, startNftTransaction } from './transaction-file.js';

export class NftError extends Error {
  constructor(
    message: string,
    readonly stderr: string,
    /** The rules nft named as refused (a refused `nft -f` transaction only). */
    readonly refused: readonly RefusedRule[] = [],
  ) {
    super(message);
    this.name = 'NftError';
  }
}

/**
 * The rules a failed flush blames: those nft refused in a full sync, for a reason about the rule itself. A full sync
 * declares everything its rules name; a delta builds on what the kernel held, which another tool may have changed.
 */
export function blamedRules(err: unknown, fullSync: boolean): readonly RefusedRule[] {
  if (!fullSync || !(err instanceof NftError)) return [];
  return err.refused.filter((r) => blamesRule(r.reason));
}

export interface NftRunStats {
  readonly kind: 'full' | 'delta';
  readonly lines: number;
  readonly ms: number;
  /** How the transaction reached nft: the long-lived session or a `nft -f` process. */
  readonly via: 'session' | 'file' | 'none';
  /** Bytes of nft text (what a full sync needs in the transaction directory). */
  readonly bytes: number;
  /** A full sync: how many chunk transactions loaded large new sets ahead of it (0: none). */
  readonly prefillChunks?: number;
  /** A full sync: how many chunk transactions loaded a set while it was computed (streamSet; 0: none). */
  readonly streamedChunks?: number;
}

/**
 * The read-back: the sets of our table, and the maps and chains of its family (`list maps` and `list chains` take no
 * table in nft 1.0.6), in one nft process, so one snapshot of the kernel (nft checks the ruleset's generation around
 * its dump). Not `list table`: for it nft 1.0.6 fetches every element of every set even with -t (-t only leaves them
 * out of what it prints), 2.3 s of CPU at 133k elements of `peers`; `list sets` and `list maps` fetch none with -t,
 * and `list chains` never does: 13 ms, whatever the sets hold. `list sets table` fails when the table is absent.
 */
const READ_BACK_ARGS: readonly string[] = [
  ...['-t', '-j', 'list', 'sets', 'table', tableFamily, tableName],
  ...[';', 'list', 'maps', tableFamily],
  ...[';', 'list', 'chains', tableFamily],
];

const isRecord = (v: unknown): v is ReadBackObject => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Parses the read-back's output (one JSON document per command, a line each; `list table`'s one document parses the
 * same): the names of our table's sets, maps and chains, and their shapes. Every value is checked before use; objects
 * of other tables are left out. Output that is not nft's JSON is an NftError.
 */
export function parseExisting(output: string): Existing {
  const sets = new Set<string>();
  const maps = new Set<string>();
  const chains = new Set<string>();
  const shapes = new Map<string, string>();
  let documents = 0;
  for (const line of output.split('\n')) {
    if (line.trim() === '') continue;
    let doc: unknown;
    try {
      doc = JSON.parse(line);
    } catch {
      throw new NftError(`nft printed a line that is not JSON reading back ${table}: ${line.slice(0, 200)}`, '');
    }
    if (!isRecord(doc) || !Array.isArray(doc.nftables)) {
      throw new NftError(`nft printed JSON without a "nftables" list reading back ${table}: ${line.slice(0, 200)}`, '');
    }
    documents++;
    for (const entry of doc.nftables) {
      if (!isRecord(entry)) continue;
      for (const kind of ['set', 'map', 'chain'] as const) {
        const o = entry[kind];
        if (!isRecord(o) || typeof o.name !== 'string' || o.table !== tableName || o.family !== tableFamily) continue;
        (kind === 'set' ? sets : kind === 'map' ? maps : chains).add(o.name);
        shapes.set(`${kind} ${o.name}`, kind === 'chain' ? readBackChainShape(o) : readBackShape(o));
      }
    }
  }
  // A success that printed nothing would read as an empty table: nothing of what it holds would be deleted.
  if (documents === 0) throw new NftError(`nft printed nothing reading back ${table}`, '');
  return { table: true, sets, maps, chains, shapes };
}

export interface NftDriverOptions {
  /** How long the session waits for nft to answer a transaction. */
  readonly sessionTimeoutMs?: number;
  /** Called once if the session is turned off (see SESSION_MAX_BROKEN), with the reason. */
  readonly onSessionOff?: (reason: string) => void;
  /** Where `nft -f` transactions are written before nft reads them (transaction-file.ts); default the OS's tmpdir. */
  readonly transactionDir?: string;
  /** Sets of at least this many elements that the kernel lacks are loaded ahead of a full sync (render.ts). */
  readonly prefillMinElements?: number;
  /** Elements per chunk transaction of such a set. */
  readonly prefillChunkElements?: number;
  /** How many chunk transactions run at once. */
  readonly prefillConcurrency?: number;
  /** Elements per chunk transaction of a streamed set (streamSet). */
  readonly streamChunkElements?: number;
}

/**
 * Chunk transactions run at once (nft uses one core). Measured on 2 cores with other work on them (load 2.1-2.5),
 * a full sync of 133k elements from the read-back to the commit, medians of 9: in one transaction 1.57 s; in chunks
 * of 16k, 2 at a time 0.98 s, 3 at a time 0.90 s, 4 at a time 0.96 s. A third process takes back some of the share
 * of the cores that other work holds.
 */
export const PREFILL_CONCURRENCY = 3;

/** The niceness of chunks streamed while the calculation runs (element-stream.ts StartTransaction). */
export const STREAM_NICENESS = 10;

/**
 * Elements per streamed chunk. While the calculation runs, the stream cannot see a chunk end (the calculation does
 * not yield), so it starts at most PREFILL_CONCURRENCY chunks then: of 32k, that is about what nft loads on the
 * idle core in the time the calculation of 100k endpoints takes here (bench/dataplane: chunks of 16k streamed
 * 48k elements and left nft idle before the calculation ended).
 */
export const STREAM_CHUNK_ELEMENTS = 32_768;

/**
 * After this many transactions in a row that the session could not get answered (nft exited or hung: not a refusal,
 * which shows the session works), small deltas go through `nft -f` too: slower, but a session that keeps failing
 * would otherwise cost a timeout and a full resync for every change.
 */
export const SESSION_MAX_BROKEN = 3;

export class NftDriver {
  private programmed: Programmed = emptyProgrammed();
  /** A set being loaded while it is computed, until the next full sync (streamSet). */
  private stream: ElementStream | undefined;
  private synced = false;
  private readonly session: NftSession;
  private brokenInARow = 0;
  private sessionOn = true;

  /** @param nft the nft binary (a test may point it elsewhere). */
  constructor(
    private readonly nft = 'nft',
    private readonly opts: NftDriverOptions = {},
  ) {
    this.session = new NftSession({ nft, timeoutMs: opts.sessionTimeoutMs });
  }

  /** Whether small deltas still go through the long-lived session. */
  get sessionEnabled(): boolean {
    return this.sessionOn;
  }

  /** Ends the long-lived nft process (the kernel keeps everything programmed). */
  close(): Promise<void> {
    return this.session.close();
  }

  /** Whether the last full sync succeeded and no delta failed since. */
  get inSync(): boolean {
    return this.synced;
  }

  /** What the kernel holds of fedmesh's table now: names and shapes, no elements (READ_BACK_ARGS). */
  async readExisting(): Promise<Existing> {
    const r = await runTool(this.nft, READ_BACK_ARGS);
    if (r.code !== 0) {
      if (/No such file or directory/.test(r.stderr)) {
        return { table: false, sets: new Set(), maps: new Set(), chains: new Set() };
      }
      throw new NftError(`nft ${READ_BACK_ARGS.join(' ')} failed: ${r.stderr.trim()}`, r.stderr);
    }
    return parseExisting(r.stdout);
  }

  /**
   * Rewrites the whole table in one transaction (start, and recovery after a failed delta). `prepare` is called
   * right before rendering, with no await in between: changes recorded from then on are the next delta's.
   */
  async fullSync(prepare: () => NftState): Promise<NftRunStats> {
    const started = performance.now();
    const stream = this.stream;
    this.stream = undefined;
    try {
      const existing = await this.readExisting();
      // Every text is rendered from one state, synchronously: the state is live, and what changes after prepare() is
      // the next delta's, so no text may be rendered after an await.
      const desired = prepare();
      const streamed = stream?.close();
      // A stream is used only if it holds what the state holds (by count: the calculation told it every change) and
      // its set is still there; otherwise that set is flushed and refilled here, as any other.
      const useStream =
        stream !== undefined &&
        streamed !== undefined &&
        existing.sets.has(stream.set) &&
        desired.sets.get(stream.set)?.elements.size === streamed.count;
      const names = setsToPrefill(desired, existing, this.opts.prefillMinElements ?? PREFILL_MIN_ELEMENTS);
      const declarations = names.length > 0 ? renderPrefillDeclarations(desired, names) : '';
      const chunks = renderPrefillChunks(desired, names, this.opts.prefillChunkElements ?? PREFILL_CHUNK_ELEMENTS);
      const prefilled = new Set(names);
      if (useStream) prefilled.add(stream.set);
      const { text, programmed } = renderFull(
        desired,
        existing,
        prefilled,
        useStream ? new Map([[stream.set, streamed.removed]]) : undefined,
      );
      // Every chunk of the stream ends before anything else runs (one refused fails this sync; the next one finds
      // the set and refills it), even one it is not used for: none may land after the set is live.
      let streamedChunks = 0;
      if (streamed) {
        await streamed.done.then(
          (r) => {
            if (useStream) streamedChunks = r.chunks;
          },
          (err: unknown) => {
            if (useStream) throw new NftError(errorMessage(err), '');
          },
        );
      }
      if (names.length > 0) await this.prefill(names, declarations, chunks);
      await this.run(text);
      this.programmed = programmed;
      this.synced = true;
      let lines = countLines(text);
      let bytes = Buffer.byteLength(text);
      for (const t of [declarations, ...chunks.map((c) => c.text)]) {
        lines += countLines(t);
        bytes += Buffer.byteLength(t);
      }
      return {
        kind: 'full',
        lines,
        ms: performance.now() - started,
        via: 'file',
        bytes,
        prefillChunks: chunks.length,
        streamedChunks,
      };
    } catch (err) {
      // The kernel may lag behind what is wanted now (a periodic resync that fails is what repairs drift): not in
      // sync until a full sync succeeds, as after a failed delta.
      this.synced = false;
      // A stream not used in full (the sync failed before its end, or on the way): its chunks end before this
      // sync fails, and it sends nothing more, so that none lands after the next sync has refilled the set.
      await stream?.abort();
      throw err;
    }
  }

  /**
   * On a kernel without `set` (a node's first start): creates it, empty (and the table, if there is none), and
   * returns a stream that loads elements into it while they are computed (element-stream.ts); the next fullSync
   * ends it. Undefined when the kernel holds the set already (a restart), or it is an interval set (nft checks the
   * intervals of one transaction against each other: chunks would not see one another's).
   */
  async streamSet(set: string, declaration: string): Promise<ElementStream | undefined> {
    if (isIntervalSet(declaration)) return undefined;
    const existing = await this.readExisting();
    if (existing.sets.has(set) || existing.maps.has(set)) return undefined;
    // `create`: refused if the set was made since the read-back; its elements and references would not be known.
    await this.run(
      `add table ${table}\ncreate set ${table} ${set} { ${declaration} }\n`,
      `creating set ${set} to stream it`,
    );
    const dir = this.opts.transactionDir ?? tmpdir();
    this.stream = new ElementStream(
      set,
      (text, beside) => startNftTransaction(this.nft, text, dir, beside ? { niceness: STREAM_NICENESS } : {}),
      {
        chunkElements: this.opts.streamChunkElements ?? STREAM_CHUNK_ELEMENTS,
        concurrency: Math.max(1, this.opts.prefillConcurrency ?? PREFILL_CONCURRENCY),
      },
    );
    return this.stream;
  }

  /**
   * Creates the sets named (empty) and loads their chunks, a few nft processes at once. A refusal fails the full sync
   * (the sets are referenced by nothing yet: the next full sync finds them and refills them in its one transaction),
   * but only once every chunk already started has ended: none may land after the next sync has made the set live.
   */
  private async prefill(
    names: readonly string[],
    declarations: string,
    chunks: readonly { readonly set: string; readonly text: string }[],
  ): Promise<void> {
    const what = `creating set ${names.join(', ')} ahead of the full sync`;
    await this.run(declarations, what);
    let next = 0;
    let failure: unknown;
    const worker = async () => {
      while (failure === undefined && next < chunks.length) {
        const i = next++;
        const chunk = chunks[i]!;
        try {
          await this.run(
            chunk.text,
            `loading set ${chunk.set} ahead of the full sync, chunk ${i + 1} of ${chunks.length}`,
          );
        } catch (err) {
          failure ??= err;
        }
      }
    };
    const concurrency = Math.max(1, this.opts.prefillConcurrency ?? PREFILL_CONCURRENCY);
    await Promise.all(Array.from({ length: Math.min(concurrency, chunks.length) }, worker));
    if (failure !== undefined) throw failure;
  }

  /**
   * Programs one flush's changes. A failure leaves the driver out of sync: the caller runs fullSync next (the
   * kernel kept its previous state, as the transaction was refused whole).
   */
  async apply(desired: NftState, changes: NftChanges): Promise<NftRunStats> {
    if (!this.synced) throw new NftError('a delta needs a full sync first', '');
    const started = performance.now();
    const { text, lines, commit } = renderDelta(desired, changes, this.programmed);
    if (text === '') return { kind: 'delta', lines: 0, ms: 0, via: 'none', bytes: 0 };
    // Small deltas to the session (a line it writes in one piece): interactive nft reads a byte per system call
    // (~1 µs a byte here), still far less than the ~20 ms of starting `nft -f` at that size.
    const via = this.sessionOn && fitsSession(lines) ? 'session' : 'file';
    try {
      if (via === 'session') await this.runInSession(lines);
      else await this.run(text);
    } catch (err) {
      this.synced = false;
      throw err;
    }
    commit();
    return { kind: 'delta', lines: lines.length, ms: performance.now() - started, via, bytes: Buffer.byteLength(text) };
  }

  private async runInSession(lines: readonly string[]): Promise<void> {
    try {
      await this.session.run(lines);
      this.brokenInARow = 0;
    } catch (err) {
      if (!(err instanceof NftSessionError)) throw err;
      this.brokenInARow = err.kind === 'broken' ? this.brokenInARow + 1 : 0;
      if (this.brokenInARow >= SESSION_MAX_BROKEN && this.sessionOn) {
        this.sessionOn = false;
        void this.session.close();
        this.opts.onSessionOff?.(
          `${SESSION_MAX_BROKEN} transactions in a row got no answer from nft -i (last: ${err.message}); small deltas go through nft -f from now on`,
        );
      }
      throw new NftError(err.message, err.stderr);
    }
  }

  /** Runs one `nft -f` transaction; `stage` names a transaction other than the full or delta one in an error. */
  private async run(text: string, stage?: string): Promise<void> {
    const r = await runNftTransaction(this.nft, text, this.opts.transactionDir ?? tmpdir());
    if (r.code !== 0) {
      const first = r.stderr.trim().split('\n').slice(0, 3).join(' | ');
      const refused = `nft -f refused the transaction (${countLines(text)} lines): ${first}`;
      // Rules are only in the full or delta transaction: line numbers of the others name no rule.
      if (stage !== undefined) throw new NftError(`${stage}: ${refused}`, r.stderr);
      throw new NftError(refused, r.stderr, refusedRules(text, r.stderr));
    }
  }
}

function countLines(text: string): number {
  let n = 0;
  for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) n++;
  return n;
}
