// How a cluster tells the clusterset that it exports a Service: an EndpointSlice without endpoints, in its own
// cluster, labelled with the MCS labels and the export's creation time and type. Every cluster of the mesh already
// lists and watches EndpointSlices of every other cluster, so the announcement needs no further access, and it
// carries no kubernetes.io/service-name label, so kube-proxy and DNS ignore it. Owned by the ServiceExport: it
// goes with it.
import type { MeshEndpointSlice } from '../../mesh-types.js';
import {
  clusterLabel,
  managedByLabel,
  mcsServiceNameLabel,
  mcsSourceClusterLabel,
  type OwnerReference,
} from '../slice-plan.js';
import type { ExportedService } from './clusterset.js';

/** endpointslice.kubernetes.io/managed-by of every slice the ServiceImport controller writes. */
export const mcsManagedBy = 'mcs.federation.fedmesh.io';
export const exportLabel = 'fedmesh.io/service-export';
export const exportedAtLabel = 'fedmesh.io/exported-at';
export const exportTypeLabel = 'fedmesh.io/export-type';

export interface Announcement {
  readonly cluster: string;
  readonly namespace: string;
  readonly name: string;
  readonly exportedAt: number;
  readonly headless: boolean;
}

export interface AnnouncementBody {
  readonly apiVersion: 'discovery.k8s.io/v1';
  readonly kind: 'EndpointSlice';
  readonly metadata: {
    readonly name: string;
    readonly namespace: string;
    readonly labels: Readonly<Record<string, string>>;
    readonly ownerReferences: readonly OwnerReference[];
  };
  readonly addressType: 'IPv4';
  readonly endpoints: readonly never[];
}

export function announcementName(service: string): string {
  return `${service}-export`.slice(0, 253);
}

export function announcementBody(localCluster: string, a: Announcement, owner: OwnerReference): AnnouncementBody {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: {
      name: announcementName(a.name),
      namespace: a.namespace,
      labels: announcementLabels(localCluster, a),
      ownerReferences: [owner],
    },
    addressType: 'IPv4',
    endpoints: [],
  };
}

export function announcementLabels(localCluster: string, a: Announcement): Record<string, string> {
  return {
    [managedByLabel]: mcsManagedBy,
    [exportLabel]: a.name,
    [mcsServiceNameLabel]: a.name,
    [mcsSourceClusterLabel]: localCluster,
    [clusterLabel]: localCluster,
    [exportedAtLabel]: String(a.exportedAt),
    [exportTypeLabel]: a.headless ? 'Headless' : 'ClusterSetIP',
  };
}

/**
 * Whether a slice named like the announcement of `service` is fedmesh's announcement of it. Anything else of that
 * name (a user's slice for a Service called `<service>-export`) is never overwritten nor deleted: a ServiceExport
 * must not let its author take over an EndpointSlice they could not write themselves.
 */
export function isOwnAnnouncement(labels: Readonly<Record<string, string>>, service: string): boolean {
  return labels[managedByLabel] === mcsManagedBy && labels[exportLabel] === service;
}

/** What the ServiceExport's Conflict condition and the Warning Event say when the slice name is taken. */
export function announcementNameTakenMessage(namespace: string, service: string): string {
  const slice = announcementName(service);
  return (
    `the EndpointSlice ${namespace}/${slice} exists and is not fedmesh's announcement (labels ` +
    `${managedByLabel}=${mcsManagedBy} and ${exportLabel}=${service}): fedmesh leaves it untouched and does not ` +
    `announce this export to the clusterset; rename or delete that EndpointSlice, or export the Service under ` +
    `another name`
  );
}

/**
 * An announcement read from the mesh, or undefined for any other slice. The cluster is where the slice was read,
 * never what its labels claim: a cluster cannot announce exports for another.
 */
export function announcementOf(slice: MeshEndpointSlice): Announcement | undefined {
  const l = slice.labels;
  const name = l[exportLabel];
  if (l[managedByLabel] !== mcsManagedBy || !name || slice.serviceName !== '') return undefined;
  const exportedAt = Number(l[exportedAtLabel]);
  if (!Number.isSafeInteger(exportedAt)) return undefined;
  return {
    cluster: slice.cluster,
    namespace: slice.namespace,
    name,
    exportedAt,
    headless: l[exportTypeLabel] === 'Headless',
  };
}

export function exportedServiceOf(a: Announcement, service: ExportedService['service']): ExportedService {
  return { cluster: a.cluster, exportedAt: a.exportedAt, headless: a.headless, service };
}
