import type { ResourceDefinition } from './resources.js';
import type { StoredObject } from './served-store.js';

/** Server-side printing (TBL-01…05): NAME, the resource's columns, AGE. */

export function columnDefinitions(def: ResourceDefinition): unknown[] {
  return [
    { name: 'Name', type: 'string', format: 'name', description: 'Name of the object.', priority: 0 },
    ...def.columns,
    { name: 'Age', type: 'string', format: '', description: 'Time since fedmesh first saw the object.', priority: 0 },
  ];
}

/** Age in kubectl's short form (5s, 3m, 2h, 4d, 2y), as built-in printers render it server-side. */
export function humanAge(from: string, now: Date): string {
  const secs = Math.max(0, Math.floor((now.getTime() - Date.parse(from)) / 1000));
  if (secs < 120) return `${secs}s`;
  const mins = Math.floor(secs / 60);
  if (mins < 10) return `${mins}m${secs % 60 ? `${secs % 60}s` : ''}`;
  if (mins < 180) return `${mins}m`;
  const hours = Math.floor(mins / 60);
  if (hours < 8) return `${hours}h${mins % 60 ? `${mins % 60}m` : ''}`;
  if (hours < 48) return `${hours}h`;
  const days = Math.floor(hours / 24);
  if (days < 365 * 2) return `${days}d`;
  return `${Math.floor(days / 365)}y`;
}

export type IncludeObject = 'None' | 'Metadata' | 'Object';

export function tableRow(o: StoredObject, include: IncludeObject, now: Date): unknown {
  const created = String(o.object.metadata.creationTimestamp ?? '');
  const row: Record<string, unknown> = { cells: [...o.cells, created ? humanAge(created, now) : '<unknown>'] };
  if (include === 'Object') row.object = o.object;
  else if (include === 'Metadata') {
    row.object = { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: o.object.metadata };
  }
  return row;
}

export function table(
  def: ResourceDefinition,
  tableVersion: 'v1' | 'v1beta1',
  rows: readonly StoredObject[],
  meta: { resourceVersion: string; continue?: string; remainingItemCount?: number },
  include: IncludeObject,
  withColumns = true,
  now = new Date(),
): unknown {
  return {
    kind: 'Table',
    apiVersion: `meta.k8s.io/${tableVersion}`,
    metadata: meta,
    ...(withColumns ? { columnDefinitions: columnDefinitions(def) } : { columnDefinitions: null }),
    rows: rows.map((o) => tableRow(o, include, now)),
  };
}
