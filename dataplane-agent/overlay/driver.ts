// The overlay's kernel driver: keeps the VXLAN device, its neighbours, FDB entries and routes equal to an
// OverlayState. Reads the kernel back (-j) rather than trusting memory, so that a restarted agent picks up where
// the last one stopped; changes only what differs, in one `ip -batch` / `bridge -batch` process per kind; touches
// only what is fedmesh's: entries on its own device, routes with its own protocol number.

import { CommandError, runTool, runToolOk } from '../exec.js';
import { type LocalNexthop, type LocalRoute, nexthopId, type OverlayState, routeProtocol } from './calc.js';

export interface VxlanDeviceConfig {
  readonly name: string;
  readonly vni: number;
  readonly port: number;
  readonly mtu: number;
  /** The underlay interface and this node's address on it (the VXLAN source). */
  readonly underlayInterface: string;
  readonly localIP: string;
  readonly mac: string;
  readonly vtepIP: string;
}

export interface OverlayApplyResult {
  readonly added: number;
  readonly removed: number;
}

interface LinkInfo {
  readonly ifname: string;
  readonly mtu: number;
  readonly address: string;
  readonly flags: readonly string[];
  readonly linkinfo?: {
    readonly info_kind?: string;
    readonly info_data?: { id?: number; port?: number; local?: string; link?: string; learning?: boolean };
  };
}

async function ipJson<T>(args: readonly string[]): Promise<T[]> {
  const out = await runToolOk('ip', ['-j', ...args]);
  return out.trim() === '' ? [] : (JSON.parse(out) as T[]);
}

/** Why an existing device cannot be kept as it is (another VNI, port, source), or undefined when it can. */
export function deviceMismatch(link: LinkInfo, cfg: VxlanDeviceConfig): string | undefined {
  const d = link.linkinfo?.info_data;
  if (link.linkinfo?.info_kind !== 'vxlan') return `it is a ${link.linkinfo?.info_kind ?? 'plain'} device, not vxlan`;
  if (d?.id !== cfg.vni) return `VNI ${d?.id} instead of ${cfg.vni}`;
  if (d?.port !== cfg.port) return `port ${d?.port} instead of ${cfg.port}`;
  if (d?.local !== cfg.localIP) return `source ${d?.local} instead of ${cfg.localIP}`;
  if (d?.link !== cfg.underlayInterface) return `parent ${d?.link} instead of ${cfg.underlayInterface}`;
  if (d?.learning !== false) return 'learning is on';
  return undefined;
}

export class OverlayDriver {
  constructor(
    private readonly cfg: VxlanDeviceConfig,
    private readonly log: (msg: string, fields?: Record<string, unknown>) => void = () => {},
  ) {}

  /**
   * Creates the device, or keeps the existing one when it matches (a restart must not interrupt tunnelled
   * traffic); recreates it only when its VNI, port or source differ. Sets MAC, MTU, up, and the VTEP address.
   */
  async ensureDevice(): Promise<void> {
    const c = this.cfg;
    const links = await ipJson<LinkInfo>(['-d', 'link', 'show']);
    const link = links.find((l) => l.ifname === c.name);
    const lines: string[] = [];
    const mismatch = link ? deviceMismatch(link, c) : undefined;
    if (link && mismatch) {
      this.log('recreating the VXLAN device', { device: c.name, reason: mismatch });
      lines.push(`link delete ${c.name}`);
    }
    if (!link || mismatch) {
      lines.push(
        `link add ${c.name} type vxlan id ${c.vni} dstport ${c.port} local ${c.localIP} dev ${c.underlayInterface} nolearning`,
      );
    }
    if (!link || mismatch || link.address !== c.mac) lines.push(`link set ${c.name} address ${c.mac}`);
    if (!link || mismatch || link.mtu !== c.mtu) lines.push(`link set ${c.name} mtu ${c.mtu}`);
    if (!link || mismatch || !link.flags.includes('UP')) lines.push(`link set ${c.name} up`);
    if (lines.length > 0) await this.ipBatch(lines, false);
    const addrs = await ipJson<{ addr_info?: { family: string; local: string; prefixlen: number }[] }>([
      'addr',
      'show',
      'dev',
      c.name,
    ]);
    const v4 = (addrs[0]?.addr_info ?? []).filter((a) => a.family === 'inet');
    const fix = [
      ...v4.filter((a) => a.local !== c.vtepIP).map((a) => `addr del ${a.local}/${a.prefixlen} dev ${c.name}`),
      ...(v4.some((a) => a.local === c.vtepIP && a.prefixlen === 32)
        ? []
        : [`addr replace ${c.vtepIP}/32 dev ${c.name}`]),
    ];
    if (fix.length > 0) await this.ipBatch(fix, false);
  }

