#!/usr/bin/env node
// The one test command (README, .ci/run): installs what is missing, compiles, lints, runs the unit tests,
// builds the real control plane into its cache if needed, then runs the end-to-end tests against it.
//   node scripts/test.mjs            everything
//   node scripts/test.mjs --unit     unit tests only (no control plane)
//   node scripts/test.mjs --e2e      end-to-end tests only
//   node scripts/test.mjs FILE...    only these compiled or source test files
//   FEDMESH_E2E_JOBS=1 ...           e2e files one by one (default: two at a time)
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, relative } from 'node:path';
import { ensureAll, root } from './ensure-deps.mjs';

const args = process.argv.slice(2);
const only = args.filter((a) => !a.startsWith('--'));
const wantUnit = !args.includes('--e2e');
const wantE2e = !args.includes('--unit');

function findTests(dir) {
  const out = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...findTests(p));
    else if (name.endsWith('.test.js')) out.push(p);
  }
  return out.sort();
}

function toCompiled(file) {
  const rel = relative(root, join(process.cwd(), file)).replace(/\.ts$/, '.js');
  return rel.startsWith('dist/') ? join(root, rel) : join(root, 'dist', rel);
}

function reporterArgs(countFile) {
  return [
    '--test-reporter=spec',
    '--test-reporter-destination=stdout',
    `--test-reporter=${join(root, 'scripts', 'count-reporter.mjs')}`,
    `--test-reporter-destination=${countFile}`,
  ];
}

function readCounts(countFile, status, label) {
  let counts = { passed: 0, failed: 1, skipped: 0 };
  try {
    counts = JSON.parse(readFileSync(countFile, 'utf8'));
  } catch {
    console.error(`[test] ${label}: the runner wrote no counts (exit ${status})`);
  }
  if (status !== 0 && counts.failed === 0) counts.failed = 1;
  return counts;
}

function runSuite(name, files, extra) {
  if (files.length === 0) return { passed: 0, failed: 0, skipped: 0 };
  const countFile = join(mkdtempSync(join(tmpdir(), 'fedmesh-test-')), 'counts.json');
  console.error(`\n[test] ${name}: ${files.length} files`);
  const res = spawnSync(
    process.execPath,
    ['--enable-source-maps', '--test', ...extra, ...reporterArgs(countFile), ...files],
    { cwd: root, stdio: 'inherit' },
  );
  return readCounts(countFile, res.status, name);
}

/** One e2e file in its own test runner; its output is printed whole when it ends, so files never interleave. */
function runE2eFile(file, slot) {
  const countFile = join(mkdtempSync(join(tmpdir(), 'fedmesh-test-')), 'counts.json');
  const started = Date.now();
  return new Promise((resolve) => {
    const child = spawn(
      process.execPath,
      ['--enable-source-maps', '--test', '--test-timeout=600000', ...reporterArgs(countFile), file],
      // Each runner its own range of ports for the servers its testbeds start (test/testbed/processes.ts freePort).
      { cwd: root, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, FEDMESH_PORT_SLOT: String(slot) } },
    );
    const out = [];
    child.stdout.on('data', (d) => out.push(d));
    child.stderr.on('data', (d) => out.push(d));
    child.on('close', (code) => {
      const seconds = (Date.now() - started) / 1000;
      const label = relative(join(root, 'dist'), file).replace(/\.js$/, '.ts');
      process.stdout.write(`\n[test] ===== ${label} (${seconds.toFixed(1)} s) =====\n`);
      process.stdout.write(Buffer.concat(out));
      resolve({ label, seconds, counts: readCounts(countFile, code, label) });
    });
  });
}

/** Runs e2e files `jobs` at a time, longest first (by the order given); prints each file's time at the end. */
async function runE2e(files, jobs) {
  console.error(`\n[test] e2e: ${files.length} files, ${jobs} at a time`);
  const queue = [...files];
  const results = [];
  await Promise.all(
    Array.from({ length: Math.min(jobs, files.length) }, async (_, slot) => {
      for (let f = queue.shift(); f; f = queue.shift()) results.push(await runE2eFile(f, slot));
    }),
  );
  const counts = { passed: 0, failed: 0, skipped: 0 };
  console.log('\n[test] e2e files by time:');
  for (const r of results.sort((a, b) => b.seconds - a.seconds)) {
    console.log(`  ${r.seconds.toFixed(1).padStart(6)} s  ${r.counts.failed > 0 ? 'FAIL' : 'ok  '}  ${r.label}`);
    counts.passed += r.counts.passed;
    counts.failed += r.counts.failed;
    counts.skipped += r.counts.skipped;
  }
  return counts;
}

