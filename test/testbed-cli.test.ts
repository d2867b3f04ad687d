// `fedmesh testbed` as a user runs it: bad input gets a clear message and leaves no process behind.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { binaryPath, completeBuild } from './testbed/build.js';
import { repoRoot } from './testbed/harness.js';
import { isRunning } from './testbed/processes.js';
import { runCommand } from './testbed/run-command.js';
import type { ProcessStatus } from './testbed/status.js';
import { cacheDir } from './testbed/versions.js';

const fedmesh = join(repoRoot, 'bin', 'fedmesh.js');

function cli(args: string[], env: NodeJS.ProcessEnv = {}) {
  return runCommand(process.execPath, [fedmesh, 'testbed', ...args], { env: { ...process.env, ...env } });
}

function scratch(name: string): string {
  const d = join(repoRoot, '.testbed', 'e2e', `${name}-${process.pid}`);
  rmSync(d, { recursive: true, force: true });
  mkdirSync(d, { recursive: true });
  return d;
}

/** Pids of processes whose command line mentions `needle` (our processes carry their testbed dir in it). */
function processesMentioning(needle: string): number[] {
  const pids: number[] = [];
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e) || Number(e) === process.pid) continue;
    try {
      if (readFileSync(`/proc/${e}/cmdline`, 'utf8').includes(needle)) pids.push(Number(e));
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}

/** argv[0] of a live process, so that isRunning checks the process itself (a zombie or a gone pid is not running). */
function argvOf(pid: number): string[] {
  try {
    return [readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')[0] ?? ''];
  } catch {
    return [''];
  }
}

describe('usage errors', () => {
  test('an unknown subcommand exits 2 and lists the subcommands', async () => {
    const r = await cli(['frobnicate']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /unknown subcommand "frobnicate" \(one of: build, up, seed, deploy, netns, status, down\)/);
  });

  test('an unknown flag exits 2 and names it', async () => {
    const r = await cli(['up', '--clustrs', 'east']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /unknown flag '--clustrs'/);
    assert.match(r.stderr, /fedmesh testbed up --help/);
  });

  test('a cluster name that is not a DNS label is refused before anything starts', async () => {
    const dir = scratch('badname');
    const r = await cli(['up', '--clusters', 'east,West_1'], { FEDMESH_TESTBED_DIR: dir });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /cluster name "West_1" is not a DNS-1123 label/);
    assert.equal(existsSync(join(dir, 'state.json')), false);
    const dup = await cli(['up', '--clusters', 'east,east'], { FEDMESH_TESTBED_DIR: dir });
    assert.match(dup.stderr, /cluster name "east" is given twice/);
  });

  test('seed without a running testbed says how to start one', async () => {
    const dir = scratch('noseed');
    const f = join(dir, 's.yaml');
    writeFileSync(f, 'pods: []\n');
    const r = await cli(['seed', '--cluster', 'east', '--file', f], { FEDMESH_TESTBED_DIR: dir });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /no testbed is running in .*: start one with `fedmesh testbed up`/);
  });
});

