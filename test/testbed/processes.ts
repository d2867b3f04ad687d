import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import type { ProcessRecord } from './state.js';

/** Ports this process handed out already. */
const handedOut = new Set<number>();

/** Where slot ports start: below the kernel's ephemeral range (32768-60999 by default), which bind(0) draws from. */
export const SLOT_PORTS_FROM = 20_000;
export const PORTS_PER_SLOT = 1_500;
export const PORT_SLOTS = 8;

/**
 * This process's slot, read once and taken out of the environment: a child (a `fedmesh testbed up` a test runs)
 * draws its ports with bind(0), from the ephemeral range, and so never from the range its parent hands out.
 */
const portSlot = Number(process.env.FEDMESH_PORT_SLOT ?? Number.NaN);
delete process.env.FEDMESH_PORT_SLOT;

/**
 * A port on 127.0.0.1 for a server this process starts next; never the same one twice in a process. A port found
 * free stays free only until its server binds it, and a server can take seconds to start: meanwhile the kernel
 * would hand the same port to the next bind(0), and two components of one testbed met on one port (a webhook
 * registered on the port of another cluster's API server). With FEDMESH_PORT_SLOT=k (scripts/test.mjs gives each
 * e2e runner its own), ports come from a range of that slot's own below the ephemeral range, so that e2e files
 * running side by side, and anything else on the machine binding port 0, never draw the same one either.
 */
export async function freePort(): Promise<number> {
  if (Number.isInteger(portSlot) && portSlot >= 0 && portSlot < PORT_SLOTS) {
    const from = SLOT_PORTS_FROM + portSlot * PORTS_PER_SLOT;
    for (let port = from; port < from + PORTS_PER_SLOT; port++) {
      if (handedOut.has(port) || (await listenOnce(port)) === undefined) continue;
      handedOut.add(port);
      return port;
    }
  }
  for (let attempt = 0; attempt < 100; attempt++) {
    const port = await listenOnce(0);
    if (port !== undefined && !handedOut.has(port)) {
      handedOut.add(port);
      return port;
    }
  }
  throw new Error('no free port on 127.0.0.1 after 100 attempts');
}

/** Listens on 127.0.0.1:port and closes again: the port it got, or undefined when it was taken. */
function listenOnce(port: number): Promise<number | undefined> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.on('error', () => resolve(undefined));
    srv.listen(port, '127.0.0.1', () => {
      const addr = srv.address();
      const got = typeof addr === 'object' && addr ? addr.port : undefined;
      srv.close(() => resolve(got));
    });
  });
}

/** A started process: `exited` settles when it ends while we still hold it. */
export interface Started {
  readonly child: ChildProcess;
  readonly pid: number;
  exitCode: number | null | undefined;
  readonly exited: Promise<void>;
}

/**
 * Starts a long-running process in its own process group (so that it outlives the CLI and can be stopped
 * with its children), its output appended to `log`.
 */
export function startDetached(argv: readonly string[], log: string, env: NodeJS.ProcessEnv = process.env): Started {
  const [cmd, ...args] = argv;
  if (!cmd) throw new Error('empty command');
  const fd = openSync(log, 'a');
  const child = spawn(cmd, args, { detached: true, stdio: ['ignore', fd, fd], env });
  closeSync(fd);
  if (child.pid === undefined) throw new Error(`could not start ${cmd}`);
  const started: Started = {
    child,
    pid: child.pid,
    exitCode: undefined,
    exited: new Promise((resolve) => {
      child.on('exit', (code, signal) => {
        started.exitCode = code ?? (signal ? 128 : null);
        resolve();
      });
    }),
  };
  child.unref();
  return started;
}

/** True when `pid` runs and is still the program we started (not a recycled pid). */
export function isRunning(rec: Pick<ProcessRecord, 'pid' | 'argv'>): boolean {
  try {
    const stat = readFileSync(`/proc/${rec.pid}/stat`, 'utf8');
    // Field 3 (after the parenthesised name) is the state; Z is a zombie that only waits to be reaped.
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    if (state === 'Z' || state === 'X') return false;
    const cmdline = readFileSync(`/proc/${rec.pid}/cmdline`, 'utf8').split('\0');
    return cmdline[0] === rec.argv[0];
  } catch {
    return false;
  }
}

/** Resident memory of a process in bytes, from /proc (0 when it is gone). */
export function rssBytes(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    try {
      process.kill(pid, signal);
    } catch {
      // already gone
    }
  }
}

/** SIGTERM to the process group, SIGKILL after `graceMs`; resolves when it is gone. */
export async function stopProcess(rec: Pick<ProcessRecord, 'pid' | 'argv'>, graceMs = 10_000): Promise<void> {
  if (!isRunning(rec)) return;
  signalGroup(rec.pid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline) {
    if (!isRunning(rec)) return;
    await sleep(100);
  }
  signalGroup(rec.pid, 'SIGKILL');
  for (let i = 0; i < 50 && isRunning(rec); i++) await sleep(100);
}

/** Synchronous last resort for exit handlers: SIGKILL every recorded process that still runs. */
export function killAllSync(records: readonly Pick<ProcessRecord, 'pid' | 'argv'>[]): void {
  for (const r of records) if (isRunning(r)) signalGroup(r.pid, 'SIGKILL');
}

/** The last lines of a log file, to show why a process died. */
export function logTail(path: string, lines = 20): string {
  try {
    return readFileSync(path, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}
