// The webhook server's metrics. Reviews are counted and timed in plain numbers per webhook and handed to
// prom-client in batches (the counts at each scrape, the durations every DURATION_BATCH reviews and at each
// scrape): prom-client looks up the labelled series by hashing its label values on every inc() and observe(),
// which cost about 5 µs of each review on a server that answers each review from cold caches (bench/webhook).
// Batched, the same work runs a few hundred times in a row, hot. A scrape sees every review answered before it.

import { Counter, Histogram, type Registry } from 'prom-client';
import { type ReviewOutcome, webhookRoutes } from './review.js';

export type Outcome = ReviewOutcome | 'malformed' | 'error';
const OUTCOMES: readonly Outcome[] = ['allowed', 'denied', 'skipped', 'malformed', 'error'];

/** Durations kept before they are handed to the histogram (and at every scrape). */
export const DURATION_BATCH = 256;

interface Instruments {
  readonly reviews: Counter<'webhook' | 'outcome'>;
  readonly duration: Histogram<'webhook'>;
}

/** One webhook's reviews: counts by outcome and durations not yet handed to prom-client. */
export class WebhookReviewSeries {
  private readonly counts: Record<Outcome, number> = { allowed: 0, denied: 0, skipped: 0, malformed: 0, error: 0 };
  private readonly durations = new Float64Array(DURATION_BATCH);
  private pending = 0;

  constructor(
    private readonly instruments: Instruments,
    readonly webhook: string,
  ) {
    // Every series exists (at 0) from the first scrape.
    for (const outcome of OUTCOMES) instruments.reviews.inc({ webhook, outcome }, 0);
    instruments.duration.zero({ webhook });
  }

  count(outcome: Outcome): void {
    this.counts[outcome]++;
  }

  time(seconds: number): void {
    this.durations[this.pending++] = seconds;
    if (this.pending === DURATION_BATCH) this.handOverDurations();
  }

  handOverCounts(): void {
    for (const outcome of OUTCOMES) {
      const n = this.counts[outcome];
      if (n === 0) continue;
      this.instruments.reviews.inc({ webhook: this.webhook, outcome }, n);
      this.counts[outcome] = 0;
    }
  }

  handOverDurations(): void {
    const labels = { webhook: this.webhook };
    for (let i = 0; i < this.pending; i++) this.instruments.duration.observe(labels, this.durations[i]!);
    this.pending = 0;
  }
}

export function webhookMetrics(registry: Registry) {
  const series = new Map<string, WebhookReviewSeries>();
  const reviews = new Counter({
    name: 'fedmesh_webhook_reviews_total',
    help: 'AdmissionReviews answered, by webhook path and outcome (allowed, denied, skipped, malformed, error)',
    labelNames: ['webhook', 'outcome'] as const,
    registers: [registry],
    collect: () => {
      for (const s of series.values()) s.handOverCounts();
    },
  });
  const duration = new Histogram({
    name: 'fedmesh_webhook_review_duration_seconds',
    help: 'Time from a complete request body to the answer, by webhook path',
    labelNames: ['webhook'] as const,
    buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.05, 0.25, 1],
    registers: [registry],
    collect: () => {
      for (const s of series.values()) s.handOverDurations();
    },
  });
  for (const route of webhookRoutes) series.set(route.name, new WebhookReviewSeries({ reviews, duration }, route.name));
  return {
    /** Each webhook's reviews, by the webhook's name (the last segment of its path). */
    series: series as ReadonlyMap<string, WebhookReviewSeries>,
    rejectedBodies: new Counter({
      name: 'fedmesh_webhook_bad_requests_total',
      help: 'Requests answered 4xx because they were not an AdmissionReview (or too large)',
      labelNames: ['code'] as const,
      registers: [registry],
    }),
  };
}

export type WebhookMetrics = ReturnType<typeof webhookMetrics>;
