// `npm run chart:generate`: writes the chart's generated files (chart-sources.ts) and removes stale ones.
// `--check` writes nothing and exits 1 when the committed files differ.
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generatedChartFiles, generatedDirs } from './chart-sources.js';

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

/** Paths (relative to the repository) whose content differs from the generated one, missing or stale. */
export function chartDrift(root = repoRoot): string[] {
  const want = generatedChartFiles();
  const drift: string[] = [];
  for (const [path, content] of want) {
    const abs = join(root, path);
    if (!existsSync(abs) || readFileSync(abs, 'utf8') !== content) drift.push(path);
  }
  for (const dir of generatedDirs) {
    if (!existsSync(join(root, dir))) continue;
    for (const name of readdirSync(join(root, dir))) {
      if (!want.has(`${dir}/${name}`)) drift.push(`${dir}/${name}`);
    }
  }
  return drift.sort();
}

export function writeChartFiles(root = repoRoot): string[] {
  const drift = chartDrift(root);
  const want = generatedChartFiles();
  for (const path of drift) {
    const content = want.get(path);
    const abs = join(root, path);
    if (content === undefined) rmSync(abs);
    else {
      mkdirSync(dirname(abs), { recursive: true });
      writeFileSync(abs, content);
    }
  }
  return drift;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  if (process.argv.includes('--check')) {
    const drift = chartDrift();
    if (drift.length > 0) {
      console.error(`chart files out of date (run npm run chart:generate):\n  ${drift.join('\n  ')}`);
      process.exit(1);
    }
  } else {
    const changed = writeChartFiles();
    console.log(changed.length ? `updated:\n  ${changed.join('\n  ')}` : 'chart files up to date');
  }
}