  /** What the kernel holds now, of fedmesh's. */
  async readBack(): Promise<KernelOverlay> {
    const name = this.cfg.name;
    const [neigh, fdbOut, routes, nexthops] = await Promise.all([
      ipJson<{ dst: string; lladdr?: string; state?: string[] }>(['neigh', 'show', 'dev', name, 'nud', 'permanent']),
      runToolOk('bridge', ['-j', 'fdb', 'show', 'dev', name]),
      // Every fedmesh route of the main table, on any device: those are the destinations it may replace.
      ipJson<{ dst: string; dev?: string; gateway?: string; nhid?: number }>([
        'route',
        'show',
        'table',
        'main',
        'proto',
        String(routeProtocol),
      ]),
      ipJson<{ id: number; gateway?: string; dev?: string }>(['nexthop', 'show', 'proto', String(routeProtocol)]),
    ]);
    const fdbEntries =
      fdbOut.trim() === '' ? [] : (JSON.parse(fdbOut) as { mac: string; dst?: string; state?: string }[]);
    return {
      neighbors: new Map(neigh.filter((n) => n.lladdr).map((n) => [n.dst, n.lladdr ?? ''])),
      fdb: new Map(
        fdbEntries
          .filter((f) => f.dst && f.state === 'permanent' && f.mac !== '00:00:00:00:00:00')
          .map((f) => [f.mac, f.dst ?? '']),
      ),
      // A route counts as programmed only through its own nexthop: anything else is replaced.
      routes: new Map(
        routes
          .filter((r) => r.dev === name && r.gateway && r.nhid === nexthopId(r.gateway))
          .map((r) => [r.dst, r.gateway ?? '']),
      ),
      ownedRoutes: new Set(routes.map((r) => (r.dst.includes('/') ? r.dst : `${r.dst}/32`))),
      nexthops: new Map(nexthops.filter((n) => n.dev === name && n.gateway).map((n) => [n.id, n.gateway ?? ''])),
      ownedNexthops: new Set(nexthops.map((n) => n.id)),
    };
  }

  /**
   * Makes the kernel match `desired`: neighbours and FDB entries before the routes that use them, and routes
   * removed before the entries they used. Returns how many entries it added or replaced and removed.
   */
  async apply(desired: OverlayState, current?: KernelOverlay): Promise<OverlayApplyResult> {
    const have = current ?? (await this.readBack());
    const d = diffOverlay(have, desired, this.cfg.name);
    // Two processes for a change that adds and one more for FDB removals: FDB entries first, then in one ip batch
    // the neighbours, nexthops and routes (in that order), then what goes away, routes before what they used.
    if (d.fdbAdd.length > 0) await this.bridgeBatch(d.fdbAdd);
    const ip = [...d.neighAdd, ...d.routeDel, ...d.nexthopAdd, ...d.routeAdd, ...d.nexthopDel, ...d.neighDel];
    if (ip.length > 0) await this.ipBatch(ip, true);
    if (d.fdbDel.length > 0) await this.bridgeBatch(d.fdbDel);
    return {
      added: d.neighAdd.length + d.fdbAdd.length + d.nexthopAdd.length + d.routeAdd.length,
      removed: d.neighDel.length + d.fdbDel.length + d.nexthopDel.length + d.routeDel.length,
    };
  }

