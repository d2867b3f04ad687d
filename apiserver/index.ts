// The aggregated API of federation.fedmesh.io/v1alpha1: remoteworkloads, federatedendpoints and remotenodes,
// served read-only from the mesh cache. `fedmesh server` starts it with startFederationApi.
import type { Registry } from 'prom-client';
import type { KubeRestClient } from '../core/kube/rest-client.js';
import type { Logger } from '../core/log/logger.js';
import { HealthChecks } from '../core/metrics/health-checks.js';
import type { MeshCacheReader } from '../federation/index.js';
import { Delegation } from './auth/delegation.js';
import { AuthenticationConfigSource } from './authentication-config.js';
import { createApiServerMetrics } from './metrics.js';
import { buildOpenApi } from './openapi.js';
import { Projection } from './projection.js';
import { SnapshotKeeper } from './resource-handlers.js';
import { ServedStore } from './served-store.js';
import { type RunningApiServer, startApiServer } from './server.js';
import type { WatchLimits } from './watch-limits.js';
import { defaultWatchStreamOptions } from './watch-stream.js';

export { apiServiceName, type RegistrationOptions, registrationManifests } from './registration.js';
export { group as federationApiGroup, groupVersion as federationApiGroupVersion } from './resources.js';
export { loadOrCreateServingCert, type ServingCert, servingDnsNames } from './serving-cert.js';

export interface FederationApiOptions {
  readonly cache: MeshCacheReader;
  readonly localCluster: string;
  /** The local kube-apiserver, as the server's own identity (TokenReview, SubjectAccessReview, trust ConfigMap). */
  readonly kube: KubeRestClient;
  readonly host: string;
  readonly port: number;
  readonly certPem: string;
  readonly keyPem: string;
  readonly meshReady: () => boolean;
  readonly log: Logger;
  readonly registry: Registry;
  readonly version: string;
  readonly limits?: ApiLimits;
}

/** What protects the API from its callers (flags of `fedmesh server`; defaults in docs/federation-api.md). */
export interface ApiLimits {
  readonly maxInFlight: number;
  readonly watchLimits: WatchLimits;
  readonly watchStallTimeoutMs: number;
}

export interface FederationApi {
  readonly port: number;
  readonly store: ServedStore;
  stop(): Promise<void>;
}

/** Warnings for responses: every remote cluster that is not in sync, and what that means for its objects. */
export function clusterWarnings(cache: MeshCacheReader): string[] {
  return cache
    .clusterStatuses()
    .filter((s) => !s.local && s.state !== 'InSync')
    .map((s) => {
      const since = s.staleSince ? ` since ${s.staleSince}` : '';
      const what = s.withdrawn ? 'its objects were withdrawn' : 'its objects may be stale';
      return `cluster "${s.cluster}" is ${s.state}${since} (${s.reason || 'no reason'}): ${what}`;
    });
}

export async function startFederationApi(o: FederationApiOptions): Promise<FederationApi> {
  const store = new ServedStore();
  const projection = new Projection(o.localCluster, o.cache);
  const sub = o.cache.subscribe((ev) => store.apply(projection.apply(ev)));
  if (sub.snapshot) store.apply(projection.load(sub.snapshot.objects, sub.snapshot.clusters));
  const delegation = new Delegation(o.kube);
  const log = o.log.child({ component: 'apiserver' });
  let server: RunningApiServer | undefined;
  const auth = new AuthenticationConfigSource(o.kube, log, (_cfg, pems) => server?.setTrustedClientCAs(pems));
  await auth.start();
  const [major = '0', minor = '0'] = o.version.replace(/^v/, '').split('.');
  server = await startApiServer({
    host: o.host,
    port: o.port,
    certPem: o.certPem,
    keyPem: o.keyPem,
    handlerContext: {
      store,
      snapshots: new SnapshotKeeper(),
      warnings: () => clusterWarnings(o.cache),
      ...(o.limits
        ? { watchStream: { ...defaultWatchStreamOptions, stallTimeoutMs: o.limits.watchStallTimeoutMs } }
        : {}),
    },
    ...(o.limits ? { maxInFlight: o.limits.maxInFlight, watchLimits: o.limits.watchLimits } : {}),
    authentication: () => auth.current(),
    reviewToken: (t) => delegation.reviewToken(t),
    authorize: (u, info) => delegation.authorize(u, info),
    health: new HealthChecks()
      .addReadiness('authentication-config', () => {
        const a = auth.loaded();
        return a.ok ? undefined : a.message;
      })
      .addReadiness('mesh-cache-synced', () =>
        o.meshReady() ? undefined : 'the mesh cache has not completed its first sync',
      ),
    openapi: buildOpenApi(o.version),
    version: { gitVersion: o.version, major, minor },
    log,
    registry: o.registry,
    metrics: createApiServerMetrics(o.registry),
  });
  // Trust loaded before the server existed: offer those CAs in the handshake now.
  await auth.refresh();
  const cfgPems = auth.current();
  if (cfgPems.requestHeader)
    server.setTrustedClientCAs([...cfgPems.requestHeader.clientCAs, ...cfgPems.clientCAs].map((c) => c.toString()));
  const running = server;
  return {
    port: running.port,
    store,
    async stop() {
      sub.unsubscribe();
      auth.stop();
      await running.close();
    },
  };
}
