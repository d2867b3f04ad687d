import assert from 'node:assert/strict';
import { test } from 'node:test';
import { expandScenario, ScenarioError, validateScenario } from './scenario.js';

test('counts expand into NAME-i, nodes get consecutive /24s and addresses, pods IPs from their node', () => {
  const x = expandScenario({
    podCIDR: '10.1.0.0/16',
    nodeCIDR: '172.20.0.0/24',
    nodes: [{ name: 'n', count: 2, labels: { zone: 'a' } }],
    pods: [{ namespace: 'shop', name: 'web', count: 3, labels: { app: 'web' } }],
  });
  assert.deepEqual(
    x.nodes.map((n) => [n.name, n.podCIDR, n.internalIP]),
    [
      ['n-0', '10.1.0.0/24', '172.20.0.1'],
      ['n-1', '10.1.1.0/24', '172.20.0.2'],
    ],
  );
  assert.deepEqual(
    x.pods.map((p) => [p.name, p.node, p.ip, p.hostIP, p.phase, p.ready]),
    [
      ['web-0', 'n-0', '10.1.0.1', '172.20.0.1', 'Running', true],
      ['web-1', 'n-1', '10.1.1.1', '172.20.0.2', 'Running', true],
      ['web-2', 'n-0', '10.1.0.2', '172.20.0.1', 'Running', true],
    ],
  );
  assert.deepEqual(x.namespaces, [{ name: 'shop', labels: {} }]);
});

test('explicit IPs are kept and never handed out twice', () => {
  const x = expandScenario({
    nodes: [{ name: 'a', podCIDR: '10.9.0.0/24' }],
    pods: [
      { namespace: 'd', name: 'fixed', node: 'a', ip: '10.9.0.1' },
      { namespace: 'd', name: 'auto', node: 'a' },
    ],
  });
  assert.deepEqual(
    x.pods.map((p) => p.ip),
    ['10.9.0.1', '10.9.0.2'],
  );
  assert.throws(
    () =>
      expandScenario({
        nodes: [{ name: 'a', podCIDR: '10.9.0.0/24' }],
        pods: [
          { namespace: 'd', name: 'x', node: 'a', ip: '10.9.0.7' },
          { namespace: 'd', name: 'y', node: 'a', ip: '10.9.0.7' },
        ],
      }),
    /IP 10\.9\.0\.7 is already used/,
  );
});

test('a pod on a node outside the scenario needs an explicit IP', () => {
  assert.throws(
    () => expandScenario({ pods: [{ namespace: 'd', name: 'p', node: 'elsewhere' }] }),
    (err: unknown) => err instanceof ScenarioError && /node "elsewhere" is not in this scenario/.test(err.message),
  );
  const x = expandScenario({ pods: [{ namespace: 'd', name: 'p', node: 'elsewhere', ip: '10.0.0.9' }] });
  assert.equal(x.pods[0]?.ip, '10.0.0.9');
});

test('a full pod CIDR is an error naming the node and the pod', () => {
  assert.throws(
    () =>
      expandScenario({
        nodes: [{ name: 'small', podCIDR: '10.0.0.0/30' }],
        pods: [{ namespace: 'd', name: 'p', count: 3 }],
      }),
    /node small: pod CIDR 10\.0\.0\.0\/30 is full at pod d\/p-2/,
  );
});

test('pending pods without a node get no IP; host-network pods take the node address', () => {
  const x = expandScenario({
    nodes: [{ name: 'a' }],
    pods: [
      { namespace: 'd', name: 'hn', node: 'a', hostNetwork: true },
      { namespace: 'd', name: 'pend', phase: 'Pending' },
    ],
  });
  assert.equal(x.pods[0]?.ip, x.nodes[0]?.internalIP);
  assert.equal(x.pods[1]?.ip, undefined);
  assert.equal(x.pods[1]?.ready, false);
});

test('schema errors list every problem with its path', () => {
  assert.throws(
    () => validateScenario({ pods: [{ name: 'x', colour: 'red' }], nodes: [{ name: 'n', count: 0 }] }),
    (err: unknown) =>
      err instanceof ScenarioError &&
      /pods\.0: must have required property 'namespace'/.test(err.message) &&
      /pods\.0: must NOT have additional properties "colour"/.test(err.message) &&
      /nodes\.0\.count: must be >= 1/.test(err.message),
  );
  assert.throws(() => expandScenario({ podCIDR: '10.0.0.1/16' }), /host bits set/);
});

test('10k pods over 100 nodes get 10k distinct IPs', () => {
  const x = expandScenario({
    nodes: [{ name: 'n', count: 100 }],
    pods: [{ namespace: 'd', name: 'p', count: 10_000 }],
  });
  assert.equal(new Set(x.pods.map((p) => p.ip)).size, 10_000);
  assert.equal(new Set(x.pods.map((p) => p.node)).size, 100);
});
