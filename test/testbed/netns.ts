// The dataplane part of the testbed (what a node's OS and CNI plugin would do): each testbed node is a network
// namespace whose eth0 sits on a bridge in an underlay namespace of its own, and each pod is a namespace behind a
// veth, with the IP the testbed gave it from its node's podCIDR. Traffic stays inside these namespaces.
//
// Every namespace is named `fm<id>-…`, with <id> derived from the testbed directory, so that `down` finds and
// removes them all from the directory alone, even when the state file is gone or the process that made them
// crashed half-way. Links need no cleanup of their own: a veth dies with the namespace of either end.

import { createHash } from 'node:crypto';
import { CommandError, runTool, runToolOk } from '../../dataplane-agent/exec.js';

export interface NetnsNode {
  readonly cluster: string;
  readonly name: string;
  readonly netns: string;
  /** The node's InternalIP, on the underlay bridge. */
  readonly underlayIP: string;
  readonly podCIDRs: readonly string[];
}

export interface NetnsPod {
  readonly cluster: string;
  readonly namespace: string;
  readonly name: string;
  readonly node: string;
  readonly netns: string;
  readonly ip: string;
}

export interface NetnsLayout {
  readonly prefix: string;
  readonly underlay: string;
  readonly nodes: NetnsNode[];
  readonly pods: NetnsPod[];
}

/** The underlay's prefix length: every node of every cluster is on one L2 segment (172.18.0.0/16 by default). */
export const underlayPrefixLength = 16;
/** The pods' default gateway: a link-local address no one holds, resolved statically to the node's veth end. */
const podGateway = '169.254.1.1';
/** The MAC of every node-side veth end (Calico's choice): the pod's gateway neighbour entry is fixed. */
const hostVethMac = 'ee:ee:ee:ee:ee:ee';
/** Pod MTU: room for the 50 bytes of VXLAN encapsulation on a 1500-byte underlay (what a CNI plugin would set). */
export const podMtu = 1450;

/** `fm<6 hex>-`: the prefix of every namespace of the testbed in `dir`. */
export function netnsPrefix(dir: string): string {
  return `fm${createHash('sha256').update(dir).digest('hex').slice(0, 6)}-`;
}

/** Names of the existing network namespaces. */
export async function listNetns(): Promise<string[]> {
  const out = await runToolOk('ip', ['-j', 'netns', 'list']);
  if (out.trim() === '') return [];
  return (JSON.parse(out) as { name: string }[]).map((n) => n.name);
}

/** Removes every namespace of the testbed in `dir` (and with it every link and agent socket in it). */
export async function removeNetns(dir: string): Promise<number> {
  const prefix = netnsPrefix(dir);
  const mine = (await listNetns()).filter((n) => n.startsWith(prefix));
  if (mine.length === 0) return 0;
  // -force: a namespace that vanished meanwhile must not stop the others from being removed.
  await runTool('ip', ['-force', '-batch', '-'], mine.map((n) => `netns delete ${n}\n`).join(''));
  const left = (await listNetns()).filter((n) => n.startsWith(prefix));
  if (left.length > 0) throw new Error(`could not remove network namespaces: ${left.join(', ')}`);
  return mine.length;
}

async function ipBatch(netns: string | null, lines: readonly string[]): Promise<void> {
  const args = netns ? ['-n', netns, '-batch', '-'] : ['-batch', '-'];
  const r = await runTool('ip', args, `${lines.join('\n')}\n`);
  if (r.code !== 0) throw new CommandError(`ip ${args.join(' ')} (${lines.length} lines)`, r.code, r.stderr);
}

/** Sysctls of one namespace, written through /proc/sys inside it. */
async function sysctls(netns: string, values: Readonly<Record<string, string>>): Promise<void> {
  const script = Object.entries(values)
    .map(([k, v]) => `echo ${v} > /proc/sys/${k.replaceAll('.', '/')}`)
    .join(' && ');
  await runToolOk('ip', ['netns', 'exec', netns, 'sh', '-c', script]);
}