function isAlive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Stops the testbeds of e2e runs that were killed before their own teardown (their processes are detached). */
function sweepE2eTestbeds() {
  const base = join(root, '.testbed', 'e2e');
  if (!existsSync(base)) return;
  for (const name of readdirSync(base)) {
    const dir = join(base, name);
    // Directories are named <test>-<pid>: leave those of test processes that still run (another run's).
    const owner = Number(/-(\d+)$/.exec(name)?.[1]);
    if (owner && isAlive(owner)) continue;
    if (existsSync(join(dir, 'state.json'))) {
      spawnSync(process.execPath, [join(root, 'bin', 'fedmesh.js'), 'testbed', 'down'], {
        cwd: root,
        stdio: 'inherit',
        env: { ...process.env, FEDMESH_TESTBED_DIR: dir },
      });
    }
    rmSync(dir, { recursive: true, force: true });
  }
}

ensureAll();
const lint = spawnSync(join(root, 'node_modules', '.bin', 'biome'), ['check', '.'], { cwd: root, stdio: 'inherit' });
if (lint.status !== 0) {
  console.error('[test] lint failed: run `npm run format` to fix formatting, then fix what remains');
  process.exit(1);
}

// Only compiled tests whose source still exists: tsc never deletes dist/ output, so a test removed or renamed would
// otherwise keep running in a long-lived checkout.
const hasSource = (f) => existsSync(join(root, relative(join(root, 'dist'), f)).replace(/\.js$/, '.ts'));
const all = findTests(join(root, 'dist')).filter(hasSource);
// End-to-end tests are the files directly in test/; unit tests sit beside their code (test/testbed/ included).
const isE2e = (f) => /^test\/[^/]+\.test\.js$/.test(relative(join(root, 'dist'), f));
const selected = only.length > 0 ? only.map(toCompiled) : all;
const unit = wantUnit ? selected.filter((f) => !isE2e(f)) : [];
// The longest e2e files first (as measured in CI runs: about 2 min each), so that two runners end close together;
// the others follow in name order. About 20 s less than name order alone.
const longestE2e = ['federated-services', 'federation-deploy', 'apiserver', 'federation-faults'];
const e2eRank = (f) => {
  const i = longestE2e.indexOf(basename(f, '.test.js'));
  return i === -1 ? longestE2e.length : i;
};
const e2e = wantE2e ? selected.filter(isE2e).sort((a, b) => e2eRank(a) - e2eRank(b)) : [];

const total = { passed: 0, failed: 0, skipped: 0 };
const add = (c) => {
  total.passed += c.passed;
  total.failed += c.failed;
  total.skipped += c.skipped;
};
// Two at a time: most of a unit file's time is its process starting, which overlaps well on 2 cores.
add(runSuite('unit', unit, ['--test-concurrency=2']));
if (e2e.length > 0) {
  // The e2e tests need the real control plane: build it once into its cache (a no-op when warm).
  const b = spawnSync(process.execPath, [join(root, 'bin', 'fedmesh.js'), 'testbed', 'build'], {
    cwd: root,
    stdio: 'inherit',
  });
  if (b.status !== 0) {
    console.error('[test] the control plane could not be built: end-to-end tests not run');
    total.failed += 1;
  } else {
    sweepE2eTestbeds();
    // Two files at a time (each has its own testbed): most of an e2e file's time is waiting for clusters, so two
    // overlap well on 2 cores. FEDMESH_E2E_JOBS=1 runs them one by one (a slow or busy machine).
    const jobs = Number(process.env.FEDMESH_E2E_JOBS ?? 2);
    add(await runE2e(e2e, Number.isInteger(jobs) && jobs > 0 ? jobs : 1));
    sweepE2eTestbeds();
  }
}
console.log(`\ntests: ${total.passed} passed, ${total.failed} failed, ${total.skipped} skipped`);
process.exit(total.failed > 0 ? 1 : 0);
