// The multi-cluster services API (KEP-1645), group multicluster.x-k8s.io, version v1alpha1: the CRDs fedmesh
// ships so that a cluster without them can take part. Written from the API's published field list; a cluster
// that already has the upstream CRDs keeps them (same group, version, names and fields).
import type { Manifest } from '../../../core/kube/apply.js';

export const mcsGroup = 'multicluster.x-k8s.io';
export const mcsVersion = 'v1alpha1';
export const serviceExportPlural = 'serviceexports';
export const serviceImportPlural = 'serviceimports';

const labels = { 'app.kubernetes.io/part-of': 'fedmesh' };
const str = { type: 'string' } as const;
const stringMap = { type: 'object', additionalProperties: str } as const;

const condition = {
  type: 'object',
  required: ['type', 'status', 'lastTransitionTime', 'reason', 'message'],
  properties: {
    type: { type: 'string', maxLength: 316 },
    status: { type: 'string', enum: ['True', 'False', 'Unknown'] },
    observedGeneration: { type: 'integer', format: 'int64', minimum: 0 },
    lastTransitionTime: { type: 'string', format: 'date-time' },
    reason: { type: 'string', maxLength: 1024 },
    message: { type: 'string', maxLength: 32768 },
  },
} as const;

const servicePort = {
  type: 'object',
  required: ['port'],
  properties: {
    name: str,
    protocol: { type: 'string', enum: ['TCP', 'UDP', 'SCTP'], default: 'TCP' },
    appProtocol: str,
    port: { type: 'integer', format: 'int32', minimum: 1, maximum: 65535 },
  },
} as const;

function crd(kind: string, plural: string, shortNames: string[], schema: object, columns: object[]): Manifest {
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `${plural}.${mcsGroup}`, labels },
    spec: {
      group: mcsGroup,
      scope: 'Namespaced',
      names: { kind, plural, singular: kind.toLowerCase(), listKind: `${kind}List`, shortNames },
      versions: [
        {
          name: mcsVersion,
          served: true,
          storage: true,
          subresources: { status: {} },
          additionalPrinterColumns: columns,
          schema: { openAPIV3Schema: schema },
        },
      ],
    },
  };
}

/** ServiceExport: "export the Service of the same name and namespace to the clusterset". */
export const serviceExportCrd: Manifest = crd(
  'ServiceExport',
  serviceExportPlural,
  ['svcex', 'svcexport'],
  {
    type: 'object',
    properties: {
      apiVersion: str,
      kind: str,
      metadata: { type: 'object' },
      spec: { type: 'object', properties: { exportedLabels: stringMap, exportedAnnotations: stringMap } },
      status: {
        type: 'object',
        properties: {
          conditions: {
            type: 'array',
            items: condition,
            'x-kubernetes-list-type': 'map',
            'x-kubernetes-list-map-keys': ['type'],
          },
        },
      },
    },
  },
  [
    { name: 'Valid', type: 'string', jsonPath: '.status.conditions[?(@.type=="Valid")].status' },
    { name: 'Conflict', type: 'string', jsonPath: '.status.conditions[?(@.type=="Conflict")].status' },
    { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
  ],
);

/** ServiceImport: the clusterset's view of an exported Service, written by the MCS controller of each cluster. */
export const serviceImportCrd: Manifest = crd(
  'ServiceImport',
  serviceImportPlural,
  ['svcim', 'svcimport'],
  {
    type: 'object',
    properties: {
      apiVersion: str,
      kind: str,
      metadata: { type: 'object' },
      spec: {
        type: 'object',
        required: ['ports', 'type'],
        properties: {
          ports: { type: 'array', items: servicePort, 'x-kubernetes-list-type': 'atomic' },
          ips: { type: 'array', maxItems: 2, items: str },
          type: { type: 'string', enum: ['ClusterSetIP', 'Headless'] },
          sessionAffinity: { type: 'string', enum: ['ClientIP', 'None'] },
          sessionAffinityConfig: {
            type: 'object',
            properties: {
              clientIP: {
                type: 'object',
                properties: { timeoutSeconds: { type: 'integer', format: 'int32', minimum: 1, maximum: 86400 } },
              },
            },
          },
          ipFamilies: { type: 'array', items: { type: 'string', enum: ['IPv4', 'IPv6'] } },
        },
      },
      status: {
        type: 'object',
        properties: {
          clusters: {
            type: 'array',
            items: { type: 'object', required: ['cluster'], properties: { cluster: str } },
            'x-kubernetes-list-type': 'map',
            'x-kubernetes-list-map-keys': ['cluster'],
          },
          conditions: {
            type: 'array',
            items: condition,
            'x-kubernetes-list-type': 'map',
            'x-kubernetes-list-map-keys': ['type'],
          },
        },
      },
    },
  },
  [
    { name: 'Type', type: 'string', jsonPath: '.spec.type' },
    { name: 'IP', type: 'string', jsonPath: '.spec.ips' },
    { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
  ],
);

export const mcsCrds: readonly Manifest[] = [serviceExportCrd, serviceImportCrd];