export interface NodeSpec {
  readonly cluster: string;
  readonly name: string;
  readonly underlayIP: string;
  readonly podCIDRs: readonly string[];
}

export interface PodSpec {
  readonly cluster: string;
  readonly namespace: string;
  readonly name: string;
  readonly node: string;
  readonly ip: string;
}

/**
 * Builds the namespaces: underlay bridge, nodes, pods, and the routes a cluster's own CNI would set up between the
 * nodes of one cluster (each node's podCIDR via its InternalIP). Routes between clusters are the agent's job.
 * On failure it removes what it made and throws.
 */
export async function createNetns(
  dir: string,
  nodes: readonly NodeSpec[],
  pods: readonly PodSpec[],
): Promise<NetnsLayout> {
  const prefix = netnsPrefix(dir);
  const existing = (await listNetns()).filter((n) => n.startsWith(prefix));
  if (existing.length > 0) {
    throw new Error(`network namespaces of this testbed exist already (${existing.length}, e.g. ${existing[0]})`);
  }
  const layout: NetnsLayout = { prefix, underlay: `${prefix}underlay`, nodes: [], pods: [] };
  try {
    nodes.forEach((n, i) => {
      layout.nodes.push({ ...n, netns: `${prefix}node${i}` });
    });
    const nodeByKey = new Map(layout.nodes.map((n) => [`${n.cluster}/${n.name}`, n]));
    pods.forEach((p, i) => {
      const node = nodeByKey.get(`${p.cluster}/${p.node}`);
      if (!node) throw new Error(`pod ${p.cluster}/${p.namespace}/${p.name}: node ${p.node} is not a netns node`);
      layout.pods.push({ ...p, netns: `${prefix}pod${i}` });
    });
    const all = [layout.underlay, ...layout.nodes.map((n) => n.netns), ...layout.pods.map((p) => p.netns)];
    await ipBatch(
      null,
      all.map((n) => `netns add ${n}`),
    );
    await ipBatch(layout.underlay, ['link set lo up', 'link add br0 type bridge', 'link set br0 up']);
    await ipBatch(
      layout.underlay,
      layout.nodes.flatMap((n, i) => [
        `link add n${i} type veth peer name eth0 netns ${n.netns}`,
        `link set n${i} master br0 up`,
      ]),
    );
    await Promise.all(
      layout.nodes.map(async (n) => {
        const myPods = layout.pods
          .map((p, i) => ({ p, i }))
          .filter(({ p }) => p.cluster === n.cluster && p.node === n.name);
        const peers = layout.nodes.filter((o) => o.cluster === n.cluster && o !== n);
        await ipBatch(n.netns, [
          'link set lo up',
          `addr add ${n.underlayIP}/${underlayPrefixLength} dev eth0`,
          'link set eth0 up',
          ...myPods.flatMap(({ p, i }) => [
            `link add p${i} address ${hostVethMac} type veth peer name eth0 netns ${p.netns}`,
            `link set p${i} up`,
            `route add ${p.ip}/32 dev p${i} scope link`,
          ]),
          ...peers.flatMap((o) => o.podCIDRs.map((c) => `route add ${c} via ${o.underlayIP} dev eth0`)),
        ]);
        await sysctls(n.netns, {
          'net.ipv4.ip_forward': '1',
          'net.ipv4.conf.all.rp_filter': '0',
          'net.ipv4.conf.default.rp_filter': '0',
        });
      }),
    );
    await Promise.all(
      layout.pods.map((p) =>
        ipBatch(p.netns, [
          'link set lo up',
          `addr add ${p.ip}/32 dev eth0`,
          `link set eth0 mtu ${podMtu} up`,
          `route add ${podGateway} dev eth0 scope link`,
          `neigh add ${podGateway} lladdr ${hostVethMac} dev eth0 nud permanent`,
          `route add default via ${podGateway} dev eth0`,
        ]),
      ),
    );
    return layout;
  } catch (err) {
    await removeNetns(dir).catch(() => {});
    throw err;
  }
}
