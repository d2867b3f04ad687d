// The dataplane with real packets: two clusters of two nodes each, every node a network namespace on one underlay
// bridge, every pod a namespace behind a veth, a `fedmesh agent` in each node. East pods reach west pods over the
// VXLAN overlay; NetworkPolicies and FederatedNetworkPolicies in west decide which remote pods get in.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import { fnpCrd } from '../core/policy/index.js';
import { runTool } from '../dataplane-agent/exec.js';
import { deployFedmesh } from './testbed/deploy.js';
import { eventually, startTestbed, type Testbed, type TestCluster } from './testbed/harness.js';
import type { NetnsNode, NetnsPod } from './testbed/netns.js';
import {
  agentMetricsPort,
  type NetnsDataplane,
  netnsAddressPlan,
  startAgentAgain,
  startNetnsDataplane,
  stopAgent,
  waitForAgent,
} from './testbed/netns-dataplane.js';

const port = 8080;
let tb: Testbed;
let east: TestCluster;
let west: TestCluster;
let dp: NetnsDataplane;
const children: ChildProcess[] = [];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const pod = (cluster: string, name: string): NetnsPod => {
  const p = dp.layout.pods.find((x) => x.cluster === cluster && x.name === name);
  if (!p) throw new Error(`no pod ${cluster}/${name}`);
  return p;
};
const nodeOf = (p: NetnsPod): NetnsNode => {
  const n = dp.layout.nodes.find((x) => x.cluster === p.cluster && x.name === p.node);
  if (!n) throw new Error(`no node ${p.node}`);
  return n;
};

