import { Counter, Gauge, type Registry } from 'prom-client';

export interface ControllerGauges {
  /** Objects the controller looks after (federated Services, ServiceImports). */
  readonly managed: () => number;
  readonly queueDepth: () => number;
}

export interface FederatedServicesMetrics {
  readonly writes: Counter<'operation' | 'result' | 'controller'>;
  readonly syncErrors: Counter<'controller'>;
  readonly events: Counter<'reason'>;
  readonly eventsSuppressed: Counter<'reason'>;
  register(controller: string, gauges: ControllerGauges): void;
  /** Where fedmesh_service_imports_left_out reads the remote clusters over their export limit. */
  registerLeftOut(overLimit: () => ReadonlyMap<string, { readonly leftOut: number }>): void;
}

const byRegistry = new WeakMap<Registry, FederatedServicesMetrics>();

/** The metrics of the federated services and ServiceImport controllers (one set per registry, labelled by controller). */
export function federatedServicesMetrics(registry: Registry): FederatedServicesMetrics {
  const known = byRegistry.get(registry);
  if (known) return known;
  const controllers = new Map<string, ControllerGauges>();
  new Gauge({
    name: 'fedmesh_federated_services',
    help: 'Objects a controller looks after: local federated Services (controller="federated-services") and ServiceImports (controller="service-imports")',
    labelNames: ['controller'] as const,
    registers: [registry],
    collect() {
      for (const [controller, g] of controllers) this.set({ controller }, g.managed());
    },
  });
  new Gauge({
    name: 'fedmesh_federated_services_queue_depth',
    help: 'Keys waiting for, in, or backing off after a sync, by controller',
    labelNames: ['controller'] as const,
    registers: [registry],
    collect() {
      for (const [controller, g] of controllers) this.set({ controller }, g.queueDepth());
    },
  });
  let overLimit: () => ReadonlyMap<string, { readonly leftOut: number }> = () => new Map();
  new Gauge({
    name: 'fedmesh_service_imports_left_out',
    help: 'Exports of a remote cluster not imported because it exports more than --max-exports-per-cluster (counting those whose namespace exists here), by cluster; clusters within the limit are not listed',
    labelNames: ['cluster'] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const [cluster, o] of overLimit()) this.set({ cluster }, o.leftOut);
    },
  });
  const m: FederatedServicesMetrics = {
    writes: new Counter({
      name: 'fedmesh_federated_service_slice_writes_total',
      help: 'EndpointSlice writes, by controller, operation (create, update, delete) and result (success, error)',
      labelNames: ['operation', 'result', 'controller'] as const,
      registers: [registry],
    }),
    syncErrors: new Counter({
      name: 'fedmesh_federated_service_sync_errors_total',
      help: 'Syncs that failed and are retried with backoff, by controller',
      labelNames: ['controller'] as const,
      registers: [registry],
    }),
    events: new Counter({
      name: 'fedmesh_federated_service_events_total',
      help: 'Warning Events written on Services and ServiceExports, by reason',
      labelNames: ['reason'] as const,
      registers: [registry],
    }),
    eventsSuppressed: new Counter({
      name: 'fedmesh_federated_service_events_suppressed_total',
      help: 'Warning Events not written because their object had written too many of that reason lately (a burst of 25, then one per 5 minutes), by reason',
      labelNames: ['reason'] as const,
      registers: [registry],
    }),
    register: (controller, gauges) => controllers.set(controller, gauges),
    registerLeftOut: (read) => {
      overLimit = read;
    },
  };
  byRegistry.set(registry, m);
  return m;
}
