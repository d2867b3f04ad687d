// `fedmesh testbed deploy` and `fedmesh remote-access` as a user runs them: real processes, real clusters.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { rccPath } from '../federation/rcc-spec.js';
import { joinClusters, type ServerReplica, startServerReplica } from './testbed/deploy.js';
import { eventually, repoRoot, startTestbed, type Testbed } from './testbed/harness.js';
import { isRunning, stopProcess } from './testbed/processes.js';
import { runCommand } from './testbed/run-command.js';
import { type ProcessRecord, readState } from './testbed/state.js';

let tb: Testbed;
const fedmesh = (args: string[], input?: string) =>
  runCommand(process.execPath, [join(repoRoot, 'bin', 'fedmesh.js'), ...args], {
    env: { ...process.env, FEDMESH_TESTBED_DIR: tb.dir },
    ...(input === undefined ? {} : { input }),
  });
const servers = (): ProcessRecord[] =>
  readState(tb.dir)?.processes.filter((p) => p.component === 'fedmesh-server') ?? [];
const rccState = async (local: string, remote: string) =>
  (await tb.cluster(local).kubectlOk(['get', 'rcc', remote, '-o', 'jsonpath={.status.state}'])).trim();

before(async () => {
  tb = await startTestbed({ name: 'federation-deploy', clusters: ['east', 'west', 'north'] });
});
let secondEastServer: ServerReplica | undefined;
after(async () => {
  if (secondEastServer) await stopProcess({ pid: secondEastServer.started.pid, argv: secondEastServer.argv });
  await tb?.down();
});

const leaderMetric = async (port: number | null) => {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  return /^fedmesh_leader\{lease="fedmesh-system\/fedmesh-server"\} (\d)$/m.exec(text)?.[1];
};
const leaseHolder = async () =>
  (
    await tb
      .cluster('east')
      .kubectlOk(['get', 'lease', '-n', 'fedmesh-system', 'fedmesh-server', '-o', 'jsonpath={.spec.holderIdentity}'])
  ).trim();
const westWorkloadsSeenByEast = async () =>
  Number(
    (await tb.cluster('east').kubectlOk(['get', 'rcc', 'west', '-o', 'jsonpath={.status.counts.workloads}'])).trim(),
  );

