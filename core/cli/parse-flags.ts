import { parseArgs } from 'node:util';
import { UsageError } from './usage-error.js';

/** One flag of a subcommand. `list` flags take comma-separated values and may repeat. */
export interface FlagSpec {
  readonly type: 'string' | 'boolean' | 'list';
  readonly short?: string;
  readonly value?: string;
  readonly description: string;
}

export type FlagSpecs = Readonly<Record<string, FlagSpec>>;

type FlagValue<S extends FlagSpec> = S['type'] extends 'boolean'
  ? boolean
  : S['type'] extends 'list'
    ? string[]
    : string;
export type ParsedFlags<S extends FlagSpecs> = { [K in keyof S]?: FlagValue<S[K]> };

export interface ParsedCommand<S extends FlagSpecs> {
  readonly flags: ParsedFlags<S>;
  readonly positionals: string[];
  readonly help: boolean;
}

/**
 * Parses argv strictly: an unknown flag, a missing value or a stray positional is a UsageError naming it,
 * never silently ignored.
 */
export function parseFlags<S extends FlagSpecs>(
  command: string,
  argv: readonly string[],
  specs: S,
  maxPositionals = 0,
): ParsedCommand<S> {
  const options: Record<string, { type: 'string' | 'boolean'; short?: string; multiple?: boolean }> = {
    help: { type: 'boolean', short: 'h' },
  };
  for (const [name, spec] of Object.entries(specs)) {
    options[name] = {
      type: spec.type === 'boolean' ? 'boolean' : 'string',
      ...(spec.short ? { short: spec.short } : {}),
      ...(spec.type === 'list' ? { multiple: true } : {}),
    };
  }
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({ args: [...argv], options, strict: true, allowPositionals: true });
  } catch (err) {
    throw new UsageError(describeParseError(err), command);
  }
  const help = parsed.values.help === true;
  if (!help && parsed.positionals.length > maxPositionals) {
    const extra = parsed.positionals.slice(maxPositionals);
    throw new UsageError(`unexpected argument${extra.length > 1 ? 's' : ''}: ${extra.join(' ')}`, command);
  }
  const flags: Record<string, string | boolean | string[]> = {};
  for (const [name, spec] of Object.entries(specs)) {
    const v = parsed.values[name];
    if (v === undefined) continue;
    if (spec.type === 'list') {
      flags[name] = (v as string[])
        .flatMap((s) => s.split(','))
        .map((s) => s.trim())
        .filter((s) => s !== '');
    } else {
      flags[name] = v as string | boolean;
    }
  }
  return { flags: flags as ParsedFlags<S>, positionals: parsed.positionals, help };
}

function describeParseError(err: unknown): string {
  const msg = err instanceof Error ? err.message : String(err);
  // node:util's messages are good but long; keep their first sentence, which names the flag.
  const first = msg.split('. ')[0] ?? msg;
  return first.replace(/^Unknown option/, 'unknown flag');
}

/** Renders the flags of a command for --help. */
export function formatFlagHelp(specs: FlagSpecs): string {
  const rows = Object.entries(specs).map(([name, spec]) => {
    const left = `${spec.short ? `-${spec.short}, ` : '    '}--${name}${spec.type === 'boolean' ? '' : ` ${spec.value ?? 'VALUE'}`}`;
    return [left, spec.description] as const;
  });
  const width = Math.max(0, ...rows.map(([l]) => l.length)) + 2;
  return rows.map(([l, d]) => `  ${l.padEnd(width)}${d}`).join('\n');
}
