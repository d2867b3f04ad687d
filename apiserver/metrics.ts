import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/** The API server's own metrics, named like k8s.io/apiserver's so that dashboards read alike. */
export interface ApiServerMetrics {
  readonly requests: Counter<'verb' | 'resource' | 'code'>;
  readonly duration: Histogram<'verb' | 'resource'>;
  readonly watchers: Gauge<'resource'>;
  readonly watchesCut: Counter<'resource'>;
  readonly responsesCut: Counter<'resource'>;
}

export function createApiServerMetrics(registry: Registry): ApiServerMetrics {
  return {
    requests: new Counter({
      name: 'fedmesh_apiserver_request_total',
      help: 'Requests to the federation API, by verb, resource and HTTP code.',
      labelNames: ['verb', 'resource', 'code'],
      registers: [registry],
    }),
    duration: new Histogram({
      name: 'fedmesh_apiserver_request_duration_seconds',
      help: 'Latency of non-watch requests to the federation API.',
      labelNames: ['verb', 'resource'],
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    }),
    watchers: new Gauge({
      name: 'fedmesh_apiserver_registered_watchers',
      help: 'Open watches, by resource.',
      labelNames: ['resource'],
      registers: [registry],
    }),
    watchesCut: new Counter({
      name: 'fedmesh_apiserver_watches_cut_total',
      help: 'Watches cut because their client stopped reading or fell too far behind (it re-lists).',
      labelNames: ['resource'],
      registers: [registry],
    }),
    responsesCut: new Counter({
      name: 'fedmesh_apiserver_responses_cut_total',
      help: 'Answers cut because their callers held too many bytes their clients had not read (they retry).',
      labelNames: ['resource'],
      registers: [registry],
    }),
  };
}
