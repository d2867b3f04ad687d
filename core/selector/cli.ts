// `fedmesh selector check|eval`: the selector language from the command line, like `calicoq eval`.

import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { parseFlags } from '../cli/parse-flags.js';
import { UsageError } from '../cli/usage-error.js';
import { canonicalSelector } from './canonical.js';
import { caretUnder } from './caret.js';
import { evaluate } from './evaluate.js';
import { checkSelector } from './parser.js';

const HELP = `usage: fedmesh selector check EXPR
       fedmesh selector eval < requests.jsonl

Calico's selector language, exactly (==, !=, in {…}, not in {…}, has(), !has(), all(), global(), contains,
starts with, ends with, !, &&, ||, parentheses; quotes ' or ", no escapes; an empty selector is all()).

subcommands:
  check EXPR   print the canonical form of EXPR (exit 0), or the error with a caret under its position (exit 1).
               Put -- before an expression that starts with '-'.
  eval         read JSON lines {"selector": "...", "labels": {...}} on stdin (labels may be left out: none);
               write one JSON line per input line, in order:
                 {"valid": true, "match": true|false, "canonical": "..."}
                 {"valid": false, "error": "...", "position": N}   (N: 0-based index into the selector)
                 {"valid": false, "error": "..."}                  (the line is not a request)
`;

export async function selectorMain(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  switch (sub) {
    case undefined:
      throw new UsageError('expected a subcommand: check or eval', 'selector');
    case '--help':
    case '-h':
    case 'help':
      console.log(HELP);
      return 0;
    case 'check':
      return check(rest);
    case 'eval':
      return evalStdin(rest);
    default:
      throw new UsageError(`unknown subcommand "${sub}" (expected check or eval)`, 'selector');
  }
}

function check(argv: string[]): number {
  const parsed = parseFlags('selector check', argv, {}, 1);
  if (parsed.help) {
    console.log(HELP);
    return 0;
  }
  const [expr] = parsed.positionals;
  if (expr === undefined) throw new UsageError('expected one selector expression (quote it)', 'selector check');
  const result = checkSelector(expr);
  if (result.ok) {
    console.log(canonicalSelector(result.node));
    return 0;
  }
  const { message, position } = result.error;
  console.error(
    `fedmesh selector: invalid selector at position ${position}: ${message}\n${caretUnder(expr, position)}`,
  );
  return 1;
}

async function evalStdin(argv: string[]): Promise<number> {
  const parsed = parseFlags('selector eval', argv, {}, 0);
  if (parsed.help) {
    console.log(HELP);
    return 0;
  }
  const lines = createInterface({ input: process.stdin, crlfDelay: Number.POSITIVE_INFINITY });
  for await (const line of lines) {
    if (!process.stdout.write(`${JSON.stringify(evalRequest(line))}\n`)) await once(process.stdout, 'drain');
  }
  return 0;
}

export type EvalResult =
  | { readonly valid: true; readonly match: boolean; readonly canonical: string }
  | { readonly valid: false; readonly error: string; readonly position?: number };

/** One line of `selector eval`: a JSON request in, its answer out; never throws. */
export function evalRequest(line: string): EvalResult {
  let request: unknown;
  try {
    request = JSON.parse(line);
  } catch (err) {
    return { valid: false, error: `not a JSON line: ${err instanceof Error ? err.message : String(err)}` };
  }
  if (!isRecord(request)) return { valid: false, error: 'expected a JSON object {"selector": "...", "labels": {...}}' };
  const { selector } = request;
  if (typeof selector !== 'string') return { valid: false, error: '"selector" must be a string' };
  const labels = request.labels ?? {};
  if (!isStringRecord(labels)) return { valid: false, error: '"labels" must be an object of string values' };
  const result = checkSelector(selector);
  if (!result.ok) return { valid: false, error: result.error.message, position: result.error.position };
  return { valid: true, match: evaluate(result.node, labels), canonical: canonicalSelector(result.node) };
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isStringRecord(v: unknown): v is Record<string, string> {
  return isRecord(v) && Object.values(v).every((x) => typeof x === 'string');
}
