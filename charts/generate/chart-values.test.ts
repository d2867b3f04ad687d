// values.yaml and values.schema.json describe the same values: every value is typed and documented in both, and
// the defaults pass the schema (Helm checks values against it on install, upgrade, template and lint).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import Ajv from 'ajv';
import yaml from 'js-yaml';

const chart = join(fileURLToPath(import.meta.url), '..', '..', '..', '..', 'charts', 'fedmesh');
const valuesText = readFileSync(join(chart, 'values.yaml'), 'utf8');
const values = yaml.load(valuesText) as Record<string, unknown>;

interface SchemaNode {
  type?: string;
  description?: string;
  properties?: Record<string, SchemaNode>;
  additionalProperties?: boolean | SchemaNode;
}
const schema = JSON.parse(readFileSync(join(chart, 'values.schema.json'), 'utf8')) as SchemaNode;

/** Paths of the values the schema types one by one (objects with fixed properties are walked into). */
function schemaLeaves(node: SchemaNode, path: string[] = []): string[] {
  if (!node.properties) return [path.join('.')];
  return Object.entries(node.properties).flatMap(([k, v]) => schemaLeaves(v, [...path, k]));
}

/** Paths of values.yaml down to the schema's leaves. */
function valueLeaves(v: unknown, node: SchemaNode | undefined, path: string[] = []): string[] {
  if (!node?.properties || v === null || typeof v !== 'object' || Array.isArray(v)) return [path.join('.')];
  return Object.entries(v as Record<string, unknown>).flatMap(([k, x]) =>
    valueLeaves(x, node.properties?.[k], [...path, k]),
  );
}

/** Each key line of values.yaml with its dotted path and the comment block right above it. */
function keyComments(text: string): Map<string, string> {
  const out = new Map<string, string>();
  const stack: { indent: number; key: string }[] = [];
  let comment: string[] = [];
  for (const line of text.split('\n')) {
    const c = /^\s*# ?(.*)$/.exec(line);
    if (c) {
      comment.push(c[1] ?? '');
      continue;
    }
    const m = /^(\s*)([A-Za-z0-9_.-]+):/.exec(line);
    if (m) {
      const indent = (m[1] ?? '').length;
      while (stack.length > 0 && (stack.at(-1)?.indent ?? 0) >= indent) stack.pop();
      stack.push({ indent, key: m[2] ?? '' });
      out.set(stack.map((s) => s.key).join('.'), comment.join(' '));
    }
    comment = [];
  }
  return out;
}

test('the default values pass the schema', () => {
  const validate = new Ajv.default({ allErrors: true, strict: false }).compile(schema);
  assert.ok(validate(values), JSON.stringify(validate.errors, null, 2));
});

test('every value in values.yaml is in the schema, and every schema value is in values.yaml', () => {
  const inSchema = schemaLeaves(schema).filter((p) => p !== 'global');
  const inValues = valueLeaves(values, schema);
  assert.deepEqual([...inValues].sort(), [...inSchema].sort());
});

test('every value has a description in the schema and a "# --" comment in values.yaml', () => {
  const comments = keyComments(valuesText);
  const missing: string[] = [];
  const walk = (node: SchemaNode, path: string[]) => {
    if (path.length > 0 && !node.description) missing.push(`schema ${path.join('.')}`);
    if (node.properties) for (const [k, v] of Object.entries(node.properties)) walk(v, [...path, k]);
    else if (path.length > 0 && path[0] !== 'global' && !/^-- \S/.test(comments.get(path.join('.')) ?? '')) {
      missing.push(`values.yaml ${path.join('.')}`);
    }
  };
  walk(schema, []);
  assert.deepEqual(missing, []);
});

test('every object in the schema with fixed properties refuses unknown ones (a typo fails the install)', () => {
  const open: string[] = [];
  const walk = (node: SchemaNode, path: string[]) => {
    if (node.properties && node.additionalProperties !== false) open.push(path.join('.') || '(root)');
    for (const [k, v] of Object.entries(node.properties ?? {})) walk(v, [...path, k]);
  };
  walk(schema, []);
  assert.deepEqual(open, []);
});

test('the schema refuses a wrong type, an unknown key and a bad cluster name', () => {
  const validate = new Ajv.default({ allErrors: true, strict: false }).compile(schema);
  const bad = (patch: Record<string, unknown>) => !validate({ ...values, ...patch });
  assert.ok(bad({ server: { ...(values.server as object), replicas: 'two' } }));
  assert.ok(bad({ sever: {} }));
  assert.ok(bad({ cluster: { name: 'east.example' } }));
  assert.ok(bad({ tls: { ...(values.tls as object), mode: 'self-signed' } }));
});
