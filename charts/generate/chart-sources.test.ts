import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import yaml from 'js-yaml';
import { remoteAccessClusterRole } from '../../federation/remote-access.js';
import { serverAccessManifests } from '../../federation/server-access.js';
import { chartDir, generatedChartFiles } from './chart-sources.js';
import { chartDrift, writeChartFiles } from './main.js';

test('the committed chart files are the generated ones (run `npm run chart:generate` after changing a source)', () => {
  assert.deepEqual(chartDrift(), []);
});

test('drift is found: a changed, a missing and a stale generated file', () => {
  const root = mkdtempSync(join(tmpdir(), 'chart-gen-'));
  assert.ok(writeChartFiles(root).length > 0);
  assert.deepEqual(chartDrift(root), []);
  const rbac = join(root, chartDir, 'files/generated/rbac.yaml');
  writeFileSync(rbac, `${readFileSync(rbac, 'utf8')}# edited\n`);
  writeFileSync(join(root, chartDir, 'crds/old.yaml'), 'kind: CustomResourceDefinition\n');
  assert.deepEqual(chartDrift(root), [`${chartDir}/crds/old.yaml`, `${chartDir}/files/generated/rbac.yaml`]);
});

test('the generated rule sets are the TypeScript ones', () => {
  const rbac = yaml.load(generatedChartFiles().get(`${chartDir}/files/generated/rbac.yaml`) ?? '') as Record<
    string,
    unknown
  >;
  const server = serverAccessManifests('any');
  assert.deepEqual(rbac.serverCluster, server.find((m) => m.kind === 'ClusterRole')?.rules);
  assert.deepEqual(rbac.serverNamespace, server.find((m) => m.kind === 'Role')?.rules);
  assert.deepEqual(rbac.remoteAccess, remoteAccessClusterRole().rules);
});

test('every CRD file holds one CustomResourceDefinition named after its file', () => {
  for (const [path, content] of generatedChartFiles()) {
    if (!path.startsWith(`${chartDir}/crds/`)) continue;
    const crd = yaml.load(content) as { kind: string; metadata: { name: string } };
    assert.equal(crd.kind, 'CustomResourceDefinition');
    assert.equal(path, `${chartDir}/crds/${crd.metadata.name}.yaml`);
  }
});
