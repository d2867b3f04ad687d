import assert from 'node:assert/strict';
import { test } from 'node:test';
import { agentAccessManifests, agentClusterRoleRules } from './access.js';
import { watchedPaths } from './agent.js';

test('the agent ClusterRole lets it list and watch every collection it watches, and nothing it does not read', () => {
  const rules = agentClusterRoleRules();
  for (const path of Object.values(watchedPaths)) {
    const parts = path.split('/');
    const group = parts[1] === 'api' ? '' : (parts[2] ?? '');
    const resource = parts.at(-1) ?? '';
    const rule = rules.find((r) => r.apiGroups?.includes(group) && r.resources?.includes(resource));
    assert.ok(rule, `no rule for ${group}/${resource}`);
    for (const verb of ['list', 'watch']) assert.ok(rule.verbs?.includes(verb), `${verb} ${group}/${resource}`);
  }
  // The only write: its own Node's VTEP annotations.
  const writes = rules.filter((r) => r.verbs?.some((v) => !['get', 'list', 'watch'].includes(v)));
  assert.deepEqual(writes, [{ apiGroups: [''], resources: ['nodes'], verbs: ['get', 'list', 'watch', 'patch'] }]);
});

test('the manifests bind the ClusterRole to the agent ServiceAccount in the given namespace', () => {
  const m = agentAccessManifests('fedmesh-system', { tokenSecret: true });
  assert.deepEqual(
    m.map((x) => x.kind),
    ['Namespace', 'ServiceAccount', 'ClusterRole', 'ClusterRoleBinding', 'Secret'],
  );
  const binding = m.find((x) => x.kind === 'ClusterRoleBinding') as unknown as { subjects: unknown[] };
  assert.deepEqual(binding.subjects, [{ kind: 'ServiceAccount', name: 'fedmesh-agent', namespace: 'fedmesh-system' }]);
});
