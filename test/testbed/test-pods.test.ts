import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isHelmTestPod, launchOf, type TestPod } from './test-pods.js';

const pod: TestPod = {
  metadata: { name: 'check', namespace: 'fedmesh-system', uid: 'u1', annotations: { 'helm.sh/hook': 'test' } },
  spec: {
    serviceAccountName: 'fedmesh-test',
    containers: [
      {
        command: ['node', '-e'],
        args: ['console.log(1)'],
        env: [
          { name: 'POD_NAMESPACE', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } },
          { name: 'CLUSTER_NAME', value: 'east' },
        ],
        volumeMounts: [
          { name: 'tls', mountPath: '/etc/tls' },
          { name: 'kube-api-access', mountPath: '/var/run/secrets/kubernetes.io/serviceaccount' },
        ],
      },
    ],
    volumes: [{ name: 'tls' }, { name: 'kube-api-access', projected: { sources: [] } }],
  },
};

test('a test pod runs its command and args with its env, the API server variables and the token mount', () => {
  const l = launchOf(pod, { host: '127.0.0.1', port: '6443' });
  assert.deepEqual(l.argv, ['node', '-e', 'console.log(1)']);
  assert.deepEqual(l.env, {
    KUBERNETES_SERVICE_HOST: '127.0.0.1',
    KUBERNETES_SERVICE_PORT: '6443',
    POD_NAMESPACE: 'fedmesh-system',
    CLUSTER_NAME: 'east',
  });
  assert.equal(l.tokenMountPath, '/var/run/secrets/kubernetes.io/serviceaccount');
});

test('what the stand-in cannot do is an error, not a silent difference', () => {
  const c = pod.spec.containers[0];
  assert.ok(c);
  const noCommand = { ...pod, spec: { ...pod.spec, containers: [{ ...c, command: [], args: [] }] } };
  assert.throws(() => launchOf(noCommand, { host: 'h', port: '1' }), /explicit command/);
  const nodeRef = {
    ...pod,
    spec: {
      ...pod.spec,
      containers: [{ ...c, env: [{ name: 'N', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } }] }],
    },
  };
  assert.throws(() => launchOf(nodeRef, { host: 'h', port: '1' }), /fieldRef spec.nodeName/);
});

test('only Helm test hooks are run', () => {
  assert.equal(isHelmTestPod(pod), true);
  assert.equal(isHelmTestPod({ ...pod, metadata: { ...pod.metadata, annotations: {} } }), false);
});
