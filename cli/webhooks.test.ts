import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { UsageError } from '../core/cli/usage-error.js';
import { policyMain } from './policy.js';
import { webhooksMain } from './webhooks.js';

async function usageError(run: Promise<number>): Promise<string> {
  try {
    await run;
  } catch (err) {
    assert.ok(err instanceof UsageError, String(err));
    return err.message;
  }
  assert.fail('expected a usage error');
}

test('fedmesh webhooks --help documents every flag', async () => {
  const lines: string[] = [];
  const log = console.log;
  console.log = (s: string) => lines.push(s);
  try {
    assert.equal(await webhooksMain(['--help']), 0);
  } finally {
    console.log = log;
  }
  const help = lines.join('\n');
  for (const flag of [
    'cluster-name',
    'kubeconfig',
    'bind-address',
    'tls-cert-file',
    'tls-private-key-file',
    'cert-dir',
    'cert-validity',
    'ca-validity',
    'webhook-service',
    'webhook-configuration',
    'metrics-bind-address',
    'log-level',
  ]) {
    assert.match(help, new RegExp(`--${flag}\\b`), flag);
  }
});

test('fedmesh webhooks refuses unclear certificate and name settings before doing anything', async () => {
  assert.match(await usageError(webhooksMain([])), /--cluster-name is required/);
  assert.match(await usageError(webhooksMain(['--cluster-name=East'])), /not a DNS-1123 label/);
  assert.match(
    await usageError(webhooksMain(['--cluster-name=east'])),
    /give --tls-cert-file and --tls-private-key-file, or --cert-dir/,
  );
  assert.match(await usageError(webhooksMain(['--cluster-name=east', '--tls-cert-file=a'])), /go together/);
  assert.match(
    await usageError(
      webhooksMain(['--cluster-name=east', '--tls-cert-file=a', '--tls-private-key-file=b', '--cert-dir=d']),
    ),
    /not both/,
  );
  assert.match(
    await usageError(webhooksMain(['--cluster-name=east', '--cert-dir=d', '--cert-validity=10ms'])),
    /--cert-validity must be a duration of at least 1s/,
  );
  assert.match(
    await usageError(webhooksMain(['--cluster-name=east', '--cert-dir=d', '--cert-validity=2h', '--ca-validity=1h'])),
    /--ca-validity must not be shorter/,
  );
  assert.match(
    await usageError(webhooksMain(['--cluster-name=east', '--cert-dir=d', '--webhook-service=x'])),
    /NAMESPACE\/NAME/,
  );
});

test('fedmesh policy explain needs a file and the cluster name', async () => {
  assert.match(await usageError(policyMain(['explain'])), /-f FILE is required/);
  assert.match(await usageError(policyMain(['explain', '-f', 'x.yaml'])), /--cluster-name is required/);
  assert.match(
    await usageError(policyMain(['explain', '-f', 'x.yaml', '--cluster-name=east', '-o', 'xml'])),
    /-o must be text or json/,
  );
  assert.match(await usageError(policyMain(['lint'])), /unknown subcommand "lint"/);
});

test('fedmesh policy explain prints the errors of a policy, as admission would, without contacting a cluster', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'fedmesh-explain-'));
  const file = join(dir, 'p.yaml');
  writeFileSync(
    file,
    "apiVersion: fedmesh.io/v1alpha1\nkind: FederatedNetworkPolicy\nmetadata: {name: p}\nspec:\n  selector: app == 'db' &&\n",
  );
  const shapeFile = join(dir, 'shape.yaml');
  writeFileSync(
    shapeFile,
    'apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: p}\nspec:\n  ingress: everyone\n',
  );
  const lines: string[] = [];
  const error = console.error;
  console.error = (s: string) => lines.push(s);
  try {
    const missingKubeconfig = join(dir, 'none');
    assert.equal(
      await policyMain(['explain', '-f', file, '--cluster-name=east', `--kubeconfig=${missingKubeconfig}`]),
      1,
    );
    assert.equal(
      await policyMain(['explain', '-f', shapeFile, '--cluster-name=east', `--kubeconfig=${missingKubeconfig}`]),
      1,
    );
  } finally {
    console.error = error;
  }
  assert.equal(
    lines[0],
    "error: spec.selector: invalid selector at position 14: expected a label, has(…), all(), global(), '!' or '(', found end of selector\n  app == 'db' &&\n                ^",
  );
  assert.equal(lines[1], 'error: document 1: spec.ingress: Invalid value: must be array');
});