/** Runs a Node.js script inside a pod's network namespace, kept until the file's end. */
function spawnIn(netns: string, script: string, args: readonly string[]): ChildProcess {
  const child = spawn('ip', ['netns', 'exec', netns, process.execPath, '-e', script, ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  children.push(child);
  return child;
}

// Replies with the address it sees, then echoes: the receiver's view of the sender, and a live connection.
const serverScript = `require('node:net').createServer((s) => { s.on('error', () => {}); s.write(s.remoteAddress + '\\n'); s.on('data', (d) => s.write(d)); }).listen(Number(process.argv[1]), '0.0.0.0', () => console.log('listening'));`;

// One connection: prints the first line the server sends, exits 1 when none comes within the timeout.
const connectOnceScript = `const s = require('node:net').connect(Number(process.argv[2]), process.argv[1]); const t = setTimeout(() => process.exit(1), 1500); s.on('data', (d) => { process.stdout.write(String(d).split('\\n')[0]); clearTimeout(t); s.destroy(); process.exit(0); }); s.on('error', () => process.exit(1));`;

// A new connection attempt every 50 ms, each with its own 400 ms deadline (a dropped SYN would otherwise wait a
// second for its retransmit): one JSON line per attempt with its start time and outcome.
const proberScript = `const net = require('node:net'); const [ip, port] = process.argv.slice(1); setInterval(() => { const t = Date.now(); let done = false; const end = (ok) => { if (done) return; done = true; clearTimeout(timer); s.destroy(); process.stdout.write(JSON.stringify({ t, ok }) + '\\n'); }; const s = net.connect(Number(port), ip); const timer = setTimeout(() => end(false), 400); s.on('connect', () => end(true)); s.on('error', () => end(false)); }, 50);`;

// One long-lived connection: sends a byte every 100 ms and prints how many came back.
const holderScript = `const s = require('node:net').connect(Number(process.argv[2]), process.argv[1]); let sent = 0, echoed = 0, first = true; s.on('data', (d) => { if (first) { first = false; return; } echoed += d.length; }); s.on('connect', () => setInterval(() => { s.write('x'); sent++; process.stdout.write(JSON.stringify({ t: Date.now(), sent, echoed }) + '\\n'); }, 100)); s.on('close', () => { process.stdout.write(JSON.stringify({ t: Date.now(), closed: true }) + '\\n'); process.exit(0); }); s.on('error', () => {});`;

interface Attempt {
  readonly t: number;
  readonly ok: boolean;
}

/** A continuous prober from a pod to an IP: every attempt it made, as they complete. */
function startProber(from: NetnsPod, ip: string): { attempts: Attempt[]; stop(): void } {
  const child = spawnIn(from.netns, proberScript, [ip, String(port)]);
  const attempts: Attempt[] = [];
  let buf = '';
  child.stdout?.on('data', (d: Buffer) => {
    buf += d.toString();
    const lines = buf.split('\n');
    buf = lines.pop() ?? '';
    for (const l of lines) if (l) attempts.push(JSON.parse(l) as Attempt);
  });
  return { attempts, stop: () => child.kill('SIGKILL') };
}

async function connectOnce(from: NetnsPod, to: NetnsPod): Promise<string | undefined> {
  const r = await runTool('ip', [
    'netns',
    'exec',
    from.netns,
    process.execPath,
    '-e',
    connectOnceScript,
    to.ip,
    String(port),
  ]);
  return r.code === 0 ? r.stdout : undefined;
}

async function ping(from: NetnsPod, to: NetnsPod): Promise<boolean> {
  const r = await runTool('ip', ['netns', 'exec', from.netns, 'ping', '-c', '1', '-W', '1', to.ip]);
  return r.code === 0;
}

async function expectReach(from: NetnsPod, to: NetnsPod, timeoutMs = 15_000): Promise<void> {
  await eventually(
    async () => assert.equal(await connectOnce(from, to), from.ip, `${from.name} -> ${to.name}`),
    timeoutMs,
    200,
  );
}

async function expectRefused(from: NetnsPod, to: NetnsPod, timeoutMs = 15_000): Promise<void> {
  await eventually(
    async () => assert.equal(await connectOnce(from, to), undefined, `${from.name} -> ${to.name} must be refused`),
    timeoutMs,
    200,
  );
}

/** Waits until attempts started after `since` succeed (ok) or fail (!ok); returns the first such attempt's start. */
async function firstOutcomeAfter(
  prober: { attempts: Attempt[] },
  since: number,
  ok: boolean,
  timeoutMs = 10_000,
): Promise<number> {
  return eventually(
    async () => {
      const hit = prober.attempts.find((a) => a.t >= since && a.ok === ok);
      assert.ok(hit, `no ${ok ? 'successful' : 'failed'} attempt since the change yet`);
      return hit.t;
    },
    timeoutMs,
    25,
  );
}

/** One gauge or counter of a node's agent, read from its /metrics inside the node's namespace. */
async function agentMetric(node: NetnsNode, name: string): Promise<number | undefined> {
  const script = `fetch('http://127.0.0.1:${agentMetricsPort}/metrics').then((r) => r.text()).then((t) => process.stdout.write(t), () => process.exit(1));`;
  const r = await runTool('ip', ['netns', 'exec', node.netns, process.execPath, '-e', script]);
  const line = r.stdout.split('\n').find((l) => l.startsWith(`${name} `));
  return line === undefined ? undefined : Number(line.slice(name.length + 1));
}

/** The route of a node's main table for exactly `dst`, as `ip route` prints it, or '' when there is none. */
async function routeTo(node: NetnsNode, dst: string): Promise<string> {
  const r = await runTool('ip', ['-n', node.netns, 'route', 'show', 'table', 'main', 'exact', dst]);
  assert.equal(r.code, 0, r.stderr);
  return r.stdout.trim();
}

async function apply(cluster: TestCluster, obj: unknown): Promise<void> {
  await cluster.kubectlOk(['apply', '-f', '-'], JSON.stringify(obj));
}

async function relabel(cluster: TestCluster, p: NetnsPod, app: string): Promise<void> {
  await cluster.client.mergePatch(`/api/v1/namespaces/${p.namespace}/pods/${p.name}`, {
    metadata: { labels: { app } },
  });
}

async function nftTable(node: NetnsNode): Promise<string> {
  const r = await runTool('ip', ['netns', 'exec', node.netns, 'nft', 'list', 'table', 'inet', 'fedmesh']);
  assert.equal(r.code, 0, r.stderr);
  return r.stdout;
}

const eastClientsOnly = {
  apiVersion: 'networking.k8s.io/v1',
  kind: 'NetworkPolicy',
  metadata: { namespace: 'demo', name: 'east-clients' },
  spec: {
    podSelector: { matchLabels: { app: 'server' } },
    ingress: [
      {
        from: [
          {
            podSelector: {
              matchLabels: { app: 'client' },
              matchExpressions: [{ key: 'fedmesh.io/cluster', operator: 'In', values: ['east'] }],
            },
          },
        ],
      },
    ],
  },
};

before(async () => {
  tb = await startTestbed({ name: 'dataplane', clusters: ['east', 'west'] });
  east = tb.cluster('east');
  west = tb.cluster('west');
  // Two nodes per cluster, one pod on each, all in namespace demo.
  const scenario = (i: number, pods: [name: string, app: string][]) => ({
    ...netnsAddressPlan(i),
    namespaces: [{ name: 'demo', labels: { team: 'demo' } }],
    nodes: [{ name: 'node', count: 2 }],
    pods: pods.map(([name, app], n) => ({ namespace: 'demo', name, node: `node-${n}`, labels: { app } })),
  });
  await east.seed(
    scenario(0, [
      ['client', 'client'],
      ['other', 'other'],
    ]),
  );
  await west.seed(
    scenario(1, [
      ['server', 'server'],
      ['peer', 'client'],
    ]),
  );
  for (const c of [east, west]) await apply(c, fnpCrd);
  await deployFedmesh(tb.state, (m) => console.error(`[deploy] ${m}`));
  dp = await startNetnsDataplane(tb.state, (m) => console.error(`[netns] ${m}`));
  const server = spawnIn(pod('west', 'server').netns, serverScript, [String(port)]);
  await new Promise<void>((resolve) => server.stdout?.once('data', () => resolve()));
});

after(async () => {
  for (const c of children) c.kill('SIGKILL');
  await tb?.down();
});

describe('overlay', () => {
  test('without policy an east pod reaches a west pod over VXLAN (TCP and ICMP), and the receiver sees its pod IP', async () => {
    const client = pod('east', 'client');
    const server = pod('west', 'server');
    await expectReach(client, server, 60_000);
    assert.ok(await ping(client, server), 'ICMP echo east -> west');
    // The packets went through the tunnel: the east node routes west's pod CIDR via its VXLAN device.
    const routes = await runTool('ip', ['-n', nodeOf(client).netns, 'route', 'show', 'dev', 'fedmesh.vxlan']);
    assert.match(routes.stdout, /10\.245\.\d+\.0\/24 nhid \d+ via 10\.245\.\d+\.0 proto 201 onlink/);
    // The VTEP is published on the Node for the other clusters.
    const node = await west.client.get<{ metadata: { annotations?: Record<string, string> } }>(
      `/api/v1/nodes/${server.node}`,
    );
    assert.match(node.metadata.annotations?.['fedmesh.io/vtep-mac'] ?? '', /^66(:[0-9a-f]{2}){5}$/);
    assert.match(node.metadata.annotations?.['fedmesh.io/vtep-ip'] ?? '', /^10\.245\.\d+\.0$/);
    // What the last full transaction needed in the transaction directory, for sizing it.
    const bytes = await agentMetric(nodeOf(server), 'fedmesh_agent_nft_full_sync_bytes');
    assert.ok(bytes !== undefined && bytes > 200, `fedmesh_agent_nft_full_sync_bytes ${bytes}`);
  });
  test('a remote node claiming a local route (another node’s pod CIDR, part of the node subnet) is refused, and the route stays after it goes', async () => {
    const node0 = dp.layout.nodes.find((n) => n.cluster === 'west' && n.name === 'node-0');
    const node1 = dp.layout.nodes.find((n) => n.cluster === 'west' && n.name === 'node-1');
    assert.ok(node0 && node1);
    const otherNodeCIDR = node1.podCIDRs[0] ?? '';
    const cniRoute = await routeTo(node0, otherNodeCIDR);
    assert.match(cniRoute, new RegExp(`via ${node1.underlayIP.replaceAll('.', '\\.')} dev eth0`));
    const insideSubnet = '172.18.1.128/25'; // inside west's node subnet (the underlay's 172.18.0.0/16)
    assert.equal(await routeTo(node0, insideSubnet), '');
    // Nodes of east, published to west as RemoteNodes: what a remote admin can write.
    const intruders = [
      ['intruder-route', otherNodeCIDR, 201],
      ['intruder-subnet', insideSubnet, 202],
    ] as const;
    try {
      for (const [name, podCIDR, i] of intruders) {
        await east.client.create('/api/v1/nodes', {
          apiVersion: 'v1',
          kind: 'Node',
          metadata: {
            name,
            annotations: {
              'fedmesh.io/vtep-ip': `10.244.${i}.0`,
              'fedmesh.io/vtep-mac': `66:00:00:00:00:${i.toString(16)}`,
            },
          },
          spec: { podCIDR, podCIDRs: [podCIDR] },
          status: { addresses: [{ type: 'InternalIP', address: `172.18.0.${i}` }] },
        });
      }
      await eventually(
        async () => {
          assert.equal(await routeTo(node0, otherNodeCIDR), cniRoute, 'the CNI route was taken over');
          assert.equal(await routeTo(node0, insideSubnet), '', 'part of the node subnet was routed into the tunnel');
          assert.equal(await agentMetric(node0, 'fedmesh_agent_overlay_problems'), 2);
        },
        30_000,
        300,
      );
    } finally {
      for (const [name] of intruders) await east.kubectl(['delete', 'node', name, '--ignore-not-found']);
    }
    await eventually(
      async () => assert.equal(await agentMetric(node0, 'fedmesh_agent_overlay_problems'), 0),
      30_000,
      300,
    );
    assert.equal(await routeTo(node0, otherNodeCIDR), cniRoute, 'the CNI route is gone after the remote node went');
    assert.equal(await routeTo(node0, insideSubnet), '');
  });
});

// Prints each datagram it receives as `<inner source> <payload>`.
const udpListenScript = `const s = require('node:dgram').createSocket('udp4'); s.on('message', (m, r) => console.log(r.address + ' ' + String(m))); s.bind(Number(process.argv[1]), '0.0.0.0', () => console.log('listening'));`;

// Sends one VXLAN frame as any host that reaches a node's VXLAN port can: outer UDP to argv[1]:argv[2], VNI
// argv[3], an inner IPv4/UDP packet from argv[5] to argv[6]:argv[7] for the device MAC argv[4], payload argv[8].
const vxlanSendScript = `const [dst, port, vni, mac, src, to, toPort, text] = process.argv.slice(1);
const quad = (a) => Buffer.from(a.split('.').map(Number)); const payload = Buffer.from(text);
const udp = Buffer.alloc(8); udp.writeUInt16BE(40000, 0); udp.writeUInt16BE(Number(toPort), 2); udp.writeUInt16BE(8 + payload.length, 4);
const ip = Buffer.alloc(20); ip[0] = 0x45; ip.writeUInt16BE(28 + payload.length, 2); ip[8] = 64; ip[9] = 17; quad(src).copy(ip, 12); quad(to).copy(ip, 16);
let sum = 0; for (let i = 0; i < 20; i += 2) sum += ip.readUInt16BE(i); while (sum > 0xffff) sum = (sum & 0xffff) + (sum >> 16); ip.writeUInt16BE(~sum & 0xffff, 10);
const eth = Buffer.concat([Buffer.from(mac.split(':').map((h) => parseInt(h, 16))), Buffer.from([2, 0, 0, 0, 0, 9, 8, 0])]);
const vx = Buffer.alloc(8); vx[0] = 8; vx.writeUIntBE(Number(vni), 4, 3);
const s = require('node:dgram').createSocket('udp4'); s.send(Buffer.concat([vx, eth, ip, udp, payload]), Number(port), dst, (e) => { s.close(); process.exit(e ? 1 : 0); });`;

describe('the tunnel', () => {
  test('a packet out of the tunnel with a source the tunnel does not route (a spoofed local pod) is dropped', async () => {
    const server = pod('west', 'server');
    const node = nodeOf(server);
    const sender = nodeOf(pod('east', 'client'));
    const listener = spawnIn(server.netns, udpListenScript, ['5000']);
    const received: string[] = [];
    let buf = '';
    await new Promise<void>((resolve) => {
      listener.stdout?.on('data', (d: Buffer) => {
        buf += d.toString();
        const lines = buf.split('\n');
        buf = lines.pop() ?? '';
        for (const l of lines)
          if (l === 'listening') resolve();
          else if (l) received.push(l);
      });
    });
    const link = await runTool('ip', ['-n', node.netns, '-j', 'link', 'show', 'fedmesh.vxlan']);
    const mac = (JSON.parse(link.stdout) as { address: string }[])[0]?.address ?? '';
    assert.match(mac, /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/);
    const send = async (source: string, text: string) => {
      const r = await runTool('ip', [
        'netns',
        'exec',
        sender.netns,
        process.execPath,
        '-e',
        vxlanSendScript,
        node.underlayIP,
        '4789',
        '4097',
        mac,
        source,
        server.ip,
        '5000',
        text,
      ]);
      assert.equal(r.code, 0, r.stderr);
    };
    // No policy selects the server. The frame is well made: from a remote pod's address (routed through the
    // tunnel) it is delivered.
    await eventually(
      async () => {
        await send(pod('east', 'client').ip, 'remote');
        await sleep(200);
        assert.ok(received.includes(`${pod('east', 'client').ip} remote`), received.join('; '));
      },
      15_000,
      100,
    );
    // The same frame claiming a local pod's address (west's peer, on the other node) never is, nor one claiming an
    // address nobody holds; the first frame again still is.
    for (const source of [pod('west', 'peer').ip, '10.99.0.1']) await send(source, 'spoofed');
    await send(pod('east', 'client').ip, 'remote-again');
    await eventually(async () => assert.ok(received.includes(`${pod('east', 'client').ip} remote-again`)), 5_000, 50);
    await sleep(500);
    assert.deepEqual(
      received.filter((l) => l.endsWith('spoofed')),
      [],
    );
    listener.kill('SIGKILL');
  });
});

describe('policy', () => {
  test('a NetworkPolicy admitting east pods labelled app=client: only that pod gets in; relabelling flips within 1 s', async (t) => {
    const client = pod('east', 'client');
    const other = pod('east', 'other');
    const peer = pod('west', 'peer');
    const server = pod('west', 'server');
    await apply(west, eastClientsOnly);
    await expectRefused(other, server);
    await expectReach(client, server);
    await expectRefused(peer, server); // west pod labelled app=client: not in east
    assert.ok(!(await ping(other, server)), 'ICMP from a refused pod is dropped too');

    const prober = startProber(other, server.ip);
    try {
      await firstOutcomeAfter(prober, Date.now(), false);
      const t0 = Date.now();
      await relabel(east, other, 'client');
      const allowedAt = await firstOutcomeAfter(prober, t0, true);
      assert.ok(allowedAt - t0 <= 1000, `allowed ${allowedAt - t0} ms after the relabel`);
      t.diagnostic(`relabel -> first connection allowed: ${allowedAt - t0} ms`);
      const t1 = Date.now();
      await relabel(east, other, 'other');
      await sleep(1000);
      const late = prober.attempts.filter((a) => a.t >= t1 + 1000);
      await eventually(async () => assert.ok(prober.attempts.some((a) => a.t >= t1 + 1200)), 5000, 50);
      assert.ok(
        prober.attempts.filter((a) => a.t >= t1 + 1000).every((a) => !a.ok),
        `refused again within 1 s of the relabel (${JSON.stringify(late.filter((a) => a.ok))})`,
      );
    } finally {
      prober.stop();
    }
    await west.kubectlOk(['delete', 'networkpolicy', '-n', 'demo', 'east-clients']);
    await expectReach(other, server);
  });

  test('FederatedNetworkPolicies with Deny and order: an earlier Deny wins over a later Allow; relabelling flips within 1 s', async (t) => {
    const client = pod('east', 'client');
    const other = pod('east', 'other');
    const peer = pod('west', 'peer');
    const server = pod('west', 'server');
    const fnp = (name: string, order: number, rule: unknown) => ({
      apiVersion: 'fedmesh.io/v1alpha1',
      kind: 'FederatedNetworkPolicy',
      metadata: { namespace: 'demo', name },
      spec: { selector: "app == 'server'", order, types: ['Ingress'], ingress: [rule] },
    });
    const denyUnlabelled = (order: number) =>
      fnp('deny-unlabelled', order, {
        action: 'Deny',
        source: { selector: "fedmesh.io/cluster == 'east' && app != 'client'" },
      });
    await apply(west, denyUnlabelled(10));
    await apply(west, fnp('allow-east', 20, { action: 'Allow', source: { selector: "fedmesh.io/cluster == 'east'" } }));
    await expectRefused(other, server);
    await expectReach(client, server);
    await expectRefused(peer, server);

    const prober = startProber(other, server.ip);
    try {
      await firstOutcomeAfter(prober, Date.now(), false);
      const t0 = Date.now();
      await relabel(east, other, 'client');
      const allowedAt = await firstOutcomeAfter(prober, t0, true);
      assert.ok(allowedAt - t0 <= 1000, `allowed ${allowedAt - t0} ms after the relabel`);
      t.diagnostic(`relabel -> first connection allowed: ${allowedAt - t0} ms`);
      await relabel(east, other, 'other');
      await firstOutcomeAfter(prober, Date.now() + 1000, false);
    } finally {
      prober.stop();
    }
    // The order decides: with the Deny after the Allow, the Allow wins.
    await apply(west, denyUnlabelled(30));
    await expectReach(other, server);
    await west.kubectlOk(['delete', 'federatednetworkpolicy', '-n', 'demo', 'deny-unlabelled', 'allow-east']);
  });

  test('a peer without a cluster term admits no remote pod (the safe default)', async () => {
    const client = pod('east', 'client');
    const peer = pod('west', 'peer');
    const server = pod('west', 'server');
    await apply(west, {
      ...eastClientsOnly,
      metadata: { namespace: 'demo', name: 'clients-anywhere' },
      spec: { ...eastClientsOnly.spec, ingress: [{ from: [{ podSelector: { matchLabels: { app: 'client' } } }] }] },
    });
    await expectRefused(client, server);
    await expectReach(peer, server); // the local pod with the label
    await west.kubectlOk(['delete', 'networkpolicy', '-n', 'demo', 'clients-anywhere']);
  });
});

describe('agent restart', () => {
  test('established connections survive, a denied flow never gets through, a policy deleted meanwhile leaves no rule', async () => {
    const client = pod('east', 'client');
    const other = pod('east', 'other');
    const server = pod('west', 'server');
    const serverNode = nodeOf(server);
    await apply(west, eastClientsOnly);
    const extra = {
      ...eastClientsOnly,
      metadata: { namespace: 'demo', name: 'extra-9999' },
      spec: { ...eastClientsOnly.spec, ingress: [{ ports: [{ port: 9999 }] }] },
    };
    await apply(west, extra);
    await expectRefused(other, server);
    await expectReach(client, server);
    await eventually(async () => assert.match(await nftTable(serverNode), /9999/), 15_000, 200);

    const holder = spawnIn(client.netns, holderScript, [server.ip, String(port)]);
    const samples: { t: number; sent?: number; echoed?: number; closed?: boolean }[] = [];
    let buf = '';
    holder.stdout?.on('data', (d: Buffer) => {
      buf += d.toString();
      const lines = buf.split('\n');
      buf = lines.pop() ?? '';
      for (const l of lines) if (l) samples.push(JSON.parse(l));
    });
    await eventually(async () => assert.ok((samples.at(-1)?.echoed ?? 0) > 2), 10_000, 50);
    const prober = startProber(other, server.ip);
    try {
      await firstOutcomeAfter(prober, Date.now(), false);
      await stopAgent(tb.state, serverNode);
      await west.kubectlOk(['delete', 'networkpolicy', '-n', 'demo', 'extra-9999']);
      await sleep(500);
      const echoedWhileDown = samples.at(-1)?.echoed ?? 0;
      await startAgentAgain(tb.state, dp, serverNode);
      const restartedAt = Date.now();
      await eventually(async () => assert.ok((samples.at(-1)?.echoed ?? 0) > echoedWhileDown + 5), 10_000, 50);
      await eventually(async () => assert.ok(prober.attempts.some((a) => a.t > restartedAt + 500)), 10_000, 50);
      assert.ok(!samples.some((s) => s.closed), 'the established connection was not closed');
      const last = samples.at(-1);
      assert.ok(
        last && last.sent !== undefined && last.echoed !== undefined && last.sent - last.echoed <= 3,
        `echo kept up: ${JSON.stringify(last)}`,
      );
      assert.deepEqual(
        prober.attempts.filter((a) => a.ok),
        [],
        'the denied flow never got through during the restart',
      );
      assert.ok(prober.attempts.length > 20, `the prober kept probing (${prober.attempts.length} attempts)`);
      const table = await nftTable(serverNode);
      assert.doesNotMatch(table, /9999/, 'the policy deleted while the agent was down left a rule behind');
    } finally {
      prober.stop();
      holder.kill('SIGKILL');
    }
  });

  test('a rebooted node enforces its local policy while the federation API is down; the mesh follows when it is back', async () => {
    const client = pod('east', 'client');
    const peer = pod('west', 'peer');
    const server = pod('west', 'server');
    const serverNode = nodeOf(server);
    const nobody = {
      ...eastClientsOnly,
      metadata: { namespace: 'demo', name: 'from-nobody' },
      spec: { ...eastClientsOnly.spec, ingress: [{ from: [{ podSelector: { matchLabels: { app: 'nobody' } } }] }] },
    };
    // Only this test's policy selects the server (the one the test before left goes).
    await west.kubectlOk(['delete', 'networkpolicy', '-n', 'demo', 'east-clients', '--ignore-not-found']);
    await apply(west, nobody);
    await expectRefused(peer, server);
    // The federation API of west goes away (its APIService deleted: the agent's remote lists get 404).
    const apiService = JSON.parse(
      await west.kubectlOk(['get', 'apiservice', 'v1alpha1.federation.fedmesh.io', '-o', 'json']),
    ) as { metadata: Record<string, unknown>; spec: unknown };
    await west.kubectlOk(['delete', 'apiservice', 'v1alpha1.federation.fedmesh.io']);
    try {
      // A reboot: the agent goes and the kernel forgets fedmesh's table; every pod of the node is unfiltered. Then
      // an agent starts and stops before its first full sync: it leaves the table with only the `peers` set it
      // created to stream (no chain), which filters nothing either and must not be taken for a ruleset to keep.
      await stopAgent(tb.state, serverNode);
      const gone = await runTool(
        'ip',
        ['netns', 'exec', serverNode.netns, 'nft', '-f', '-'],
        [
          'delete table inet fedmesh',
          'add table inet fedmesh',
          'add set inet fedmesh peers { type ipv4_addr . mark; }',
          '',
        ].join('\n'),
      );
      assert.equal(gone.code, 0, gone.stderr);
      await expectReach(peer, server);
      const started = Date.now();
      await startAgentAgain(tb.state, dp, serverNode, { waitReady: false });
      // The local policy goes in once the local sources have listed and the remote ones' grace (10 s) is over.
      await expectRefused(peer, server, 40_000);
      const took = Date.now() - started;
      console.error(`[dataplane] local policy enforced ${took} ms after the agent started, the federation API down`);
      assert.ok(took < 30_000, `took ${took} ms`);
      await expectRefused(client, server, 5_000);
    } finally {
      await west.kubectlOk(
        ['apply', '-f', '-'],
        JSON.stringify({
          apiVersion: 'apiregistration.k8s.io/v1',
          kind: 'APIService',
          metadata: { name: apiService.metadata.name, labels: apiService.metadata.labels },
          spec: apiService.spec,
        }),
      );
    }
    await waitForAgent(tb.state, serverNode, 90_000);
    await west.kubectlOk(['delete', 'networkpolicy', '-n', 'demo', 'from-nobody']);
    await expectReach(client, server); // the mesh is back: the tunnel carries east's pods again
    await expectReach(peer, server);
  });
});
