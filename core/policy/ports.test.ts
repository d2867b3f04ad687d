import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Diagnostics } from './diagnostics.js';
import { parseFnpPort, parseNetworkPolicyPort, portNameErrors } from './ports.js';

test('port names follow Kubernetes (IANA service names)', () => {
  for (const ok of ['http', 'h2c', 'grpc-web', 'a1234567890bcde']) assert.deepEqual(portNameErrors(ok), [], ok);
  for (const bad of ['HTTP', '1234', 'a--b', '-a', 'a-', 'a1234567890bcdef', 'a_b', '']) {
    assert.notDeepEqual(portNameErrors(bad), [], bad);
  }
});

test('Calico-style ports: number, "n", "first:last", name', () => {
  const d = new Diagnostics();
  assert.deepEqual(parseFnpPort(80, 'p', d), { kind: 'range', from: 80, to: 80 });
  assert.deepEqual(parseFnpPort('80', 'p', d), { kind: 'range', from: 80, to: 80 });
  assert.deepEqual(parseFnpPort('80:90', 'p', d), { kind: 'range', from: 80, to: 90 });
  assert.deepEqual(parseFnpPort('http', 'p', d), { kind: 'named', name: 'http' });
  assert.deepEqual(d.errors, []);
  for (const bad of [0, 65536, 1.5, '0:10', '10:70000', '90:80', 'UPPER']) {
    const e = new Diagnostics();
    assert.equal(parseFnpPort(bad, 'p', e), null, String(bad));
    assert.equal(e.errors.length, 1, String(bad));
    assert.equal(e.unreadable, true);
  }
});

test('Kubernetes ports: endPort only after a numeric port, and not below it', () => {
  const d = new Diagnostics();
  assert.deepEqual(parseNetworkPolicyPort(8000, 8080, 'p', d), { kind: 'range', from: 8000, to: 8080 });
  assert.deepEqual(parseNetworkPolicyPort('web', undefined, 'p', d), { kind: 'named', name: 'web' });
  assert.equal(parseNetworkPolicyPort(undefined, undefined, 'p', d), null);
  assert.deepEqual(d.errors, []);
  const e = new Diagnostics();
  parseNetworkPolicyPort(8000, 7000, 'p', e);
  parseNetworkPolicyPort('web', 9000, 'q', e);
  assert.deepEqual(
    e.errors.map((x) => x.path),
    ['p.endPort', 'q.endPort'],
  );
});
