import assert from 'node:assert/strict';
import { test } from 'node:test';
import { KubeApiError } from '../core/kube/rest-client.js';
import {
  isRefusal,
  localNodeNetworks,
  notServedMeansNone,
  podEndpoint,
  remoteNodeEntry,
  remoteWorkloadEndpoint,
} from './sources.js';

const rwl = (spec: Record<string, unknown>, labels: Record<string, unknown> = { app: 'web' }) => ({
  metadata: { name: 'east.web-0', namespace: 'shop', labels: { ...labels, 'fedmesh.io/cluster': 'east' } },
  spec: { cluster: 'east', podName: 'web-0', nodeName: 'n0', ips: ['10.244.0.5'], ...spec },
});

test('a remote workload becomes an endpoint of its cluster; its cluster label comes from spec.cluster alone', () => {
  const e = remoteWorkloadEndpoint(rwl({ ports: [{ name: 'http', port: 80, protocol: 'TCP' }, { port: 81 }] }), 'west');
  assert.deepEqual(e, {
    cluster: 'east',
    namespace: 'shop',
    name: 'web-0',
    nodeName: 'n0',
    ips: ['10.244.0.5'],
    labels: { app: 'web' },
    ports: [{ name: 'http', port: 80, protocol: 'TCP' }],
  });
});

test('remote objects of the wrong shape, or claiming the local cluster, are refused with a reason; bad IPs are left out', () => {
  const refusal = (obj: unknown) => {
    const r = remoteWorkloadEndpoint(obj, 'west');
    assert.ok(isRefusal(r), JSON.stringify(r));
    return r.refused;
  };
  assert.equal(refusal(rwl({ cluster: 'west' })), 'claims to be of this cluster (west)');
  assert.equal(
    refusal(rwl({ ips: 'x' })),
    'does not match the RemoteWorkload schema (#/properties/spec/properties/ips/type: must be array)',
  );
  assert.match(refusal(rwl({}, { app: 7 })), /labels\/additionalProperties\/type: must be string/);
  assert.match(refusal(rwl({ ports: [{ port: 70000 }] })), /port\/maximum: must be <= 65535/);
  assert.doesNotMatch(refusal(rwl({}, { app: 'x'.repeat(64) })), /xxx/, 'the reason never quotes a value');
  const e = remoteWorkloadEndpoint(rwl({ ips: ['10.244.0.5', '999.1.1.1', 'fd00::1', '10.244.0.5'] }), 'west');
  assert.deepEqual(isRefusal(e) ? e : e.ips, ['10.244.0.5'], 'IPv4 only, each once');
  assert.ok(isRefusal(remoteWorkloadEndpoint(null, 'west')));
});

test('a remote node is a tunnel entry only with an InternalIP and a VTEP', () => {
  const rno = (vtep?: unknown) => ({
    metadata: { name: 'east.n0' },
    spec: {
      cluster: 'east',
      nodeName: 'n0',
      addresses: [{ type: 'InternalIP', address: '172.18.0.1' }],
      podCIDRs: ['10.244.0.0/24'],
      ...(vtep ? { vtep } : {}),
    },
  });
  assert.deepEqual(remoteNodeEntry(rno({ address: '10.244.0.0', mac: '66:00:00:00:00:01' }), 'west'), {
    cluster: 'east',
    name: 'n0',
    nodeIP: '172.18.0.1',
    podCIDRs: ['10.244.0.0/24'],
    vtepIP: '10.244.0.0',
    vtepMAC: '66:00:00:00:00:01',
  });
  assert.equal(remoteNodeEntry(rno(), 'west'), undefined, 'no VTEP: nothing to tunnel to, not refused');
  assert.ok(isRefusal(remoteNodeEntry({ ...rno(), spec: { ...rno().spec, cluster: 'west' } }, 'west')));
  assert.ok(isRefusal(remoteNodeEntry({ metadata: { name: 'east.n0' }, spec: { cluster: 'east' } }, 'west')));
});

test('local pods: host-network and finished pods are not endpoints; named container ports are kept', () => {
  const pod = (spec: Record<string, unknown>, status: Record<string, unknown>) => ({
    metadata: { name: 'p', namespace: 'd', labels: { app: 'a' } },
    spec: { nodeName: 'n0', containers: [{ ports: [{ name: 'http', containerPort: 8080 }] }], ...spec },
    status: { phase: 'Running', podIP: '10.245.0.3', podIPs: [{ ip: '10.245.0.3' }], ...status },
  });
  assert.deepEqual(podEndpoint(pod({}, {}), 'west')?.ports, [{ name: 'http', port: 8080, protocol: 'TCP' }]);
  assert.deepEqual(podEndpoint(pod({}, {}), 'west')?.ips, ['10.245.0.3']);
  assert.equal(podEndpoint(pod({ hostNetwork: true }, {}), 'west'), undefined);
  assert.equal(podEndpoint(pod({}, { phase: 'Succeeded' }), 'west'), undefined);
  assert.equal(podEndpoint(pod({}, { podIP: undefined, podIPs: [] }), 'west'), undefined);
  // Dual-stack and IPv6-only pods are endpoints, their IPv6 addresses kept apart (policy is decided for IPv4).
  const dual = podEndpoint(pod({}, { podIPs: [{ ip: '10.245.0.3' }, { ip: 'fd00:245::3' }] }), 'west');
  assert.deepEqual([dual?.ips, dual?.ipv6], [['10.245.0.3'], ['fd00:245::3']]);
  const v6only = podEndpoint(pod({}, { podIP: 'fd00:245::4', podIPs: [{ ip: 'fd00:245::4' }] }), 'west');
  assert.deepEqual([v6only?.ips, v6only?.ipv6], [[], ['fd00:245::4']]);
  // Never text nft would read otherwise: a zone, a stray character.
  const odd = podEndpoint(
    pod({}, { podIPs: [{ ip: '10.245.0.3' }, { ip: 'fe80::1%eth0' }, { ip: 'fd00::1 }; flush ruleset' }] }),
    'west',
  );
  assert.equal(odd?.ipv6, undefined);
});

test('an unserved FederatedNetworkPolicy collection is never taken for an empty one; RemoteClusterConfigurations are', () => {
  const error = (code: number) => new KubeApiError('GET', '/apis/fedmesh.io/v1alpha1/x', code, { reason: 'NotFound' });
  const notFound = error(404);
  assert.equal(notServedMeansNone('federatednetworkpolicies', notFound), false, 'a restarting node would drop them');
  assert.equal(notServedMeansNone('rccs', notFound), true);
  assert.equal(notServedMeansNone('rccs', error(403)), false);
  assert.equal(notServedMeansNone('networkpolicies', notFound), false);
});

test("a local Node's networks: its IPv4 pod CIDRs and addresses, nothing else", () => {
  assert.deepEqual(
    localNodeNetworks({
      spec: { podCIDR: '10.245.1.0/24', podCIDRs: ['10.245.1.0/24', 'fd00::/64'] },
      status: {
        addresses: [
          { type: 'InternalIP', address: '10.0.0.11' },
          { type: 'ExternalIP', address: '203.0.113.7' },
          { type: 'Hostname', address: 'node-1' },
          { type: 'InternalIP', address: 'fd00::11' },
          null,
        ],
      },
    }),
    ['10.0.0.11/32', '10.245.1.0/24', '203.0.113.7/32'],
  );
  assert.deepEqual(localNodeNetworks({}), []);
  assert.deepEqual(localNodeNetworks({ spec: { podCIDRs: 'x' }, status: { addresses: 'y' } }), []);
});
