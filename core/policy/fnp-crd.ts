// The CustomResourceDefinition of FederatedNetworkPolicy. The structural schema bounds the shape (and what the API
// server stores); the meaning (selectors, CIDRs, ports that fit the protocol) is the admission webhook's, with
// compiler-grade messages (compile-fnp.ts).

import { FNP_GROUP, FNP_KIND, FNP_PLURAL, FNP_VERSION } from './fnp-types.js';

const selectorText = (description: string) => ({ type: 'string', maxLength: 4096, description });

const port = {
  'x-kubernetes-int-or-string': true,
  description: 'A port number, a range "8000:8080", or a container port name.',
};

const entity = (side: 'source' | 'destination') => ({
  type: 'object',
  description:
    side === 'source'
      ? 'Where traffic comes from: endpoints (selector, namespaceSelector) or addresses (nets).'
      : 'Where traffic goes: endpoints (selector, namespaceSelector) or addresses (nets), and ports.',
  properties: {
    selector: selectorText(
      'Selector over endpoint labels. Without a fedmesh.io/cluster term it selects local endpoints only.',
    ),
    namespaceSelector: selectorText(
      "Selector over namespace labels, in each selected cluster. Absent: the policy's own namespace, by name.",
    ),
    nets: {
      type: 'array',
      maxItems: 256,
      items: { type: 'string', maxLength: 64 },
      description: 'CIDRs.',
    },
    ports: { type: 'array', maxItems: 256, items: port, description: 'Destination ports (TCP, UDP, SCTP, UDPLite).' },
  },
});

const rule = {
  type: 'object',
  required: ['action'],
  properties: {
    action: { type: 'string', enum: ['Allow', 'Deny'], description: 'What happens to traffic the rule matches.' },
    protocol: {
      'x-kubernetes-int-or-string': true,
      description: 'TCP, UDP, SCTP, UDPLite, ICMP, ICMPv6 or an IP protocol number 1-255. Absent: any protocol.',
    },
    icmp: {
      type: 'object',
      description: 'ICMP type and code (protocol ICMP or ICMPv6).',
      properties: {
        type: { type: 'integer', minimum: 0, maximum: 254 },
        code: { type: 'integer', minimum: 0, maximum: 255 },
      },
    },
    source: entity('source'),
    destination: entity('destination'),
  },
};

const rules = (direction: string) => ({
  type: 'array',
  maxItems: 1024,
  items: rule,
  description: `${direction} rules, in order: the first that matches decides.`,
});

/** The CRD manifest (apiextensions.k8s.io/v1): namespaced, short name fnp, category fedmesh. */
export const fnpCrd = {
  apiVersion: 'apiextensions.k8s.io/v1',
  kind: 'CustomResourceDefinition',
  metadata: { name: `${FNP_PLURAL}.${FNP_GROUP}` },
  spec: {
    group: FNP_GROUP,
    scope: 'Namespaced',
    names: {
      plural: FNP_PLURAL,
      singular: 'federatednetworkpolicy',
      kind: FNP_KIND,
      listKind: `${FNP_KIND}List`,
      shortNames: ['fnp'],
      categories: ['fedmesh'],
    },
    versions: [
      {
        name: FNP_VERSION,
        served: true,
        storage: true,
        additionalPrinterColumns: [
          { name: 'Order', type: 'number', jsonPath: '.spec.order' },
          { name: 'Selector', type: 'string', jsonPath: '.spec.selector' },
          { name: 'Types', type: 'string', jsonPath: '.spec.types', priority: 1 },
          { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
        ],
        schema: {
          openAPIV3Schema: {
            type: 'object',
            description: 'Network policy over local and remote endpoints, with selector expressions (docs/policy.md).',
            required: ['spec'],
            properties: {
              apiVersion: { type: 'string' },
              kind: { type: 'string' },
              metadata: { type: 'object' },
              spec: {
                type: 'object',
                properties: {
                  selector: selectorText(
                    'Which local endpoints of the namespace the policy applies to. Default all(). Local only.',
                  ),
                  order: {
                    type: 'number',
                    description: 'Lower applies first; NetworkPolicies have 1000; absent: after every ordered policy.',
                  },
                  types: {
                    type: 'array',
                    maxItems: 2,
                    items: { type: 'string', enum: ['Ingress', 'Egress'] },
                    description: 'Default: Ingress, plus Egress when there are egress rules.',
                  },
                  ingress: rules('Ingress'),
                  egress: rules('Egress'),
                },
              },
            },
          },
        },
      },
    ],
  },
} as const;
