// The EndpointSlices fedmesh wrote, read back from the local cluster: shape-checked field by field (anyone with
// write access to EndpointSlices could have edited one), keeping only what the planner compares.
import type { KubeObject } from '../../core/kube/resilient-informer.js';
import type { Protocol } from '../mesh-types.js';
import type { EndpointPort } from './endpoints.js';
import { managedByLabel, managedByValue, type SliceEndpointBody, type WrittenSlice } from './slice-plan.js';

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown): string => (typeof v === 'string' ? v : '');
const bool = (v: unknown, fallback: boolean): boolean => (typeof v === 'boolean' ? v : fallback);
const protocolOf = (v: unknown): Protocol => (v === 'UDP' || v === 'SCTP' ? v : 'TCP');

function stringMap(v: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (!isRecord(v)) return out;
  for (const [k, x] of Object.entries(v)) if (typeof x === 'string') out[k] = x;
  return out;
}

function endpointOf(v: unknown): SliceEndpointBody | undefined {
  if (!isRecord(v) || !Array.isArray(v.addresses)) return undefined;
  const addresses = v.addresses.filter((a): a is string => typeof a === 'string');
  const c = isRecord(v.conditions) ? v.conditions : {};
  const ready = bool(c.ready, true);
  const ref = isRecord(v.targetRef) && v.targetRef.kind === 'Pod' ? v.targetRef : undefined;
  return {
    addresses,
    conditions: { ready, serving: bool(c.serving, ready), terminating: bool(c.terminating, false) },
    ...(typeof v.nodeName === 'string' && v.nodeName ? { nodeName: v.nodeName } : {}),
    ...(typeof v.zone === 'string' && v.zone ? { zone: v.zone } : {}),
    ...(ref ? { targetRef: { kind: 'Pod' as const, namespace: str(ref.namespace), name: str(ref.name) } } : {}),
  };
}

function portOf(v: unknown): EndpointPort | undefined {
  if (!isRecord(v)) return undefined;
  return { name: str(v.name), port: typeof v.port === 'number' ? v.port : 0, protocol: protocolOf(v.protocol) };
}

/** A slice carrying the given managed-by label (fedmesh's federated services by default), else undefined. */
export function writtenSliceOf(raw: KubeObject, managedBy: string = managedByValue): WrittenSlice | undefined {
  const m = raw.metadata as Record<string, unknown> | undefined;
  if (!isRecord(m)) return undefined;
  const labels = stringMap(m.labels);
  const name = str(m.name);
  const namespace = str(m.namespace);
  if (!name || !namespace || labels[managedByLabel] !== managedBy) return undefined;
  const owners = Array.isArray(m.ownerReferences) ? m.ownerReferences : [];
  // The controller owner: the federated Service, or the ServiceImport of an imported Service's slices.
  const owner = owners.find((o) => isRecord(o) && o.controller === true);
  return {
    name,
    namespace,
    resourceVersion: str(m.resourceVersion),
    labels,
    ownerUid: isRecord(owner) ? str(owner.uid) : '',
    addressType: str(raw.addressType),
    endpoints: (Array.isArray(raw.endpoints) ? raw.endpoints : [])
      .map(endpointOf)
      .filter((e): e is SliceEndpointBody => e !== undefined),
    ports: (Array.isArray(raw.ports) ? raw.ports : []).map(portOf).filter((p): p is EndpointPort => p !== undefined),
  };
}