describe('build', () => {
  test('a missing Go toolchain is named, with what to do', async () => {
    const cache = mkdtempSync(join(tmpdir(), 'fedmesh-nogo-'));
    try {
      const r = await cli(['build'], { FEDMESH_TESTBED_CACHE: cache, PATH: '/nonexistent' });
      assert.equal(r.code, 1);
      assert.match(r.stderr, /the Go toolchain \(`go`\) is not on PATH/);
      assert.match(r.stderr, /Install Go 1\.24 or newer/);
    } finally {
      rmSync(cache, { recursive: true, force: true });
    }
  });

  test('a warm build returns at once', async () => {
    const before = completeBuild(cacheDir());
    const r = await cli(['build']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /already built/);
    assert.match(r.stdout, /kube-apiserver\s+v1\.3[67]\.\d+/);
    // Nothing was rebuilt: the manifest is the same one, binaries untouched.
    assert.deepEqual(completeBuild(cacheDir()), before);
  });

  test('a half-built cache resumes: finished binaries are kept, the missing one is rebuilt', async () => {
    const real = cacheDir();
    assert.ok(completeBuild(real), 'the real cache is complete (built by the test command)');
    const copy = join(repoRoot, '.testbed', 'e2e', `cache-copy-${process.pid}`);
    rmSync(copy, { recursive: true, force: true });
    mkdirSync(copy, { recursive: true });
    try {
      // Hard links: a 400 MB cache copied in milliseconds. Then break it as an interrupted build would.
      execFileSync('cp', ['-al', join(real, 'bin'), join(copy, 'bin')]);
      rmSync(join(copy, 'bin', 'helm'));
      mkdirSync(join(copy, 'bin', '.partial'), { recursive: true });
      writeFileSync(join(copy, 'bin', '.partial', 'helm'), 'half-written');
      const r = await cli(['build'], { FEDMESH_TESTBED_CACHE: copy });
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stderr, /kubernetes v1\.3[67]\.\d+: already built/);
      assert.match(r.stderr, /etcd v3\.6\.\d+: already built/);
      assert.match(r.stderr, /building helm v3\.\d+\.\d+/);
      assert.match(r.stdout, /helm\s+v3\.\d+\.\d+/);
      assert.ok(completeBuild(copy), 'the manifest describes the resumed cache');
      assert.match(execFileSync(binaryPath('helm', copy), ['version', '--short'], { encoding: 'utf8' }), /^v3\./);
    } finally {
      rmSync(copy, { recursive: true, force: true });
    }
  });
});

describe('lifecycle', () => {
  test('a kube-apiserver that dies during up: clear message, its log, and nothing left running', async () => {
    const dir = scratch('dies');
    const r = await cli(['up', '--clusters', 'solo', '--apiserver-arg=--no-such-flag=1'], { FEDMESH_TESTBED_DIR: dir });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /kube-apiserver of solo exited with code \d+ while the testbed was starting/);
    assert.match(r.stderr, /unknown flag: --no-such-flag/);
    assert.equal(existsSync(join(dir, 'state.json')), false);
    assert.deepEqual(processesMentioning(dir), []);
  });

  test('up, up again, status, down', async () => {
    const dir = scratch('lifecycle');
    try {
      const first = await cli(['up', '--clusters', 'alpha'], { FEDMESH_TESTBED_DIR: dir });
      assert.equal(first.code, 0, first.stderr);
      assert.match(first.stdout, /testbed up in [\d.]+s with 1 clusters/);
      assert.ok(existsSync(join(dir, 'alpha.kubeconfig')));

      const second = await cli(['up', '--clusters', 'alpha'], { FEDMESH_TESTBED_DIR: dir });
      assert.equal(second.code, 1);
      assert.match(second.stderr, /a testbed is already running .*clusters: alpha/);

      const status = await cli(['status', '-o', 'json'], { FEDMESH_TESTBED_DIR: dir });
      const rows = JSON.parse(status.stdout) as ProcessStatus[];
      assert.deepEqual(rows.map((x) => `${x.cluster ?? '-'}/${x.component}`).sort(), [
        '-/etcd',
        'alpha/kube-apiserver',
        'alpha/kube-controller-manager',
        'alpha/kubelet-sim',
      ]);
      assert.ok(rows.every((x) => x.running && x.pid > 0 && x.version.startsWith('v')));
      assert.ok(rows.find((x) => x.component === 'kube-apiserver')?.port);
      const table = await cli(['status'], { FEDMESH_TESTBED_DIR: dir });
      assert.match(table.stdout, /CLUSTER\s+COMPONENT\s+PID\s+PORT\s+VERSION\s+STATE/);

      const d = await cli(['down'], { FEDMESH_TESTBED_DIR: dir });
      assert.equal(d.code, 0, d.stderr);
      assert.match(d.stdout, /stopped 4 processes/);
      for (const x of rows)
        assert.equal(isRunning({ pid: x.pid, argv: argvOf(x.pid) }), false, `${x.component} still runs`);
      assert.equal(existsSync(join(dir, 'state.json')), false);
      assert.equal(existsSync(join(dir, 'alpha.kubeconfig')), false);
    } finally {
      await cli(['down'], { FEDMESH_TESTBED_DIR: dir });
    }
  });
});
