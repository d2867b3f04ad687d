import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fnpCrd } from './fnp-crd.js';

// A structural schema (apiextensions rules): every node says its type, unless it is int-or-string.
function unstructured(node: unknown, path: string, out: string[]): void {
  if (typeof node !== 'object' || node === null) return;
  const n = node as Record<string, unknown>;
  if (n.type === undefined && n['x-kubernetes-int-or-string'] !== true) out.push(path);
  for (const [k, v] of Object.entries((n.properties as Record<string, unknown>) ?? {}))
    unstructured(v, `${path}.${k}`, out);
  if (n.items !== undefined) unstructured(n.items, `${path}[]`, out);
}

test('the FNP CRD: namespaced fedmesh.io/v1alpha1, short name fnp, category fedmesh, printer columns', () => {
  assert.equal(fnpCrd.metadata.name, 'federatednetworkpolicies.fedmesh.io');
  assert.equal(fnpCrd.spec.scope, 'Namespaced');
  assert.deepEqual(fnpCrd.spec.names.shortNames, ['fnp']);
  assert.deepEqual(fnpCrd.spec.names.categories, ['fedmesh']);
  const v = fnpCrd.spec.versions[0];
  assert.equal(v.name, 'v1alpha1');
  assert.deepEqual(
    v.additionalPrinterColumns.map((c) => c.name),
    ['Order', 'Selector', 'Types', 'Age'],
  );
});

test('the FNP schema is structural', () => {
  const out: string[] = [];
  unstructured(fnpCrd.spec.versions[0].schema.openAPIV3Schema, '', out);
  assert.deepEqual(out, []);
});
