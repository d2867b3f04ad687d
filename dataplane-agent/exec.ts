import { spawn } from 'node:child_process';
import { setPriority } from 'node:os';

/** A kernel tool (ip, bridge, nft) that exited non-zero: the command, its exit code and what it printed. */
export class CommandError extends Error {
  constructor(
    readonly command: string,
    readonly code: number | null,
    readonly stderr: string,
  ) {
    super(`${command} exited ${code}: ${stderr.trim().split('\n').slice(0, 5).join(' | ')}`);
    this.name = 'CommandError';
  }
}

export interface ToolResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** What a tool reads on stdin: text written through a pipe, or an open file descriptor it inherits. */
export type ToolInput = string | { readonly fd: number };

/**
 * Runs one tool with `input` on stdin and collects its output. Never rejects for a non-zero exit (callers decide:
 * `ip -force -batch` reports a failed line but applies the others); rejects only when the tool cannot start.
 */
export function runTool(
  cmd: string,
  args: readonly string[],
  input: ToolInput = '',
  opts: { readonly niceness?: number } = {},
): Promise<ToolResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, [...args], { stdio: [typeof input === 'string' ? 'pipe' : input.fd, 'pipe', 'pipe'] });
    if (opts.niceness !== undefined && child.pid !== undefined) {
      try {
        setPriority(child.pid, opts.niceness);
      } catch {
        // Only a scheduling preference: the tool runs either way.
      }
    }
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout?.on('data', (c: Buffer) => out.push(c));
    child.stderr?.on('data', (c: Buffer) => err.push(c));
    child.on('error', reject);
    child.on('close', (code) =>
      resolve({ code, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() }),
    );
    if (typeof input === 'string' && child.stdin) {
      child.stdin.on('error', () => {}); // a tool that exits before reading all of stdin reports through its exit code
      child.stdin.end(input);
    }
  });
}

/** Like runTool, but a non-zero exit is a CommandError; returns stdout. */
export async function runToolOk(cmd: string, args: readonly string[], input = ''): Promise<string> {
  const r = await runTool(cmd, args, input);
  if (r.code !== 0) throw new CommandError(`${cmd} ${args.join(' ')}`, r.code, r.stderr);
  return r.stdout;
}