describe('fedmesh testbed deploy', () => {
  test('runs a server per cluster and joins every pair; every RCC gets InSync', async () => {
    const r = await fedmesh(['testbed', 'deploy']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /every cluster is joined to the 2 others and in sync/);
    assert.equal(servers().length, 3);
    for (const s of servers()) assert.ok(isRunning(s), `server of ${s.cluster} runs`);
    for (const local of ['east', 'west', 'north']) {
      const out = await tb.cluster(local).kubectlOk(['get', 'rcc', '-o', 'name']);
      assert.equal(out.trim().split('\n').length, 2);
    }
    const table = await tb.cluster('east').kubectlOk(['get', 'rcc']);
    assert.match(table, /^NAME\s+STATE\s+WORKLOADS\s+NODES\s+LAST SYNC\s+AGE/);
    assert.match(table, /^north\s+InSync\s+0\s+0/m);
    // The fedmesh category holds the RCCs and the federation API's kinds: one command shows the mesh.
    const all = await tb.cluster('east').kubectlOk(['get', 'fedmesh', '-A']);
    assert.match(all, /remoteclusterconfiguration\.fedmesh\.io\/north\s+InSync/);
    assert.match(r.stderr, /the federation API is available in every cluster/);
  });

  test('joining again keeps the overlayRoutingMode someone enabled; a new RCC still comes with Disabled', async () => {
    const overlayMode = async (local: string, remote: string) =>
      (await tb.cluster(local).kubectlOk(['get', 'rcc', remote, '-o', 'jsonpath={.spec.overlayRoutingMode}'])).trim();
    const state = readState(tb.dir);
    assert.ok(state);
    await tb
      .cluster('east')
      .kubectlOk(['patch', 'rcc', 'west', '--type=merge', '-p', '{"spec":{"overlayRoutingMode":"Enabled"}}']);
    try {
      const clients = new Map(['east', 'west', 'north'].map((c) => [c, tb.cluster(c).client] as const));
      await joinClusters(state, clients, () => {});
      assert.equal(await overlayMode('east', 'west'), 'Enabled', 'the join turned the overlay off again');
      assert.equal(await overlayMode('east', 'north'), 'Disabled');
    } finally {
      await tb
        .cluster('east')
        .kubectlOk(['patch', 'rcc', 'west', '--type=merge', '-p', '{"spec":{"overlayRoutingMode":"Disabled"}}']);
    }
  });

  test('each server runs as its ServiceAccount, with only what it needs', async () => {
    const east = tb.cluster('east');
    const server = servers().find((s) => s.cluster === 'east');
    assert.ok(server?.argv.some((a) => a.startsWith('--kubeconfig=') && a.endsWith('server.kubeconfig')));
    const can = async (...args: string[]) =>
      (
        await east.kubectl(['auth', 'can-i', ...args, '--as=system:serviceaccount:fedmesh-system:fedmesh-server'])
      ).stdout.trim();
    assert.equal(await can('patch', 'remoteclusterconfigurations.fedmesh.io/west', '--subresource=status'), 'yes');
    assert.equal(await can('watch', 'pods', '-A'), 'yes');
    assert.equal(await can('update', 'leases', '-n', 'fedmesh-system'), 'yes');
    assert.equal(await can('get', 'secrets', '-n', 'fedmesh-system'), 'yes');
    assert.equal(await can('get', 'secrets', '-n', 'kube-system'), 'no');
    assert.equal(await can('delete', 'pods', '-A'), 'no');
    assert.equal(await can('update', 'remoteclusterconfigurations.fedmesh.io/west'), 'no');
  });

  test('a pod in west is counted by the RCCs of east and north, and the metric says InSync', async () => {
    await tb.cluster('west').seed({
      nodes: [{ name: 'w', count: 1 }],
      pods: [{ namespace: 'default', name: 'p', count: 2 }],
    });
    for (const local of ['east', 'north']) {
      await eventually(async () => {
        const n = await tb
          .cluster(local)
          .kubectlOk(['get', 'rcc', 'west', '-o', 'jsonpath={.status.counts.workloads}']);
        assert.equal(n.trim(), '2');
      });
    }
    const east = servers().find((s) => s.cluster === 'east');
    assert.ok(east?.port);
    const metrics = await (await fetch(`http://127.0.0.1:${east.port}/metrics`)).text();
    assert.match(metrics, /^fedmesh_remote_cluster_connection_status\{cluster="west"\} 2$/m);
    assert.equal((await fetch(`http://127.0.0.1:${east.port}/readyz`)).status, 200);
  });

  test('the server logs JSON without credentials', async () => {
    const { readFileSync } = await import('node:fs');
    const log = readFileSync(servers()[0]?.log ?? '', 'utf8');
    const lines = log.trim().split('\n');
    for (const l of lines) JSON.parse(l);
    assert.doesNotMatch(log, /token: |eyJhbGci|BEGIN CERTIFICATE/);
  });
});

// Seeded pods run on the scenario's nodes: the node of the pods seeded above.
const westNode = [{ name: 'w', count: 1 }];

describe('two replicas of a server', () => {
  test('one leads; frozen, it stops writing and the follower takes over; resumed, it follows', async () => {
    const first = servers().find((s) => s.cluster === 'east');
    assert.ok(first?.port);
    assert.equal(await leaderMetric(first.port), '1');
    const firstHolder = await leaseHolder();
    assert.notEqual(firstHolder, '');

    // A second replica, as a Deployment's would be: same flags, its own ports.
    const deployed = readState(tb.dir);
    assert.ok(deployed);
    secondEastServer = await startServerReplica(deployed, 'east', 2);
    const port = secondEastServer.metricsPort;
    await eventually(async () => assert.equal((await fetch(`http://127.0.0.1:${port}/readyz`)).status, 200), 60_000);
    assert.equal(await leaderMetric(port), '0', 'the second replica follows');
    assert.equal(await leaseHolder(), firstHolder);

    // The leader freezes (SIGSTOP): it neither renews nor writes. Until the lease runs out (15 s after its last
    // renewal), nobody may write, so a change in west is not counted yet; then the follower takes over.
    const before = await westWorkloadsSeenByEast();
    process.kill(first.pid, 'SIGSTOP');
    try {
      await tb.cluster('west').seed({ nodes: westNode, pods: [{ namespace: 'default', name: 'q', count: 2 }] });
      const frozenAt = Date.now();
      while (Date.now() - frozenAt < 8_000) {
        assert.equal(await westWorkloadsSeenByEast(), before, 'no replica writes while the lease is held');
        await new Promise((r) => setTimeout(r, 500));
      }
      await eventually(async () => assert.equal(await westWorkloadsSeenByEast(), before + 2), 30_000);
      assert.equal(await leaderMetric(port), '1');
      assert.notEqual(await leaseHolder(), firstHolder);
    } finally {
      process.kill(first.pid, 'SIGCONT');
    }
    // Resumed, the old leader sees the lease taken and steps down; the count it holds stays current.
    await eventually(async () => assert.equal(await leaderMetric(first.port), '0'), 15_000);
    const holder = await leaseHolder();
    await tb.cluster('west').seed({ nodes: westNode, pods: [{ namespace: 'default', name: 'r', count: 1 }] });
    await eventually(async () => assert.equal(await westWorkloadsSeenByEast(), before + 3));
    assert.equal(await leaseHolder(), holder);
    assert.equal(await leaderMetric(first.port), '0');
  });
});

