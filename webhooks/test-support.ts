// Shared by the webhook unit tests, the fuzz run and the benchmark: a server on a loopback port with a throwaway
// certificate, a fixed ValidationContext, and a keep-alive HTTPS client.

import { Agent, request } from 'node:https';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { createCertificateAuthority, issueCertificate, type KeyPair } from '../core/tls/certificates.js';
import { ADMISSION_API_VERSION } from './admission-review.js';
import { type ServingTimeouts, startWebhookServer, type WebhookServer } from './server.js';
import type { ValidationContext } from './validation-context.js';

export function testCertificates(): { ca: KeyPair; leaf: KeyPair } {
  const ca = createCertificateAuthority('fedmesh-webhooks-test-ca', 1);
  const leaf = issueCertificate(ca, {
    commonName: 'localhost',
    dnsNames: ['localhost'],
    ipAddresses: ['127.0.0.1'],
    usage: 'server',
    validDays: 1,
  });
  return { ca, leaf };
}

export function fixedContext(over: Partial<ValidationContext> = {}): ValidationContext {
  return {
    localCluster: 'east',
    accessSecretNamespace: 'fedmesh-system',
    knownClusters: () => new Set(['west', 'north']),
    secretExists: async () => ({ exists: true }),
    ...over,
  };
}

export async function startTestServer(
  context: ValidationContext = fixedContext(),
  timeouts?: ServingTimeouts,
): Promise<{ server: WebhookServer; ca: KeyPair; registry: Registry }> {
  const { ca, leaf } = testCertificates();
  const registry = new Registry();
  const server = await startWebhookServer({
    host: '127.0.0.1',
    port: 0,
    certPem: leaf.certPem,
    keyPem: leaf.keyPem,
    context,
    log: pino({ enabled: false }),
    registry,
    ...(timeouts ? { timeouts } : {}),
  });
  return { server, ca, registry };
}

export interface RawResponse {
  readonly status: number;
  readonly body: string;
  readonly reusedSocket: boolean;
}

/** POSTs a body (string or Buffer as is; anything else as JSON) over a keep-alive agent. */
export function post(
  agent: Agent,
  port: number,
  path: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<RawResponse> {
  const payload = typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        agent,
        host: '127.0.0.1',
        port,
        path,
        method: 'POST',
        headers: { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(payload), ...headers },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            body: Buffer.concat(chunks).toString('utf8'),
            reusedSocket: req.reusedSocket,
          }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

export function review(
  resource: { group: string; version: string; resource: string; kind: string },
  object: unknown,
  uid = 'uid-1',
) {
  return {
    apiVersion: ADMISSION_API_VERSION,
    kind: 'AdmissionReview',
    request: {
      uid,
      kind: { group: resource.group, version: resource.version, kind: resource.kind },
      resource: { group: resource.group, version: resource.version, resource: resource.resource },
      name: (object as { metadata?: { name?: string } })?.metadata?.name ?? 'x',
      namespace: 'shop',
      operation: 'CREATE',
      userInfo: { username: 'alice' },
      object,
    },
  };
}

export const NP = { group: 'networking.k8s.io', version: 'v1', resource: 'networkpolicies', kind: 'NetworkPolicy' };
export const FNP = {
  group: 'fedmesh.io',
  version: 'v1alpha1',
  resource: 'federatednetworkpolicies',
  kind: 'FederatedNetworkPolicy',
};
export const RCC = {
  group: 'fedmesh.io',
  version: 'v1alpha1',
  resource: 'remoteclusterconfigurations',
  kind: 'RemoteClusterConfiguration',
};
export const SERVICE = { group: '', version: 'v1', resource: 'services', kind: 'Service' };

/** A NetworkPolicy as teams write them: app selectors, a namespace peer, a cluster-scoped peer, ports. */
export function realisticNetworkPolicy(i: number) {
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: { name: `allow-${i}`, namespace: 'shop' },
    spec: {
      podSelector: { matchLabels: { app: `svc-${i % 50}`, tier: i % 2 === 0 ? 'backend' : 'frontend' } },
      policyTypes: ['Ingress', 'Egress'],
      ingress: [
        {
          from: [
            { podSelector: { matchLabels: { app: `client-${i % 7}` } } },
            {
              podSelector: {
                matchLabels: { role: 'batch' },
                matchExpressions: [{ key: 'fedmesh.io/cluster', operator: 'In', values: ['west', 'north'] }],
              },
            },
            {
              namespaceSelector: { matchLabels: { team: 'ops' } },
              podSelector: { matchLabels: { app: 'prometheus' } },
            },
          ],
          ports: [
            { protocol: 'TCP', port: 8080 },
            { protocol: 'TCP', port: 'metrics' },
          ],
        },
      ],
      egress: [
        { to: [{ ipBlock: { cidr: '10.0.0.0/8', except: ['10.96.0.0/12'] } }], ports: [{ protocol: 'UDP', port: 53 }] },
        { to: [{ podSelector: { matchExpressions: [{ key: 'app', operator: 'In', values: ['db', 'cache'] }] } }] },
      ],
    },
  };
}

export const newAgent = (ca: KeyPair, maxSockets = 8) =>
  new Agent({ keepAlive: true, maxSockets, ca: ca.certPem, servername: 'localhost' });
