// Remote objects the agent refuses (they fail its checks): each is counted, and named in a warning, at most a few
// per minute and source, so that a remote cluster writing thousands of bad objects cannot flood the log. The
// warning names the object and why, never what it holds.

import type { Logger } from 'pino';
import type { Counter } from 'prom-client';
import { isRefusal, type Refusal } from './sources.js';

/** The watched collections whose objects can be refused (local pods and policies are never dropped this way). */
const refusingSources = ['remoteworkloads', 'remotenodes'] as const;
export type RefusingSource = (typeof refusingSources)[number];

export interface RefusalOptions {
  /** Warnings per source and window; the rest are counted and summed up in the next warning. Default 5. */
  readonly warningsPerWindow?: number;
  /** Default one minute. */
  readonly windowMs?: number;
  readonly now?: () => number;
}

/** Longest object name the log repeats (Kubernetes names are at most 253 characters; a refused one may be longer). */
const maxLoggedName = 253;

export class RefusalReporter {
  private readonly windows = new Map<RefusingSource, { start: number; warned: number; suppressed: number }>();
  private readonly perWindow: number;
  private readonly windowMs: number;
  private readonly now: () => number;

  constructor(
    private readonly counter: Counter<'resource'>,
    private readonly log: Logger,
    opts: RefusalOptions = {},
  ) {
    this.perWindow = opts.warningsPerWindow ?? 5;
    this.windowMs = opts.windowMs ?? 60_000;
    this.now = opts.now ?? Date.now;
    // Shown at 0 from the start, so that a dashboard tells "none refused" from "not reported".
    for (const resource of refusingSources) counter.inc({ resource }, 0);
  }

  /** An informer's convert for `source`: a refused object is counted, maybe logged, and dropped (undefined). */
  convert<T extends object>(
    source: RefusingSource,
    check: (raw: unknown) => T | Refusal | undefined,
  ): (raw: unknown) => T | undefined {
    return (raw) => {
      const r = check(raw);
      if (!isRefusal(r)) return r;
      this.refused(source, raw, r.refused);
      return undefined;
    };
  }

  private refused(source: RefusingSource, raw: unknown, reason: string): void {
    this.counter.inc({ resource: source });
    const now = this.now();
    let w = this.windows.get(source);
    if (!w || now - w.start >= this.windowMs) {
      w = { start: now, warned: 0, suppressed: w?.suppressed ?? 0 };
      this.windows.set(source, w);
    }
    if (w.warned >= this.perWindow) {
      w.suppressed++;
      return;
    }
    w.warned++;
    const suppressed = w.suppressed;
    w.suppressed = 0;
    this.log.warn(
      { resource: source, object: objectName(raw), reason, ...(suppressed > 0 ? { suppressed } : {}) },
      suppressed > 0
        ? `remote object refused; ${suppressed} more refused without a warning before it`
        : 'remote object refused',
    );
  }
}

/** `namespace/name` or `name` of an object of any shape, cut to a name's length; `(unnamed)` without one. */
function objectName(raw: unknown): string {
  const m = (raw as { metadata?: { name?: unknown; namespace?: unknown } } | null)?.metadata;
  const cut = (v: unknown) => (typeof v === 'string' ? v.slice(0, maxLoggedName) : '');
  const name = cut(m?.name) || '(unnamed)';
  const namespace = cut(m?.namespace);
  return namespace ? `${namespace}/${name}` : name;
}