  private async ipBatch(lines: readonly string[], force: boolean): Promise<void> {
    // -force: a batch is not atomic anyway; apply every line, then report the failures (the next sync retries).
    const args = force ? ['-force', '-batch', '-'] : ['-batch', '-'];
    const r = await runTool('ip', args, `${lines.join('\n')}\n`);
    if (r.code !== 0) throw new CommandError(`ip ${args.join(' ')} (${lines.length} lines)`, r.code, r.stderr);
  }

  private async bridgeBatch(lines: readonly string[]): Promise<void> {
    const r = await runTool('bridge', ['-force', '-batch', '-'], `${lines.join('\n')}\n`);
    if (r.code !== 0) throw new CommandError(`bridge -batch (${lines.length} lines)`, r.code, r.stderr);
  }
}

/** The overlay as read from the kernel: the state, and the nexthops behind its routes (id -> gateway). */
export interface KernelOverlay extends OverlayState {
  /** fedmesh's nexthops (protocol 201) on its device: id -> gateway. */
  readonly nexthops: ReadonlyMap<number, string>;
  /** The ids of every fedmesh nexthop (protocol 201), on any device: the ids it may replace. */
  readonly ownedNexthops: ReadonlySet<number>;
  /** The destinations of every fedmesh route (protocol 201) of the main table, programmed as wanted or not. */
  readonly ownedRoutes: ReadonlySet<string>;
}

export interface OverlayDiff {
  readonly nexthopAdd: string[];
  readonly nexthopDel: string[];
  readonly neighAdd: string[];
  readonly neighDel: string[];
  readonly fdbAdd: string[];
  readonly fdbDel: string[];
  readonly routeAdd: string[];
  readonly routeDel: string[];
}

/**
 * The batch lines that turn `have` into `want` on device `dev` (pure; `replace` makes every add idempotent). A route
 * or nexthop is replaced only where fedmesh has one already, and added elsewhere: should one of someone else have
 * appeared since the main table and the nexthops were read, the kernel refuses the add (the line fails, the flush
 * is retried and the next calculation leaves that pod CIDR or VTEP out) instead of overwriting it. Only fedmesh's
 * own are deleted.
 */
export function diffOverlay(have: KernelOverlay, want: OverlayState, dev: string): OverlayDiff {
  const out: OverlayDiff = {
    nexthopAdd: [],
    nexthopDel: [],
    neighAdd: [],
    neighDel: [],
    fdbAdd: [],
    fdbDel: [],
    routeAdd: [],
    routeDel: [],
  };
  const wantNexthops = new Set([...want.routes.values()].map(nexthopId));
  for (const via of new Set(want.routes.values())) {
    const id = nexthopId(via);
    if (have.nexthops.get(id) !== via) {
      const verb = have.ownedNexthops.has(id) ? 'replace' : 'add';
      out.nexthopAdd.push(`nexthop ${verb} id ${id} via ${via} dev ${dev} onlink proto ${routeProtocol}`);
    }
  }
  // Deleting a nexthop deletes the routes through it: only after the routes that stay were moved; only fedmesh's.
  for (const id of have.nexthops.keys()) {
    if (!wantNexthops.has(id) && have.ownedNexthops.has(id)) out.nexthopDel.push(`nexthop del id ${id}`);
  }
  for (const [ip, mac] of want.neighbors) {
    if (have.neighbors.get(ip) !== mac) out.neighAdd.push(`neigh replace ${ip} lladdr ${mac} dev ${dev} nud permanent`);
  }
  for (const ip of have.neighbors.keys()) if (!want.neighbors.has(ip)) out.neighDel.push(`neigh del ${ip} dev ${dev}`);
  for (const [mac, dst] of want.fdb) {
    if (have.fdb.get(mac) !== dst) out.fdbAdd.push(`fdb replace ${mac} dev ${dev} dst ${dst} self permanent`);
  }
  for (const [mac, dst] of have.fdb)
    if (!want.fdb.has(mac)) out.fdbDel.push(`fdb del ${mac} dev ${dev} dst ${dst} self`);
  for (const [cidr, via] of want.routes) {
    if (have.routes.get(cidr) !== via) {
      const verb = have.ownedRoutes.has(cidr) ? 'replace' : 'add';
      out.routeAdd.push(`route ${verb} ${cidr} nhid ${nexthopId(via)} proto ${routeProtocol}`);
    }
  }
  // Every fedmesh route not wanted, whatever it goes through (an older agent's onlink route too), by destination and
  // protocol: `dev` does not match a route through a nexthop object (the kernel answers "No such process").
  for (const cidr of have.ownedRoutes) {
    if (!want.routes.has(cidr)) out.routeDel.push(`route del ${cidr} proto ${routeProtocol}`);
  }
  return out;
}

