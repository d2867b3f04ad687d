// The multi-cluster services API's merge rules (KEP-1645), pure: the exports of one Service name in the
// clusterset → the ServiceImport every cluster gets, and the conditions of each ServiceExport.
//  - Type: ClusterSetIP, or Headless when the exported Service is headless. Ports: the union of the exported
//    Services' ports. Where exports disagree (a port name with another number or protocol, a port number and
//    protocol under another name, an unnamed port beside others: what the derived Service could not hold;
//    headlessness), the oldest ServiceExport wins (creation time, then cluster name), and every export involved
//    reports Conflict.
//  - An ExternalName Service cannot be exported (Valid=False, InvalidServiceType); nor can a Service that does
//    not exist (Valid=False, NoService).
import type { MeshService, Protocol } from '../../mesh-types.js';

export interface ExportedService {
  readonly cluster: string;
  /** The ServiceExport's creationTimestamp, in seconds since the Unix epoch. */
  readonly exportedAt: number;
  readonly headless: boolean;
  readonly service: MeshService;
}

export interface ImportPort {
  readonly name: string;
  readonly protocol: Protocol;
  readonly port: number;
}

export type ImportType = 'ClusterSetIP' | 'Headless';

export interface Conflict {
  readonly reason: 'PortConflict' | 'TypeConflict';
  readonly message: string;
  /** The clusters whose export lost (the oldest export's cluster wins). */
  readonly clusters: readonly string[];
}

export interface ClustersetService {
  readonly type: ImportType;
  readonly ports: readonly ImportPort[];
  /** The exporting clusters, sorted. */
  readonly clusters: readonly string[];
  readonly conflicts: readonly Conflict[];
}

export interface Condition {
  readonly type: 'Valid' | 'Conflict';
  readonly status: 'True' | 'False';
  readonly reason: string;
  readonly message: string;
}

const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
const typeOf = (e: ExportedService): ImportType => (e.headless ? 'Headless' : 'ClusterSetIP');

/** Whether a Service can be exported at all. */
export function exportable(svc: MeshService | undefined): boolean {
  return svc !== undefined && svc.type !== 'ExternalName';
}

export function mergeExports(exports: readonly ExportedService[]): ClustersetService | undefined {
  const sorted = exports
    .filter((e) => exportable(e.service))
    .sort((a, b) => a.exportedAt - b.exportedAt || cmp(a.cluster, b.cluster));
  const oldest = sorted[0];
  if (!oldest) return undefined;
  const conflicts: Conflict[] = [];
  const type = typeOf(oldest);
  const otherType = sorted.filter((e) => typeOf(e) !== type).map((e) => e.cluster);
  if (otherType.length > 0) {
    conflicts.push({
      reason: 'TypeConflict',
      message: `type: ${oldest.cluster} exports ${type} (oldest export, used); ${otherType.join(', ')} export${otherType.length > 1 ? '' : 's'} ${type === 'Headless' ? 'ClusterSetIP' : 'Headless'}`,
      clusters: otherType,
    });
  }
  const ports = mergePorts(sorted, conflicts);
  return {
    type,
    ports,
    clusters: sorted.map((e) => e.cluster).sort(cmp),
    conflicts,
  };
}

type Candidate = ImportPort & { readonly from: string };
const shown = (p: ImportPort) => `${p.name ? `"${p.name}" ` : ''}${p.port}/${p.protocol}`;

/**
 * The union of the exports' ports (oldest export first) as a Service may hold them, since the derived Service
 * carries them: names unique, port and protocol unique, and every port named when there are several. A port that
 * would break one of these rules is left out and reported as a PortConflict, the older export's port winning.
 */
