// The README, the chart's README and docs/ stand on their own: every link resolves to a file of this repository, nothing points
// outside it, and no text refers to material that only the project's authors have.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const documents = [
  'README.md',
  'charts/fedmesh/README.md',
  ...readdirSync(join(repoRoot, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .map((f) => `docs/${f}`),
];

/** The targets of inline Markdown links and images, with their line numbers; code spans and blocks are skipped. */
export function markdownLinks(text: string): { target: string; line: number }[] {
  const out: { target: string; line: number }[] = [];
  let fenced = false;
  text.split('\n').forEach((raw, i) => {
    if (/^\s*(```|~~~)/.test(raw)) fenced = !fenced;
    if (fenced) return;
    const line = raw.replace(/`[^`]*`/g, '');
    for (const m of line.matchAll(/!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)) {
      if (m[1]) out.push({ target: m[1], line: i + 1 });
    }
  });
  return out;
}

/** What is wrong with one link of `doc` (a path relative to the repository), or undefined. */
export function linkProblem(doc: string, target: string, root = repoRoot): string | undefined {
  if (/^[a-z][a-z0-9+.-]*:/i.test(target)) return 'points outside the repository';
  const path = target.split('#')[0] ?? '';
  if (path === '') return undefined; // an anchor in the same document
  const abs = resolve(root, dirname(doc), decodeURIComponent(path));
  const rel = relative(root, abs);
  if (rel.startsWith('..')) return 'points outside the repository';
  if (!existsSync(abs)) return `no such file ${rel}`;
  return undefined;
}

test('every link in the README and docs/ resolves to a file inside the repository', () => {
  const problems: string[] = [];
  for (const doc of documents) {
    for (const { target, line } of markdownLinks(readFileSync(join(repoRoot, doc), 'utf8'))) {
      const p = linkProblem(doc, target);
      if (p) problems.push(`${doc}:${line}: ${target}: ${p}`);
    }
  }
  assert.deepEqual(problems, []);
});

test('the README and docs/ cite nothing outside the repository', () => {
  const problems: string[] = [];
  for (const doc of documents) {
    readFileSync(join(repoRoot, doc), 'utf8')
      .split('\n')
      .forEach((line, i) => {
        for (const bad of [/\.\.\/shared\b/, /\breference\/[a-z-]+\.md\b/, /\bissue #?\d+\b/i, /\bDESIGN\.md\b/]) {
          if (bad.test(line) && !/Code comments that cite `DESIGN\.md/.test(line)) {
            problems.push(`${doc}:${i + 1}: ${line.trim()}`);
          }
        }
      });
  }
  assert.deepEqual(problems, []);
});

test('the link checker finds broken and outside links, and ignores code', () => {
  const links = markdownLinks(
    '[a](docs/x.md) ![i](img.png "t") `[no](code.md)`\n```\n[no](fenced.md)\n```\n[b](https://example.com) [c](#top)',
  );
  assert.deepEqual(
    links.map((l) => l.target),
    ['docs/x.md', 'img.png', 'https://example.com', '#top'],
  );
  assert.equal(linkProblem('README.md', 'https://example.com'), 'points outside the repository');
  assert.equal(linkProblem('README.md', '../elsewhere/NOTES.md'), 'points outside the repository');
  assert.equal(linkProblem('docs/architecture.md', '../README.md'), undefined);
  assert.equal(linkProblem('README.md', 'docs/missing.md'), 'no such file docs/missing.md');
  assert.equal(linkProblem('README.md', '#layout'), undefined);
});
