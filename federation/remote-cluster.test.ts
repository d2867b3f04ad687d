import assert from 'node:assert/strict';
import { createSecureServer } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { renderKubeconfig } from '../core/kube/kubeconfig.js';
import type { KubeRestClient, WatchEvent } from '../core/kube/rest-client.js';
import { createCertificateAuthority, issueCertificate } from '../core/tls/certificates.js';
import { MeshCache } from './mesh-cache.js';
import { RemoteCluster } from './remote-cluster.js';
import { fakeKubeClient, followerDeps, openWatch } from './test-support.js';

/** A local API server holding one access Secret with `kubeconfig`; watches stay open and silent. */
function localWithSecret(kubeconfig: string): KubeRestClient {
  return fakeKubeClient({
    get: async () => ({
      metadata: { resourceVersion: '1' },
      items: [
        {
          metadata: { name: 'remote-cluster-west', namespace: 'fedmesh-system', resourceVersion: '1' },
          data: { kubeconfig: Buffer.from(kubeconfig).toString('base64') },
        },
      ],
    }),
  });
}

test('an access Secret whose kubeconfig has an unexpected shape is reported, never thrown', async () => {
  for (const kubeconfig of ['users: {}\n', 'users: [null]\nclusters: 5\n', 'contexts: "x"\n']) {
    const cache = new MeshCache();
    const c = new RemoteCluster('west', followerDeps(localWithSecret(kubeconfig), cache));
    c.update({
      rcc: {
        metadata: { name: 'west', uid: 'u' },
        spec: { clusterAccessSecret: { name: 'remote-cluster-west', namespace: 'fedmesh-system' } },
      },
    });
    for (let i = 0; i < 100 && cache.clusterStatus('west')?.state !== 'ConfigIncomplete'; i++) {
      await new Promise((r) => setTimeout(r, 5));
    }
    const s = cache.clusterStatus('west');
    await c.stop();
    assert.equal(s?.state, 'ConfigIncomplete', kubeconfig);
    assert.equal(s?.reason, 'BadKubeconfig', kubeconfig);
    assert.match(s?.message ?? '', /the kubeconfig in secret fedmesh-system\/remote-cluster-west/);
  }
});

/** One serving certificate for every fake remote (RSA key generation is slow). */
const remoteTls = (() => {
  const ca = createCertificateAuthority('fake-remote-ca');
  return { ca, cert: issueCertificate(ca, { commonName: 'remote', ipAddresses: ['127.0.0.1'], usage: 'server' }) };
})();

/**
 * A remote API server over HTTP/2 (what RemoteCluster connects to): lists from `objects`; each watch sends a
 * bookmark and ends after 100 ms (so the informers ask again), or is refused with 403 for the resources in
 * `refuseWatch`.
 */
