import assert from 'node:assert/strict';
import { test } from 'node:test';
import { KubeApiError, type KubeRestClient } from '../../core/kube/rest-client.js';
import type { SliceBody, SlicePlan, WrittenSlice } from './slice-plan.js';
import { applySlicePlan } from './slice-writer.js';

const port = { name: 'http', port: 80, protocol: 'TCP' as const };
const endpoint = (ip: string) => ({ addresses: [ip], conditions: { ready: true, serving: true, terminating: false } });

function body(name: string, ips: string[]): SliceBody {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { name, namespace: 'shop', labels: {}, ownerReferences: [] },
    addressType: 'IPv4',
    endpoints: ips.map(endpoint),
    ports: [port],
  };
}

function written(name: string, ips: string[]): WrittenSlice {
  return {
    name,
    namespace: 'shop',
    resourceVersion: '7',
    labels: {},
    ownerUid: 'u',
    addressType: 'IPv4',
    endpoints: ips.map(endpoint),
    ports: [port],
  };
}

test('a refused create holds back only the deletions of slices whose endpoints move into it; the others go ahead', async () => {
  const held = new Map([
    ['web-west-old', written('web-west-old', ['10.0.0.1'])],
    ['web-gone-0', written('web-gone-0', ['10.9.9.9'])],
  ]);
  const deleted: string[] = [];
  const refusal = new KubeApiError('POST', '/x', 422, { reason: 'Invalid', message: 'endpoints[0].addresses[0]' });
  const client = {
    create: async () => {
      throw refusal;
    },
    request: async () => ({ statusCode: 200, body: {}, headers: {} }),
    delete: async (path: string) => {
      deleted.push(path.slice(path.lastIndexOf('/') + 1));
      return {};
    },
  } as unknown as KubeRestClient;
  const plan: SlicePlan = {
    create: [body('web-west-new', ['10.0.0.1'])],
    update: [],
    delete: [
      { name: 'web-west-old', resourceVersion: '7' },
      { name: 'web-gone-0', resourceVersion: '7' },
      { name: 'web-unknown', resourceVersion: '7' },
    ],
  };
  const forgotten: string[] = [];
  await assert.rejects(
    applySlicePlan(
      {
        client,
        controller: 'test',
        managedBy: 'fedmesh',
        onStored: () => {},
        onDeleted: (_ns, name) => forgotten.push(name),
        held: (_ns, name) => held.get(name),
      },
      'shop',
      plan,
    ),
    (err) => err === refusal,
    'the failed create is still reported, so that the sync is retried',
  );
  assert.deepEqual(
    deleted,
    ['web-gone-0'],
    'the withdrawn cluster slice goes; the one moving into the failed create stays',
  );
  assert.deepEqual(forgotten, ['web-gone-0']);
});

test('with every write done, every deletion runs', async () => {
  const deleted: string[] = [];
  const client = {
    create: async (_p: string, b: unknown) => b,
    request: async () => ({ statusCode: 200, body: {}, headers: {} }),
    delete: async (path: string) => {
      deleted.push(path.slice(path.lastIndexOf('/') + 1));
      return {};
    },
  } as unknown as KubeRestClient;
  await applySlicePlan(
    {
      client,
      controller: 'test',
      managedBy: 'fedmesh',
      onStored: () => {},
      onDeleted: () => {},
      held: () => undefined,
    },
    'shop',
    {
      create: [body('web-west-new', ['10.0.0.1'])],
      update: [],
      delete: [{ name: 'web-west-old', resourceVersion: '7' }],
    },
  );
  assert.deepEqual(deleted, ['web-west-old']);
});