function mergePorts(sorted: readonly ExportedService[], conflicts: Conflict[]): ImportPort[] {
  const ports: Candidate[] = [];
  const lost = new Map<string, { readonly what: string; readonly losers: string[]; readonly clusters: Set<string> }>();
  const lose = (key: string, what: string, cluster: string, p: ImportPort) => {
    const entry = lost.get(key) ?? { what, losers: [], clusters: new Set<string>() };
    entry.losers.push(`${cluster} has ${shown(p)}`);
    entry.clusters.add(cluster);
    lost.set(key, entry);
  };
  for (const e of sorted) {
    for (const p of e.service.ports) {
      const sameName = ports.find((x) => x.name === p.name);
      if (sameName && sameName.port === p.port && sameName.protocol === p.protocol) continue;
      const winner = sameName ?? ports.find((x) => x.port === p.port && x.protocol === p.protocol);
      if (winner) {
        const label = winner.name ? `"${winner.name}"` : '(unnamed)';
        lose(
          `name ${winner.name}`,
          `port ${label}: ${winner.from}'s ${winner.port}/${winner.protocol} is used (oldest export)`,
          e.cluster,
          p,
        );
        continue;
      }
      // Kubernetes requires a name on every port of a Service with more than one.
      const unnamed = ports.find((x) => x.name === '') ?? (p.name === '' ? ports[0] : undefined);
      if (unnamed) {
        lose(
          'unnamed',
          `unnamed port: a Service with more than one port needs a name on each, so ${unnamed.from}'s ${shown(unnamed)} is used (oldest export) and no port joins it unless all are named`,
          e.cluster,
          p,
        );
        continue;
      }
      ports.push({ name: p.name, protocol: p.protocol, port: p.port, from: e.cluster });
    }
  }
  for (const { what, losers, clusters } of lost.values()) {
    conflicts.push({ reason: 'PortConflict', message: `${what}; ${losers.join(', ')}`, clusters: [...clusters] });
  }
  return ports.map(({ name, protocol, port }) => ({ name, protocol, port }));
}

/**
 * A ServiceImport of the export's name that someone else wrote in this cluster (without fedmesh's managed-by
 * label): fedmesh leaves it as it is and imports nothing into this cluster under that name.
 */
export interface ImportNameTaken {
  readonly cluster: string;
  readonly namespace: string;
  readonly name: string;
}

/** What a user reads in the export's Conflict condition and in the Warning Event when the import name is taken. */
export function importNameTakenMessage(t: ImportNameTaken): string {
  return (
    `the ServiceImport ${t.namespace}/${t.name} in cluster ${t.cluster} was not created by fedmesh (no label ` +
    `app.kubernetes.io/managed-by=fedmesh): fedmesh leaves it untouched and imports nothing into ${t.cluster} under this name; ` +
    `delete that ServiceImport (or export the Service under another name) to have fedmesh import it there`
  );
}

/** The conditions of a cluster's own ServiceExport, given its Service and the merged view. */
export function exportConditions(
  service: MeshService | undefined,
  merged: ClustersetService | undefined,
  importNameTaken?: ImportNameTaken,
  /** Why the announcement's EndpointSlice name is someone else's (announcementNameTakenMessage), if it is. */
  announcementNameTaken?: string,
): Condition[] {
  let valid: Condition;
  if (!service) {
    valid = {
      type: 'Valid',
      status: 'False',
      reason: 'NoService',
      message: 'no Service of this name in this namespace',
    };
  } else if (!exportable(service)) {
    valid = {
      type: 'Valid',
      status: 'False',
      reason: 'InvalidServiceType',
      message: 'a Service of type ExternalName cannot be exported',
    };
  } else {
    valid = { type: 'Valid', status: 'True', reason: 'Valid', message: 'the Service is exported to the clusterset' };
  }
  const conflicts: { readonly reason: string; readonly message: string }[] =
    valid.status === 'True' ? [...(merged?.conflicts ?? [])] : [];
  if (valid.status === 'True' && importNameTaken) {
    conflicts.push({ reason: 'ImportNameTaken', message: importNameTakenMessage(importNameTaken) });
  }
  if (valid.status === 'True' && announcementNameTaken) {
    conflicts.push({ reason: 'AnnouncementNameTaken', message: announcementNameTaken });
  }
  const conflict: Condition =
    conflicts.length === 0
      ? { type: 'Conflict', status: 'False', reason: 'NoConflicts', message: 'the exports of this Service agree' }
      : {
          type: 'Conflict',
          status: 'True',
          reason: [...new Set(conflicts.map((c) => c.reason))].join(','),
          message: conflicts.map((c) => c.message).join('; '),
        };
  return [valid, conflict];
}
