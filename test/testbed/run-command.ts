import { spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';

export interface CommandResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs a command to completion, capturing its output (and appending both streams to `logFile` when
 * given). `onStderrLine` sees each stderr line as it comes, for progress reports.
 */
export function runCommand(
  cmd: string,
  args: readonly string[],
  opts: {
    cwd?: string;
    env?: NodeJS.ProcessEnv;
    logFile?: string;
    input?: string;
    onStderrLine?: (line: string) => void;
  } = {},
): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, [...args], { cwd: opts.cwd, env: opts.env ?? process.env, stdio: 'pipe' });
    const log = opts.logFile ? createWriteStream(opts.logFile, { flags: 'a' }) : undefined;
    log?.write(`$ ${cmd} ${args.join(' ')}\n`);
    let stdout = '';
    let stderr = '';
    let partial = '';
    child.stdout.on('data', (c: Buffer) => {
      stdout += c.toString();
      log?.write(c);
    });
    child.stderr.on('data', (c: Buffer) => {
      const s = c.toString();
      stderr += s;
      log?.write(c);
      if (opts.onStderrLine) {
        const lines = (partial + s).split('\n');
        partial = lines.pop() ?? '';
        for (const l of lines) opts.onStderrLine(l);
      }
    });
    child.on('error', (err) => {
      log?.end();
      reject(err);
    });
    child.on('close', (code) => {
      log?.end(`[exit ${code}]\n`);
      resolve({ code, stdout, stderr });
    });
    // A command that exits without reading its input (kubectl version, say) reports through its exit code: the
    // EPIPE of writing to it must not become an uncaught error.
    child.stdin.on('error', () => {});
    child.stdin.end(opts.input ?? '');
  });
}
