import { rccGroup, rccKind, rccPlural, rccVersion } from './rcc-spec.js';

const conditionSchema = {
  type: 'object',
  required: ['type', 'status', 'reason', 'message', 'lastTransitionTime'],
  properties: {
    type: { type: 'string', maxLength: 316 },
    status: { type: 'string', enum: ['True', 'False', 'Unknown'] },
    reason: { type: 'string', maxLength: 1024 },
    message: { type: 'string', maxLength: 32768 },
    lastTransitionTime: { type: 'string', format: 'date-time' },
    observedGeneration: { type: 'integer', format: 'int64', minimum: 0 },
  },
};

const count = { type: 'integer', format: 'int64', minimum: 0 };

/**
 * The CustomResourceDefinition of RemoteClusterConfiguration (DESIGN.md "Names"): cluster-scoped, its name is
 * the remote cluster's name, status written by the fedmesh server.
 */
export const rccCrd = {
  apiVersion: 'apiextensions.k8s.io/v1',
  kind: 'CustomResourceDefinition',
  metadata: { name: `${rccPlural}.${rccGroup}` },
  spec: {
    group: rccGroup,
    scope: 'Cluster',
    names: {
      plural: rccPlural,
      singular: 'remoteclusterconfiguration',
      kind: rccKind,
      listKind: `${rccKind}List`,
      shortNames: ['rcc'],
      categories: ['fedmesh'],
    },
    versions: [
      {
        name: rccVersion,
        served: true,
        storage: true,
        subresources: { status: {} },
        additionalPrinterColumns: [
          { name: 'State', type: 'string', jsonPath: '.status.state' },
          { name: 'Workloads', type: 'integer', jsonPath: '.status.counts.workloads' },
          { name: 'Nodes', type: 'integer', jsonPath: '.status.counts.nodes' },
          { name: 'Last Sync', type: 'date', jsonPath: '.status.lastSyncTime' },
          { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
          { name: 'Message', type: 'string', jsonPath: '.status.message', priority: 1 },
        ],
        schema: {
          openAPIV3Schema: {
            type: 'object',
            description: 'Connects this cluster to a remote one: its name is the remote cluster name.',
            required: ['spec'],
            'x-kubernetes-validations': [
              {
                rule: "self.metadata.name.matches('^[a-z0-9]([-a-z0-9]*[a-z0-9])?$') && size(self.metadata.name) <= 63",
                message: 'the name is the remote cluster name and must be a DNS-1123 label (no dots)',
                reason: 'FieldValueInvalid',
              },
            ],
            properties: {
              apiVersion: { type: 'string' },
              kind: { type: 'string' },
              metadata: { type: 'object' },
              spec: {
                type: 'object',
                required: ['clusterAccessSecret'],
                properties: {
                  clusterAccessSecret: {
                    type: 'object',
                    description:
                      'The Secret (in the local cluster) whose key "kubeconfig" grants read access to the remote cluster.',
                    required: ['name', 'namespace'],
                    properties: {
                      name: { type: 'string', minLength: 1, maxLength: 253 },
                      namespace: { type: 'string', minLength: 1, maxLength: 63 },
                    },
                  },
                  overlayRoutingMode: {
                    type: 'string',
                    enum: ['Enabled', 'Disabled'],
                    default: 'Disabled',
                    description: 'Enabled: route to the remote pods through the VXLAN overlay.',
                  },
                  staleEndpoints: {
                    type: 'object',
                    default: {},
                    description: 'What happens to the remote objects while the remote cluster is unreachable.',
                    properties: {
                      mode: {
                        type: 'string',
                        enum: ['Retain', 'Withdraw'],
                        default: 'Retain',
                        description: 'Retain keeps them (fail-open); Withdraw removes them after ttl (fail-closed).',
                      },
                      ttl: {
                        type: 'string',
                        maxLength: 32,
                        pattern: '^([0-9]+(\\.[0-9]+)?(ms|s|m|h))+$',
                        description: 'How long Withdraw waits, e.g. 30s, 5m (default 5m).',
                      },
                    },
                    'x-kubernetes-validations': [
                      {
                        rule: "!has(self.ttl) || self.mode == 'Withdraw'",
                        message: 'ttl applies only to mode Withdraw',
                        fieldPath: '.ttl',
                      },
                    ],
                  },
                },
              },
              status: {
                type: 'object',
                properties: {
                  state: {
                    type: 'string',
                    enum: ['Connecting', 'ResyncInProgress', 'InSync', 'ConnectionFailed', 'ConfigIncomplete'],
                  },
                  message: { type: 'string' },
                  conditions: {
                    type: 'array',
                    maxItems: 8,
                    items: conditionSchema,
                    'x-kubernetes-list-type': 'map',
                    'x-kubernetes-list-map-keys': ['type'],
                  },
                  counts: {
                    type: 'object',
                    properties: {
                      workloads: count,
                      nodes: count,
                      namespaces: count,
                      services: count,
                      endpointSlices: count,
                    },
                  },
                  lastSyncTime: { type: 'string', format: 'date-time', nullable: true },
                  staleSince: { type: 'string', format: 'date-time', nullable: true },
                  observedGeneration: { type: 'integer', format: 'int64' },
                  refusedObjects: {
                    type: 'object',
                    nullable: true,
                    description:
                      'Objects of the remote cluster left out because a field fedmesh uses has the wrong type, size or syntax, and EndpointSlices with addresses Kubernetes refuses (loopback, link-local, malformed: those addresses are left out, the rest is used): how many, and the first few with the field and the rule (never the value).',
                    properties: {
                      count,
                      objects: {
                        type: 'array',
                        maxItems: 10,
                        items: {
                          type: 'object',
                          required: ['kind', 'name', 'field', 'problem'],
                          properties: {
                            kind: { type: 'string', maxLength: 63 },
                            namespace: { type: 'string', maxLength: 253 },
                            name: { type: 'string', maxLength: 253 },
                            field: { type: 'string', maxLength: 1024 },
                            problem: { type: 'string', maxLength: 256 },
                          },
                        },
                      },
                    },
                  },
                },
              },
            },
          },
        },
      },
    ],
  },
} as const;
