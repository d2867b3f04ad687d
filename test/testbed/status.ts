import { isRunning, rssBytes } from './processes.js';
import { readState } from './state.js';

/** One row of `fedmesh testbed status`. */
export interface ProcessStatus {
  cluster: string | null;
  component: string;
  pid: number;
  port: number | null;
  version: string;
  running: boolean;
  rssBytes: number;
  log: string;
}

export function testbedStatus(dir: string): ProcessStatus[] {
  const state = readState(dir);
  if (!state) return [];
  return state.processes.map((p) => {
    const running = isRunning(p);
    return {
      cluster: p.cluster,
      component: p.component,
      pid: p.pid,
      port: p.port,
      version: p.version,
      running,
      rssBytes: running ? rssBytes(p.pid) : 0,
      log: p.log,
    };
  });
}

export function formatStatusTable(rows: readonly ProcessStatus[]): string {
  const header = ['CLUSTER', 'COMPONENT', 'PID', 'PORT', 'VERSION', 'STATE', 'RSS'];
  const body = rows.map((r) => [
    r.cluster ?? '(shared)',
    r.component,
    String(r.pid),
    r.port === null ? '-' : String(r.port),
    r.version,
    r.running ? 'Running' : 'Exited',
    r.running ? `${Math.round(r.rssBytes / 1048576)}Mi` : '-',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((row) => (row[i] ?? '').length)));
  return [header, ...body]
    .map((row) =>
      row
        .map((c, i) => c.padEnd(widths[i] ?? 0))
        .join('   ')
        .trimEnd(),
    )
    .join('\n');
}