async function fakeRemote(objects: Record<string, unknown[]>) {
  const { ca, cert } = remoteTls;
  const refuseWatch = new Set<string>();
  const server = createSecureServer({ cert: cert.certPem, key: cert.keyPem }, (req, res) => {
    const url = new URL(req.url ?? '/', 'https://x');
    const resource = url.pathname.split('/').pop() ?? '';
    if (url.searchParams.get('watch') === '1') {
      if (refuseWatch.has(resource)) {
        res.writeHead(403, { 'content-type': 'application/json' });
        res.end(
          JSON.stringify({ kind: 'Status', reason: 'Forbidden', code: 403, message: `cannot watch ${resource}` }),
        );
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write(`${JSON.stringify({ type: 'BOOKMARK', object: { metadata: { resourceVersion: '2' } } })}\n`);
      setTimeout(() => res.end(), 100);
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ metadata: { resourceVersion: '1' }, items: objects[resource] ?? [] }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const kubeconfig = renderKubeconfig({
    cluster: 'west',
    server: `https://127.0.0.1:${(server.address() as AddressInfo).port}`,
    caPem: ca.certPem,
    user: 'u',
    credentials: { token: 't' },
  });
  return { kubeconfig, refuseWatch, close: () => server.close() };
}

/** A local API server whose access Secret the test can change (its watch delivers the change). */
function localSecretStore(kubeconfig: string) {
  const secret = (k: string) => ({
    metadata: { name: 'remote-cluster-west', namespace: 'fedmesh-system', resourceVersion: '1' },
    data: { kubeconfig: Buffer.from(k).toString('base64') },
  });
  let emit: (e: WatchEvent) => void = () => {};
  const client = fakeKubeClient({
    get: async () => ({ metadata: { resourceVersion: '1' }, items: [secret(kubeconfig)] }),
    watch: (path, onEvent, signal, onOpen) => {
      emit = onEvent;
      return openWatch(path, onEvent, signal, onOpen);
    },
  });
  return { client, deleteSecret: () => emit({ type: 'DELETED', object: secret(kubeconfig) }) };
}

test('Withdraw: a refused watch of pods withdraws pods only; on recovery they all come back; no Secret: all go', async () => {
  const node = (name: string) => ({
    metadata: { name, uid: `uid-${name}`, resourceVersion: '1' },
    spec: {},
    status: {},
  });
  const pod = (name: string) => ({
    metadata: { name, namespace: 'shop', uid: `uid-${name}`, resourceVersion: '1' },
    spec: { nodeName: 'n1' },
    status: { podIP: '10.0.0.1', podIPs: [{ ip: '10.0.0.1' }] },
  });
  const remote = await fakeRemote({ pods: [pod('a'), pod('b')], nodes: [node('n1')] });
  const local = localSecretStore(remote.kubeconfig);
  const cache = new MeshCache();
  const c = new RemoteCluster('west', {
    ...followerDeps(local.client, cache),
    remoteBackoff: { initialMs: 100, maxMs: 100, jitter: 0 },
  });
  const status = () => cache.clusterStatus('west');
  const waitFor = async (what: string, ok: () => boolean) => {
    for (let i = 0; i < 3000 && !ok(); i++) await new Promise((r) => setTimeout(r, 10)); // 30 s: CI machines are shared
    assert.ok(ok(), `${what}: ${JSON.stringify(status())} ${JSON.stringify(cache.counts('west'))}`);
  };
  try {
    c.update({
      rcc: {
        metadata: { name: 'west', uid: 'u' },
        spec: {
          clusterAccessSecret: { name: 'remote-cluster-west', namespace: 'fedmesh-system' },
          staleEndpoints: { mode: 'Withdraw', ttl: '300ms' },
        },
      },
    });
    await waitFor('in sync', () => status()?.state === 'InSync');
    assert.equal(cache.counts('west').WorkloadEndpoint, 2);

    remote.refuseWatch.add('pods');
    await waitFor('pods withdrawn', () => cache.counts('west').WorkloadEndpoint === 0);
    assert.equal(status()?.state, 'ConnectionFailed');
    assert.match(status()?.message ?? '', /missing permission: watch pods/);
    assert.equal(status()?.withdrawn, true);
    assert.equal(cache.counts('west').HostEndpoint, 1, 'nodes are still kept current: they stay');

    remote.refuseWatch.delete('pods');
    await waitFor('back in sync', () => status()?.state === 'InSync');
    assert.equal(cache.counts('west').WorkloadEndpoint, 2, 'every pod is back');

    remote.refuseWatch.add('pods');
    await waitFor('pods withdrawn again', () => cache.counts('west').WorkloadEndpoint === 0);
    local.deleteSecret();
    await waitFor('everything withdrawn', () => cache.counts('west').HostEndpoint === 0);
    assert.equal(status()?.state, 'ConfigIncomplete');
  } finally {
    await c.stop();
    remote.close();
  }
});

test('never listed since the start: Withdraw empties the cluster after the ttl (the controllers then remove what was written for it), Retain never', async () => {
  for (const mode of ['Withdraw', 'Retain'] as const) {
    const remote = await fakeRemote({});
    remote.close(); // unreachable from the start: a restart during an outage
    const cache = new MeshCache();
    const c = new RemoteCluster('west', {
      ...followerDeps(localSecretStore(remote.kubeconfig).client, cache),
      remoteBackoff: { initialMs: 50, maxMs: 50, jitter: 0 },
    });
    try {
      c.update({
        rcc: {
          metadata: { name: 'west', uid: 'u' },
          spec: {
            clusterAccessSecret: { name: 'remote-cluster-west', namespace: 'fedmesh-system' },
            staleEndpoints: { mode, ttl: '300ms' },
          },
        },
      });
      for (let i = 0; i < 300 && !cache.listed('west', 'EndpointSlice'); i++)
        await new Promise((r) => setTimeout(r, 10));
      if (mode === 'Withdraw') {
        assert.equal(cache.listed('west', 'Service'), true, JSON.stringify(cache.clusterStatus('west')));
        assert.equal(cache.listed('west', 'EndpointSlice'), true);
        assert.equal(cache.clusterStatus('west')?.withdrawn, true);
      } else {
        assert.equal(cache.listed('west', 'EndpointSlice'), false);
        assert.equal(cache.clusterStatus('west')?.state, 'ConnectionFailed');
      }
    } finally {
      await c.stop();
    }
  }
});

test('churn: a Secret swapped for another cluster’s, and a spec change while connecting, end with the new cluster only', async () => {
  const pod = (name: string) => ({
    metadata: { name, namespace: 'shop', uid: `uid-${name}`, resourceVersion: '1' },
    spec: { nodeName: 'n1' },
    status: { podIP: '10.0.0.1', podIPs: [{ ip: '10.0.0.1' }] },
  });
  const a = await fakeRemote({ pods: [pod('a-0'), pod('a-1')] });
  const b = await fakeRemote({ pods: [pod('b-0')] });
  // Two access Secrets in the local cluster, by name; the watch of each delivers changes to it.
  const secrets = new Map([
    ['secret-a', a.kubeconfig],
    ['secret-b', b.kubeconfig],
  ]);
  const watchers = new Map<string, (e: WatchEvent) => void>();
  const secretObject = (name: string) => ({
    metadata: { name, namespace: 'fedmesh-system', resourceVersion: '1' },
    data: { kubeconfig: Buffer.from(secrets.get(name) ?? '').toString('base64') },
  });
  const nameIn = (path: string) => /metadata\.name%3D([a-z-]+)/.exec(path)?.[1] ?? '';
  const local = fakeKubeClient({
    get: async (path) => ({ metadata: { resourceVersion: '1' }, items: [secretObject(nameIn(path))] }),
    watch: (path, onEvent, signal, onOpen) => {
      watchers.set(nameIn(path), onEvent);
      return openWatch(path, onEvent, signal, onOpen);
    },
  });
  const cache = new MeshCache();
  const c = new RemoteCluster('west', followerDeps(local, cache));
  const rccFor = (secret: string) => ({
    rcc: {
      metadata: { name: 'west', uid: 'u' },
      spec: { clusterAccessSecret: { name: secret, namespace: 'fedmesh-system' } },
    },
  });
  const pods = () =>
    cache
      .list('WorkloadEndpoint', { cluster: 'west' })
      .map((p) => p.name)
      .sort();
  const waitFor = async (what: string, ok: () => boolean) => {
    for (let i = 0; i < 3000 && !ok(); i++) await new Promise((r) => setTimeout(r, 10)); // 30 s: CI machines are shared
    assert.ok(ok(), `${what}: ${JSON.stringify(cache.clusterStatus('west'))} ${pods().join(',')}`);
  };
  try {
    // A spec change while the first connection is being set up: only the second one counts.
    c.update(rccFor('secret-a'));
    c.update(rccFor('secret-b'));
    await waitFor('b in sync', () => cache.clusterStatus('west')?.state === 'InSync' && pods().join() === 'b-0');
    await new Promise((r) => setTimeout(r, 300));
    assert.deepEqual(pods(), ['b-0'], 'nothing of the abandoned connection lands later');

    // The Secret now holds another cluster's kubeconfig: its objects replace the old ones.
    secrets.set('secret-b', a.kubeconfig);
    watchers.get('secret-b')?.({ type: 'MODIFIED', object: secretObject('secret-b') });
    await waitFor('swapped', () => pods().join() === 'a-0,a-1' && cache.clusterStatus('west')?.state === 'InSync');
    await new Promise((r) => setTimeout(r, 300));
    assert.deepEqual(pods(), ['a-0', 'a-1']);
  } finally {
    await c.stop();
    a.close();
    b.close();
  }
});
