// Installs what fedmesh's commands need on a fresh machine: npm packages (from the lock file) and the
// compiled TypeScript, plus the Debian packages the dataplane and tests use. Idempotent and quiet when warm.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = join(dirname(fileURLToPath(import.meta.url)), '..');

/** Debian packages by the command they provide; installed only when the command is missing. */
const debianPackages = [
  { command: 'ip', pkg: 'iproute2' },
  { command: 'nft', pkg: 'nftables' },
  // ICMP probes of the dataplane e2e.
  { command: 'ping', pkg: 'iputils-ping' },
];

function run(cmd, args, opts = {}) {
  const res = spawnSync(cmd, args, { cwd: root, stdio: 'inherit', ...opts });
  if (res.error) throw new Error(`${cmd} ${args.join(' ')}: ${res.error.message}`);
  if (res.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited with ${res.status}`);
}

function hasCommand(name) {
  return spawnSync('sh', ['-c', `command -v ${name}`], { stdio: 'ignore' }).status === 0;
}

export function ensureDebianPackages() {
  const missing = debianPackages.filter((p) => !hasCommand(p.command)).map((p) => p.pkg);
  if (missing.length === 0) return;
  if (process.getuid?.() !== 0) {
    throw new Error(`missing Debian packages ${missing.join(', ')}: run as root or install them with apt-get`);
  }
  console.error(`[deps] installing Debian packages: ${missing.join(' ')}`);
  run('apt-get', ['update', '-qq']);
  run('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...missing], {
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
  });
}

export function ensureNodeModules() {
  const marker = join(root, 'node_modules', '.package-lock.json');
  const lock = join(root, 'package-lock.json');
  if (existsSync(marker) && statSync(marker).mtimeMs >= statSync(lock).mtimeMs) return;
  console.error('[deps] installing npm packages (npm ci)');
  run('npm', ['ci', '--no-audit', '--no-fund', '--ignore-scripts']);
}

/** Written after each successful compile: a later run with no source newer than it skips tsc. */
const buildStamp = join(root, 'dist', '.build-stamp');

/** The newest modification time of the compiled sources (the tsconfig's folders) and of what shapes the output. */
function newestSourceMtime() {
  const config = JSON.parse(readFileSync(join(root, 'tsconfig.json'), 'utf8'));
  let newest = Math.max(...['tsconfig.json', 'package-lock.json'].map((f) => statSync(join(root, f)).mtimeMs));
  const walk = (dir) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, entry.name);
      if (entry.isDirectory()) walk(p);
      else if (entry.name.endsWith('.ts')) newest = Math.max(newest, statSync(p).mtimeMs);
    }
  };
  for (const dir of config.include ?? []) if (existsSync(join(root, dir))) walk(join(root, dir));
  return newest;
}

export function build() {
  // The stamp gets the sources' time from before the compile: a file saved while tsc runs is newer, and compiles
  // next time.
  const sources = Math.ceil(newestSourceMtime()) / 1000;
  console.error('[deps] compiling TypeScript');
  run(join(root, 'node_modules', '.bin', 'tsc'), ['-p', 'tsconfig.json']);
  writeFileSync(buildStamp, `${new Date().toISOString()}\n`);
  utimesSync(buildStamp, sources, sources);
}

/** Compiles unless dist/ is newer than every source (tsc costs seconds of CPU even when nothing changed). */
export function buildIfStale() {
  if (existsSync(buildStamp) && statSync(buildStamp).mtimeMs >= newestSourceMtime()) return;
  build();
}

export function ensureAll() {
  ensureNodeModules();
  ensureDebianPackages();
  buildIfStale();
}

export function gitRoot() {
  return execFileSync('git', ['rev-parse', '--show-toplevel'], { cwd: root, encoding: 'utf8' }).trim();
}
