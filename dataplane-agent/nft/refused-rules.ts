// Which rules of a transaction nft refused, from its error messages. `nft -f -` names each refused line as
// `/dev/stdin:<line>:<columns>: Error: <why>` (and refuses the whole transaction); a rule line names its chain, and
// a chain's rules are written together, so the line tells which rule of the chain it is.

import { table } from './state.js';

export interface RefusedRule {
  readonly chain: string;
  /** Position of the rule in its chain as the transaction wrote it (0: first). */
  readonly index: number;
  /** The rule's text (after `add rule <table> <chain> `). */
  readonly rule: string;
  /** nft's message, e.g. `conflicting protocols specified: tcp vs. icmp`. */
  readonly reason: string;
}

const errorLine = /^\/dev\/stdin:(\d+):[\d-]+: Error: (.*)$/;
const rulePrefix = `add rule ${table} `;

export function refusedRules(text: string, stderr: string): RefusedRule[] {
  const refused = new Map<number, string>();
  for (const line of stderr.split('\n')) {
    const m = errorLine.exec(line);
    if (m) refused.set(Number(m[1]) - 1, m[2]!);
  }
  if (refused.size === 0) return [];
  const last = Math.max(...refused.keys());
  const out: RefusedRule[] = [];
  const seen = new Map<string, number>(); // chain -> rule lines so far
  let start = 0;
  for (let n = 0; n <= last && start <= text.length; n++) {
    const end = text.indexOf('\n', start);
    const line = text.slice(start, end === -1 ? text.length : end);
    start = end === -1 ? text.length + 1 : end + 1;
    if (!line.startsWith(rulePrefix)) continue;
    const rest = line.slice(rulePrefix.length);
    const space = rest.indexOf(' ');
    if (space === -1) continue;
    const chain = rest.slice(0, space);
    const index = seen.get(chain) ?? 0;
    seen.set(chain, index + 1);
    const reason = refused.get(n);
    if (reason !== undefined) out.push({ chain, index, rule: rest.slice(space + 1), reason });
  }
  return out;
}

/**
 * Whether nft's message is about the rule itself rather than the table around it. A full sync declares every set,
 * map and chain its rules name, so a missing one ("No such file or directory") means the table changed under the
 * transaction (another tool flushed it, say): no policy is to blame, and the next full sync sets it right.
 */
export function blamesRule(reason: string): boolean {
  return !/No such file or directory/.test(reason);
}
