import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCommand } from './run-command.js';
import { type Binary, binaries, cacheDir, type Tool, versionCandidates } from './versions.js';

/** What a finished build wrote: the versions it built and a fingerprint of each binary. */
export interface BuildManifest {
  readonly versions: Record<Tool, string>;
  readonly binaries: Record<Binary, { size: number; mtimeMs: number; version: string }>;
  /** Wanted versions that the Go module proxy could not give, and why. */
  readonly fallbacks: string[];
  readonly goVersion: string;
  readonly builtAt: string;
}

export class BuildError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BuildError';
  }
}

type Report = (msg: string) => void;

const minGo = [1, 24] as const; // `go get -tool` needs Go 1.24

/** The Go toolchain's version, or a BuildError that says how to get one. */
export function goVersion(env: NodeJS.ProcessEnv = process.env): string {
  let out: string;
  try {
    out = execFileSync('go', ['env', 'GOVERSION'], { env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
  } catch {
    throw new BuildError(
      'the Go toolchain (`go`) is not on PATH: the testbed builds kube-apiserver, etcd and helm from Go modules. ' +
        `Install Go ${minGo.join('.')} or newer, put its bin folder on PATH, and run \`fedmesh testbed build\` again.`,
    );
  }
  const m = /^go(\d+)\.(\d+)/.exec(out);
  if (!m || Number(m[1]) < minGo[0] || (Number(m[1]) === minGo[0] && Number(m[2]) < minGo[1])) {
    throw new BuildError(`Go ${out} is too old: the testbed build needs Go ${minGo.join('.')} or newer.`);
  }
  return out;
}

function binDir(cache: string): string {
  return join(cache, 'bin');
}

export function binaryPath(name: Binary, cache = cacheDir()): string {
  return join(binDir(cache), name);
}

function manifestPath(cache: string): string {
  return join(cache, 'manifest.json');
}

export function readManifest(cache = cacheDir()): BuildManifest | undefined {
  try {
    return JSON.parse(readFileSync(manifestPath(cache), 'utf8')) as BuildManifest;
  } catch {
    return undefined;
  }
}

/** The manifest when every binary is still the one it describes; the warm path costs a few stat calls. */
export function completeBuild(cache = cacheDir()): BuildManifest | undefined {
  const m = readManifest(cache);
  if (!m) return undefined;
  for (const name of Object.keys(binaries) as Binary[]) {
    const want = m.binaries[name];
    const p = binaryPath(name, cache);
    if (!want || !existsSync(p)) return undefined;
    const st = statSync(p);
    if (st.size !== want.size || st.mtimeMs !== want.mtimeMs) return undefined;
  }
  return m;
}

function goEnv(): NodeJS.ProcessEnv {
  // GOTOOLCHAIN=local: never fetch another Go; GOFLAGS=-mod=mod: the wrapper modules resolve freely.
  return { ...process.env, CGO_ENABLED: '0', GOTOOLCHAIN: 'local', GOFLAGS: '-mod=mod' };
}

/** A go command failed because the proxy lacks a module or version (so a neighbouring release may do). */
function isMissingModule(stderr: string): boolean {
  return /unknown revision|invalid version|not found|404 Not Found|410 Gone|no matching versions|reading .*: 4\d\d/i.test(
    stderr,
  );
}

function tail(text: string, lines = 25): string {
  return text.trim().split('\n').slice(-lines).join('\n');
}

class Step {
  constructor(
    readonly cache: string,
    readonly report: Report,
  ) {}

  logFile(name: string): string {
    mkdirSync(join(this.cache, 'logs'), { recursive: true });
    return join(this.cache, 'logs', `${name}.log`);
  }

  /** Runs `go …` in `dir`; throws with the command's tail and the log path when it fails. */
  async go(what: string, dir: string, args: string[], progress?: { total: number; label: string }): Promise<string> {
    const log = this.logFile(what.replace(/[^a-z0-9.-]+/gi, '-'));
    let done = 0;
    const started = Date.now();
    const timer =
      progress &&
      setInterval(() => {
        const secs = Math.round((Date.now() - started) / 1000);
        this.report(`${progress.label}: ${done}/${progress.total} packages compiled, ${secs}s`);
      }, 15_000);
    try {
      const res = await runCommand('go', args, {
        cwd: dir,
        env: goEnv(),
        logFile: log,
        onStderrLine: (l) => {
          if (!l.startsWith('go: ') && l.trim() !== '') done += 1;
        },
      });
      if (res.code !== 0) {
        const err = new BuildError(
          `${what} failed (go ${args.join(' ')} in ${dir}):\n${tail(res.stderr)}\nFull log: ${log}`,
        );
        (err as BuildError & { missingModule?: boolean }).missingModule = isMissingModule(res.stderr);
        throw err;
      }
      return res.stdout;
    } finally {
      if (timer) clearInterval(timer);
    }
  }
}

function writeGoMod(dir: string, module: string, replaces: readonly string[] = []): void {
  mkdirSync(dir, { recursive: true });
  // Written whole each time, so that an interrupted `go get` never leaves a half-edited module behind.
  const replaceBlock = replaces.length > 0 ? `\nreplace (\n${replaces.map((r) => `\t${r}`).join('\n')}\n)\n` : '';
  writeFileSync(join(dir, 'go.mod'), `module ${module}\n\ngo 1.24\n${replaceBlock}`);
  rmSync(join(dir, 'go.sum'), { force: true });
}

/** The staging modules k8s.io/kubernetes replaces with local folders, mapped to their published v0.X.Y. */
async function kubernetesReplaces(step: Step, dir: string, version: string): Promise<string[]> {
  const out = await step.go(`download k8s.io/kubernetes@v${version}`, dir, [
    'mod',
    'download',
    '-json',
    `k8s.io/kubernetes@v${version}`,
  ]);
  const info = JSON.parse(out) as { GoMod?: string; Error?: string };
  if (!info.GoMod) throw new BuildError(`go mod download k8s.io/kubernetes@v${version}: ${info.Error ?? 'no go.mod'}`);
  const staging = version.replace(/^1\./, '0.');
  const replaces: string[] = [];
  for (const m of readFileSync(info.GoMod, 'utf8').matchAll(/^\s*(k8s\.io\/[\w.-]+)\s+=>\s+\.\/staging\//gm)) {
    replaces.push(`${m[1]} => ${m[1]} v${staging}`);
  }
  if (replaces.length === 0) throw new BuildError(`k8s.io/kubernetes@v${version}'s go.mod has no staging replaces`);
  return replaces;
}

async function countPackages(step: Step, dir: string, pkgs: string[]): Promise<number> {
  const out = await step.go('list packages', dir, ['list', '-deps', ...pkgs]);
  return out.split('\n').filter((l) => l.trim() !== '').length;
}

/** Compiles into bin/.partial and renames into bin/ only on success, so bin/ never holds a half-written binary. */
async function compile(step: Step, tool: Tool, dir: string, pkgs: string[], ldflags: string, outNames: Binary[]) {
  const partial = join(binDir(step.cache), '.partial');
  mkdirSync(partial, { recursive: true });
  const total = await countPackages(step, dir, pkgs);
  step.report(`compiling ${outNames.join(', ')} (${total} packages; progress every 15 s)`);
  // Whatever an interrupted build left here is not trusted (go build refuses to overwrite a non-binary).
  for (const name of outNames) rmSync(join(partial, name), { force: true });
  const out = pkgs.length > 1 ? `${partial}/` : join(partial, outNames[0] ?? tool);
  await step.go(`build ${tool}`, dir, ['build', '-v', '-trimpath', '-ldflags', ldflags, '-o', out, ...pkgs], {
    total,
    label: `compiling ${tool}`,
  });
  for (const name of outNames) renameSync(join(partial, name), binaryPath(name, step.cache));
}

const builders: Record<Tool, (step: Step, version: string) => Promise<void>> = {
  async kubernetes(step, v) {
    const dir = join(step.cache, 'src', `kubernetes-v${v}`);
    writeGoMod(dir, 'local/fedmesh-testbed-kubernetes');
    const replaces = await kubernetesReplaces(step, dir, v);
    writeGoMod(dir, 'local/fedmesh-testbed-kubernetes', replaces);
    const cmds = ['kube-apiserver', 'kube-controller-manager', 'kubectl'] as const;
    const pkgs = cmds.map((c) => `k8s.io/kubernetes/cmd/${c}`);
    step.report(`resolving k8s.io/kubernetes v${v} and its ${replaces.length} staging modules`);
    await step.go(`go get k8s.io/kubernetes@v${v}`, dir, ['get', '-tool', ...pkgs.map((p) => `${p}@v${v}`)]);
    const [major, minor] = v.split('.');
    // Stamp the real version: helm, kubectl's skew check and /version read gitVersion.
    const stamp = (pkg: string) =>
      `-X ${pkg}.gitVersion=v${v} -X ${pkg}.gitMajor=${major} -X ${pkg}.gitMinor=${minor} -X ${pkg}.gitTreeState=clean`;
    const ldflags = `-s -w ${stamp('k8s.io/component-base/version')} ${stamp('k8s.io/client-go/pkg/version')}`;
    await compile(step, 'kubernetes', dir, pkgs, ldflags, [...cmds]);
  },
  async etcd(step, v) {
    const dir = join(step.cache, 'src', `etcd-v${v}`);
    writeGoMod(dir, 'local/fedmesh-testbed-etcd');
    step.report(`resolving go.etcd.io/etcd/server/v3 v${v}`);
    await step.go(`go get etcd@v${v}`, dir, ['get', '-tool', `go.etcd.io/etcd/server/v3@v${v}`]);
    await compile(step, 'etcd', dir, ['go.etcd.io/etcd/server/v3'], '-s -w', ['etcd']);
  },
  async helm(step, v) {
    const dir = join(step.cache, 'src', `helm-v${v}`);
    writeGoMod(dir, 'local/fedmesh-testbed-helm');
    step.report(`resolving helm.sh/helm/v3 v${v}`);
    await step.go(`go get helm@v${v}`, dir, ['get', '-tool', `helm.sh/helm/v3/cmd/helm@v${v}`]);
    const ldflags = `-s -w -X helm.sh/helm/v3/internal/version.version=v${v}`;
    await compile(step, 'helm', dir, ['helm.sh/helm/v3/cmd/helm'], ldflags, ['helm']);
  },
};

const versionArgs: Record<Binary, string[]> = {
  'kube-apiserver': ['--version'],
  'kube-controller-manager': ['--version'],
  kubectl: ['version', '--client'],
  etcd: ['--version'],
  helm: ['version', '--short'],
};

/** The version a binary reports, or undefined when it does not run. */
export function binaryVersion(name: Binary, cache = cacheDir()): string | undefined {
  try {
    const out = execFileSync(binaryPath(name, cache), versionArgs[name], { encoding: 'utf8', timeout: 20_000 });
    const m = /v?(\d+\.\d+\.\d+[\w.+-]*)/.exec(out);
    return m ? `v${m[1]}` : undefined;
  } catch {
    return undefined;
  }
}

function toolBinaries(tool: Tool): Binary[] {
  return (Object.keys(binaries) as Binary[]).filter((b) => binaries[b] === tool);
}

/** The tool's binaries are all there and report one of its candidate versions: nothing to rebuild. */
function builtVersion(tool: Tool, cache: string): string | undefined {
  const versions = toolBinaries(tool).map((b) => binaryVersion(b, cache));
  const first = versions[0];
  if (!first || versions.some((v) => v !== first)) return undefined;
  return (versionCandidates[tool] as readonly string[]).includes(first.slice(1)) ? first.slice(1) : undefined;
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** One build at a time per cache: a second caller waits for the first instead of racing it. */
async function withBuildLock<T>(cache: string, report: Report, fn: () => Promise<T>): Promise<T> {
  mkdirSync(cache, { recursive: true });
  const lock = join(cache, '.build.lock');
  let waited = false;
  for (;;) {
    try {
      writeFileSync(lock, String(process.pid), { flag: 'wx' });
      break;
    } catch {
      const holder = Number(readFileSync(lock, 'utf8').trim());
      if (!Number.isInteger(holder) || holder <= 0 || !processAlive(holder)) {
        rmSync(lock, { force: true }); // left by a build that was killed: take over
        continue;
      }
      if (!waited) report(`another build (pid ${holder}) is running in ${cache}; waiting for it`);
      waited = true;
      await new Promise((r) => setTimeout(r, 2000));
    }
  }
  try {
    return await fn();
  } finally {
    rmSync(lock, { force: true });
  }
}

/**
 * Builds the control plane into the cache once. A warm cache returns after a few stat calls; an
 * interrupted build resumes: finished binaries are kept, the rest is built again (Go's caches make that
 * cheap).
 */
export async function buildControlPlane(
  opts: { cache?: string; report?: Report } = {},
): Promise<{ manifest: BuildManifest; built: boolean }> {
  const cache = opts.cache ?? cacheDir();
  const report = opts.report ?? ((m: string) => console.error(`[testbed build] ${m}`));
  const warm = completeBuild(cache);
  if (warm) return { manifest: warm, built: false };
  const go = goVersion();
  return withBuildLock(cache, report, async () => {
    const again = completeBuild(cache); // another process may have finished while we waited
    if (again) return { manifest: again, built: false };
    mkdirSync(binDir(cache), { recursive: true });
    const step = new Step(cache, report);
    const versions = {} as Record<Tool, string>;
    const fallbacks: string[] = [];
    for (const tool of Object.keys(versionCandidates) as Tool[]) {
      const have = builtVersion(tool, cache);
      if (have) {
        versions[tool] = have;
        report(`${tool} v${have}: already built`);
        continue;
      }
      versions[tool] = await buildFirstAvailable(step, tool, fallbacks);
    }
    const bins = {} as BuildManifest['binaries'];
    for (const name of Object.keys(binaries) as Binary[]) {
      const version = binaryVersion(name, cache);
      if (!version) throw new BuildError(`${name} was built but does not run: see ${join(cache, 'logs')}`);
      const st = statSync(binaryPath(name, cache));
      bins[name] = { size: st.size, mtimeMs: st.mtimeMs, version };
    }
    const manifest: BuildManifest = {
      versions,
      binaries: bins,
      fallbacks,
      goVersion: go,
      builtAt: new Date().toISOString(),
    };
    writeFileSync(`${manifestPath(cache)}.tmp`, `${JSON.stringify(manifest, null, 2)}\n`);
    renameSync(`${manifestPath(cache)}.tmp`, manifestPath(cache));
    report(
      `done: ${Object.entries(bins)
        .map(([n, b]) => `${n} ${b.version}`)
        .join(', ')}`,
    );
    return { manifest, built: true };
  });
}

async function buildFirstAvailable(step: Step, tool: Tool, fallbacks: string[]): Promise<string> {
  const candidates = versionCandidates[tool];
  for (const [i, v] of candidates.entries()) {
    try {
      step.report(`building ${tool} v${v}`);
      await builders[tool](step, v);
      return v;
    } catch (err) {
      const missing = (err as { missingModule?: boolean }).missingModule === true;
      if (!missing || i === candidates.length - 1) {
        const hint = missing
          ? `The Go module proxy lacks a module for every candidate (${candidates.join(', ')}).`
          : 'Check the log above; a network or disk problem can be retried with `fedmesh testbed build`.';
        throw new BuildError(`${(err as Error).message}\n${hint}`);
      }
      const why = tail((err as Error).message, 3);
      fallbacks.push(`${tool} v${v}: ${why}`);
      step.report(`${tool} v${v} cannot be built from the proxy; trying v${candidates[i + 1]}`);
    }
  }
  throw new BuildError(`no version of ${tool} could be built`);
}