describe('fedmesh remote-access', () => {
  test('--dry-run prints the remote objects and creates nothing', async () => {
    const north = tb.cluster('north');
    const r = await fedmesh([
      'remote-access',
      '--cluster-name',
      'north',
      '--kubeconfig',
      north.kubeconfig,
      '--dry-run',
      '--namespace',
      'dry',
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /kind: ClusterRole/);
    assert.match(r.stdout, /- list\n\s+- watch/);
    assert.match(r.stdout, /kind: RemoteClusterConfiguration/);
    assert.notEqual((await north.kubectl(['get', 'namespace', 'dry'])).code, 0, 'nothing was created');
  });

  test('its output, applied in the local cluster, joins the remote: the once-per-pair workflow', async () => {
    const east = tb.cluster('east');
    await east.kubectlOk(['delete', 'rcc', 'north']);
    await east.kubectlOk(['delete', 'secret', '-n', 'fedmesh-system', 'remote-cluster-north']);
    const r = await fedmesh([
      'remote-access',
      '--cluster-name',
      'north',
      '--kubeconfig',
      tb.cluster('north').kubeconfig,
    ]);
    assert.equal(r.code, 0, r.stderr);
    await east.kubectlOk(['apply', '-f', '-'], r.stdout);
    await eventually(async () => assert.equal(await rccState('east', 'north'), 'InSync'), 30_000);
    await east.client.get(`${rccPath}/north`);
  });

  test('applying its output again keeps an overlay enabled since; the flag sets the mode', async () => {
    const east = tb.cluster('east');
    const mode = async () =>
      (await east.kubectlOk(['get', 'rcc', 'north', '-o', 'jsonpath={.spec.overlayRoutingMode}'])).trim();
    assert.equal(await mode(), 'Disabled', 'a new RCC gets the default');
    await east.kubectlOk(['patch', 'rcc', 'north', '--type=merge', '-p', '{"spec":{"overlayRoutingMode":"Enabled"}}']);
    const join = (...extra: string[]) =>
      fedmesh(['remote-access', '--cluster-name', 'north', '--kubeconfig', tb.cluster('north').kubeconfig, ...extra]);
    const again = await join();
    assert.equal(again.code, 0, again.stderr);
    assert.doesNotMatch(again.stdout, /overlayRoutingMode/);
    await east.kubectlOk(['apply', '-f', '-'], again.stdout);
    assert.equal(await mode(), 'Enabled', 'the re-applied join left the overlay on');
    const off = await join('--overlay-routing-mode', 'Disabled');
    assert.equal(off.code, 0, off.stderr);
    await east.kubectlOk(['apply', '-f', '-'], off.stdout);
    assert.equal(await mode(), 'Disabled');
    const bad = await join('--overlay-routing-mode', 'on');
    assert.equal(bad.code, 2, bad.stderr);
    assert.match(bad.stderr, /--overlay-routing-mode must be Enabled or Disabled, not "on"/);
  });

  test('testbed down stops the servers', async () => {
    const recs = servers();
    assert.equal(recs.length, 3);
    const r = await fedmesh(['testbed', 'down']);
    assert.equal(r.code, 0, r.stderr);
    for (const s of recs) assert.equal(isRunning(s), false, `server of ${s.cluster} stopped`);
  });
});
