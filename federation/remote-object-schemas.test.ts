import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { V1Pod } from '@kubernetes/client-node';
import fc from 'fast-check';
import type { KubeObject } from '../core/kube/resilient-informer.js';
import { checkRemoteObject, type SourceKind, shownName } from './remote-object-schemas.js';
import { slimPod } from './slim.js';
import { goodObjects, withField } from './test-support.js';
import { watchedResources } from './watched-resources.js';

test('what a kube-apiserver serves passes, for every kind fedmesh watches', () => {
  for (const r of watchedResources) assert.equal(checkRemoteObject(r.sourceKind, goodObjects[r.sourceKind]), undefined);
  // Fields left out are fine: Kubernetes omits what is unset.
  assert.equal(checkRemoteObject('Pod', { metadata: { name: 'a', namespace: 'b' } }), undefined);
  assert.equal(
    checkRemoteObject('Service', { metadata: { name: 'a', namespace: 'b' }, spec: { selector: null } }),
    undefined,
  );
});

test('hostile items are refused with the field path and the rule, never the value', () => {
  const huge = 'x'.repeat(1_000_000);
  const secretish = 'TOKEN-abc123';
  const cases: [SourceKind, KubeObject, string, RegExp][] = [
    // Wrong types.
    [
      'Pod',
      withField(goodObjects.Pod, ['status', 'podIPs', 0, 'ip'], 167772161),
      'status.podIPs[0].ip',
      /must be string/,
    ],
    ['Pod', withField(goodObjects.Pod, ['spec', 'containers'], { length: 5 }), 'spec.containers', /must be array/],
    [
      'Pod',
      withField(goodObjects.Pod, ['spec', 'containers', 0, 'ports', 0, 'containerPort'], '80'),
      'spec.containers[0].ports[0].containerPort',
      /integer/,
    ],
    [
      'Pod',
      withField(goodObjects.Pod, ['metadata', 'labels', 'app'], { nested: secretish }),
      'metadata.labels[*]',
      /must be string/,
    ],
    ['Pod', withField(goodObjects.Pod, ['status', 'conditions'], 'Ready'), 'status.conditions', /array/],
    ['Pod', withField(goodObjects.Pod, ['spec', 'hostNetwork'], 'false'), 'spec.hostNetwork', /boolean/],
    [
      'Node',
      withField(goodObjects.Node, ['status', 'addresses', 1, 'address'], ['10.0.0.1']),
      'status.addresses[1].address',
      /string/,
    ],
    ['Service', withField(goodObjects.Service, ['spec', 'selector'], [secretish]), 'spec.selector', /object/],
    [
      'Service',
      withField(goodObjects.Service, ['spec', 'ports', 0, 'targetPort'], { x: 1 }),
      'spec.ports[0].targetPort',
      /port number nor a port name/,
    ],
    [
      'EndpointSlice',
      withField(goodObjects.EndpointSlice, ['endpoints', 0, 'conditions', 'ready'], 'yes'),
      'endpoints[0].conditions.ready',
      /boolean/,
    ],
    [
      'EndpointSlice',
      withField(goodObjects.EndpointSlice, ['endpoints', 0, 'addresses'], []),
      'endpoints[0].addresses',
      /fewer than 1/,
    ],
    ['Namespace', { metadata: { name: 5 } } as unknown as KubeObject, 'metadata.name', /string/],
    // Huge strings.
    ['Pod', withField(goodObjects.Pod, ['metadata', 'name'], huge), 'metadata.name', /longer than 253/],
    ['Pod', withField(goodObjects.Pod, ['metadata', 'labels', 'app'], huge), 'metadata.labels[*]', /longer than 63/],
    ['Pod', withField(goodObjects.Pod, ['status', 'podIP'], huge), 'status.podIP', /longer than 45/],
    [
      'Node',
      withField(goodObjects.Node, ['metadata', 'annotations', 'fedmesh.io/vtep-ip'], huge),
      'metadata.annotations[*]',
      /longer/,
    ],
    [
      'Service',
      withField(goodObjects.Service, ['metadata', 'annotations', 'big'], huge),
      'metadata.annotations[*]',
      /longer/,
    ],
    // Syntax that would reach the kernel or a selector.
    ['Pod', withField(goodObjects.Pod, ['status', 'podIP'], '10.0.0.1; flush ruleset'), 'status.podIP', /syntax/],
    [
      'Node',
      withField(goodObjects.Node, ['metadata', 'annotations', 'fedmesh.io/vtep-mac'], 'aa bb'),
      'metadata.annotations[*]',
      /syntax/,
    ],
    ['Node', withField(goodObjects.Node, ['spec', 'podCIDRs', 1], '10.0.0.0'), 'spec.podCIDRs[1]', /syntax/],
    [
      'Pod',
      withField(goodObjects.Pod, ['spec', 'containers', 0, 'ports', 0, 'protocol'], 'ICMP'),
      'spec.containers[0].ports[0].protocol',
      /TCP, UDP, SCTP/,
    ],
    [
      'Service',
      withField(goodObjects.Service, ['spec', 'ports', 0, 'port'], 70000),
      'spec.ports[0].port',
      /out of range/,
    ],
    // Port names a Service or EndpointSlice may not have (a derived Service or local slice carrying one is refused).
    [
      'Service',
      withField(goodObjects.Service, ['spec', 'ports', 0, 'name'], 'Web_Port'),
      'spec.ports[0].name',
      /syntax/,
    ],
    ['EndpointSlice', withField(goodObjects.EndpointSlice, ['ports', 0, 'name'], '-http'), 'ports[0].name', /syntax/],
    // Prototype keys: a label key `__proto__` (JSON.parse makes it an own key) is not a label key.
    [
      'Pod',
      withField(goodObjects.Pod, ['metadata', 'labels'], JSON.parse('{"__proto__": {"polluted": "yes"}}')),
      'metadata.labels',
      /key that is not a valid label key/,
    ],
    [
      'Service',
      withField(goodObjects.Service, ['spec', 'selector'], JSON.parse('{"__proto__": "x"}')),
      'spec.selector',
      /key/,
    ],
    ['Pod', withField(goodObjects.Pod, ['metadata', 'labels', `bad key ${secretish}`], 'v'), 'metadata.labels', /key/],
    // Required fields missing.
    ['Pod', { metadata: { name: 'a' } }, '(the object)', /metadata|namespace/],
    ['EndpointSlice', withField(goodObjects.EndpointSlice, ['addressType'], 'IPX'), 'addressType', /IPv4, IPv6, FQDN/],
  ];
  for (const [kind, obj, field, problem] of cases) {
    const p = checkRemoteObject(kind, obj);
    assert.ok(p, `${kind} ${field} must be refused`);
    assert.equal(
      p.field.replace(/^metadata$/, '(the object)'),
      field.replace(/^metadata$/, '(the object)'),
      `${kind} ${field}`,
    );
    assert.match(p.problem, problem, `${kind} ${field}: ${p.problem}`);
    assert.doesNotMatch(`${p.field} ${p.problem}`, /TOKEN|xxxxx|flush|polluted|\{/, 'nothing of the value is quoted');
  }
  assert.equal(({} as Record<string, unknown>).polluted, undefined, 'no prototype was touched');
});

test('deeply nested junk: refused where it starts, in bounded time, without recursion into it', () => {
  let junk: unknown = 'bottom';
  for (let i = 0; i < 5000; i++) junk = { a: [junk] };
  const t0 = performance.now();
  const p = checkRemoteObject('Pod', withField(goodObjects.Pod, ['spec', 'containers', 0, 'ports'], junk));
  assert.deepEqual(p, { field: 'spec.containers[0].ports', problem: 'must be array or null' });
  // Junk in a field fedmesh does not read is not looked at at all.
  assert.equal(checkRemoteObject('Pod', withField(goodObjects.Pod, ['spec', 'volumes'], junk)), undefined);
  assert.ok(performance.now() - t0 < 1000);
});

test('a name is shown only when it has the syntax of a name', () => {
  assert.equal(shownName('web-1'), 'web-1');
  assert.equal(shownName('x'.repeat(254)), '(invalid)');
  assert.equal(shownName('a\nb'), '(invalid)');
  assert.equal(shownName(undefined), '(invalid)');
});

test('fuzz: any mutation of a pod is either refused or converts to a slim pod of the right types', () => {
  const paths: (string | number)[][] = [
    ['metadata', 'name'],
    ['metadata', 'namespace'],
    ['metadata', 'uid'],
    ['metadata', 'labels'],
    ['metadata', 'labels', 'app'],
    ['metadata', 'creationTimestamp'],
    ['spec'],
    ['spec', 'nodeName'],
    ['spec', 'hostNetwork'],
    ['spec', 'containers'],
    ['spec', 'containers', 0, 'ports'],
    ['spec', 'containers', 0, 'ports', 0],
    ['spec', 'containers', 0, 'ports', 0, 'name'],
    ['spec', 'containers', 0, 'ports', 0, 'containerPort'],
    ['status'],
    ['status', 'phase'],
    ['status', 'podIP'],
    ['status', 'podIPs'],
    ['status', 'podIPs', 0],
    ['status', 'podIPs', 0, 'ip'],
    ['status', 'conditions'],
    ['status', 'conditions', 0],
    ['status', 'conditions', 0, 'status'],
  ];
  const mutation = fc.tuple(fc.constantFrom(...paths), fc.oneof(fc.jsonValue(), fc.string(), fc.constant('__proto__')));
  fc.assert(
    fc.property(fc.array(mutation, { minLength: 1, maxLength: 4 }), (mutations) => {
      let pod = goodObjects.Pod;
      for (const [path, value] of mutations) pod = withField(pod, path, value);
      const problem = checkRemoteObject('Pod', pod);
      if (problem) {
        assert.ok(problem.field.length > 0 && problem.problem.length > 0);
        return;
      }
      // Accepted: slim.ts must neither throw nor produce anything but the types it promises.
      const slim = slimPod('west', pod as V1Pod);
      if (!slim) return;
      assert.ok(slim.ips.every((ip) => typeof ip === 'string'));
      assert.ok(Object.values(slim.labels).every((v) => typeof v === 'string'));
      assert.ok(slim.ports.every((p) => Number.isInteger(p.port) && typeof p.name === 'string'));
      assert.equal(typeof slim.nodeName, 'string');
      assert.equal(typeof slim.ready, 'boolean');
    }),
    { numRuns: 3000 },
  );
});