interface RouteJson {
  readonly type?: string;
  readonly dst: string;
  readonly gateway?: string;
  readonly dev?: string;
  readonly protocol?: string;
  readonly nexthops?: readonly { gateway?: string; dev?: string }[];
}

/** Route types and protocols by number (`ip -N` prints numbers, so that a name in rt_protos cannot hide ours). */
const routeTypes: Readonly<Record<string, string>> = { 6: 'blackhole', 7: 'unreachable', 8: 'prohibit', 9: 'throw' };
const routeProtocols: Readonly<Record<string, string>> = { 2: 'kernel', 3: 'boot', 4: 'static', 16: 'dhcp' };

/**
 * The IPv4 routes of the main table from `ip -4 -N -j route show table main` (pure). A route without a protocol
 * is the kernel's default, boot (3).
 */
export function parseMainRoutes(json: string): LocalRoute[] {
  const rows = json.trim() === '' ? [] : (JSON.parse(json) as RouteJson[]);
  return rows.map((r) => {
    const protocol = Number(r.protocol ?? 3);
    const hops = r.nexthops ?? [{ gateway: r.gateway, dev: r.dev }];
    const text = [
      ...(r.type && r.type !== '1' ? [routeTypes[r.type] ?? `type ${r.type}`] : []),
      r.dst,
      ...hops.flatMap((h) => [...(h.gateway ? [`via ${h.gateway}`] : []), ...(h.dev ? [`dev ${h.dev}`] : [])]),
      ...(protocol !== 3 ? [`proto ${routeProtocols[protocol] ?? protocol}`] : []),
    ].join(' ');
    return { dst: r.dst, protocol, text };
  });
}

/** The node's main routing table, IPv4: what the overlay must not take (computeOverlay's localRoutes). */
export async function readMainRoutes(): Promise<LocalRoute[]> {
  return parseMainRoutes(await runToolOk('ip', ['-4', '-N', '-j', 'route', 'show', 'table', 'main']));
}

interface NexthopJson {
  readonly id: number;
  readonly group?: readonly { id: number }[];
  readonly gateway?: string;
  readonly dev?: string;
  readonly blackhole?: unknown;
  readonly protocol?: string;
}

/**
 * The nexthop objects from `ip -N -j nexthop show` (pure), of every protocol and family: their ids are one space.
 * One without a protocol is the kernel's default, boot (3), as for routes.
 */
export function parseNexthops(json: string): LocalNexthop[] {
  const rows = json.trim() === '' ? [] : (JSON.parse(json) as NexthopJson[]);
  return rows.map((h) => {
    const protocol = Number(h.protocol ?? 3);
    const text = [
      `id ${h.id}`,
      ...(h.group ? [`group ${h.group.map((g) => g.id).join('/')}`] : []),
      ...(h.gateway ? [`via ${h.gateway}`] : []),
      ...(h.dev ? [`dev ${h.dev}`] : []),
      ...(h.blackhole !== undefined ? ['blackhole'] : []),
      ...(protocol !== 3 ? [`proto ${routeProtocols[protocol] ?? protocol}`] : []),
    ].join(' ');
    return { id: h.id, protocol, text };
  });
}

/** The node's nexthop objects: ids the overlay must not take (computeOverlay's localNexthops). */
export async function readNexthops(): Promise<LocalNexthop[]> {
  return parseNexthops(await runToolOk('ip', ['-N', '-j', 'nexthop', 'show']));
}
