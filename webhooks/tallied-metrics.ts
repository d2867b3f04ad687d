// prom-client metrics whose fixed labelled series count with plain additions. A labelled child of prom-client's
// Counter or Histogram checks its label names and builds its hash string on every call (and the histogram looks its
// bucket up by number-as-string): on the webhook server that was about a microsecond of every review. Here a series
// is made once (its labels fixed), counts in plain numbers, and reads out exactly as prom-client's own would: the
// counter adds its tallies to prom-client's series when scraped (its collect), the histogram builds prom-client's
// values itself. Both are registered and read like any prom-client metric.

import { Counter, type CounterConfiguration, Histogram, type HistogramConfiguration } from 'prom-client';

type Labels<T extends string> = Partial<Record<T, string | number>>;

interface Tally<T extends string> {
  readonly labels: Labels<T>;
  n: number;
}

/** A prom-client Counter with series that count by a plain increment, added to the counter when it is read. */
export class TalliedCounter<T extends string> extends Counter<T> {
  private readonly tallies: Tally<T>[] = [];

  constructor(configuration: Omit<CounterConfiguration<T>, 'collect'>) {
    super({
      ...configuration,
      collect(this: Counter<T>) {
        (this as TalliedCounter<T>).addTallies();
      },
    });
  }

  /** The series with these labels, at 0 from now on; its inc() adds one. Make each series once. */
  series(labels: Labels<T>): { inc(): void } {
    this.inc(labels, 0);
    const tally: Tally<T> = { labels, n: 0 };
    this.tallies.push(tally);
    return {
      inc: () => {
        tally.n++;
      },
    };
  }

  private addTallies(): void {
    for (const t of this.tallies) {
      if (t.n === 0) continue;
      this.inc(t.labels, t.n);
      t.n = 0;
    }
  }

  override reset(): void {
    // prom-client's constructor resets too, before this class's fields exist.
    for (const t of this.tallies ?? []) t.n = 0;
    super.reset();
  }
}

interface HistogramSeries {
  readonly labels: Record<string, string | number>;
  /** Observations per bucket (not cumulative), one per upper bound. */
  readonly counts: number[];
  sum: number;
  count: number;
  /** Whether prom-client would list it: made with series() (prom-client's zero) and not reset since. */
  listed: boolean;
}

/**
 * A prom-client Histogram with series that observe by a bucket search and three additions. Its values (buckets,
 * +Inf, sum, count, in the order and form prom-client gives them) are built from the series when it is read.
 * Only series made with series() exist; prom-client's own observe()/labels() must not be used on it.
 */
export class TalliedHistogram<T extends string> extends Histogram<T> {
  private readonly all: HistogramSeries[] = [];
  private readonly bounds: readonly number[];

  constructor(configuration: Omit<HistogramConfiguration<T>, 'collect' | 'enableExemplars'>) {
    super(configuration);
    this.bounds = (this as unknown as { upperBounds: readonly number[] }).upperBounds;
  }

  /** The series with these labels, listed (at 0) from now on, as prom-client's zero(labels) makes it. */
  series(labels: Labels<T>): { observe(value: number): void } {
    const s: HistogramSeries = {
      labels: labels as Record<string, string | number>,
      counts: this.bounds.map(() => 0),
      sum: 0,
      count: 0,
      listed: true,
    };
    this.all.push(s);
    const bounds = this.bounds;
    return {
      observe: (value: number) => {
        if (!Number.isFinite(value)) throw new TypeError(`Value is not a valid number: ${value}`);
        for (let i = 0; i < bounds.length; i++) {
          if (value <= bounds[i]!) {
            s.counts[i]!++;
            break;
          }
        }
        s.sum += value;
        s.count++;
        s.listed = true;
      },
    };
  }

  // What prom-client's Histogram.getForPromString returns (get() splays the labels from it, as for prom-client's).
  async getForPromString() {
    // Set by prom-client's Metric constructor from the configuration (not in its type declarations).
    const { name, help, type, aggregator } = this as unknown as {
      name: string;
      help: string;
      type: string;
      aggregator: string;
    };
    const values: {
      labels: Record<string, string | number>;
      sharedLabels: Record<string, string | number>;
      value: number;
      metricName: string;
      exemplar: null | undefined;
    }[] = [];
    for (const s of this.all) {
      if (!s.listed) continue;
      let acc = 0;
      for (let i = 0; i < this.bounds.length; i++) {
        acc += s.counts[i]!;
        values.push({
          labels: { le: this.bounds[i]! },
          sharedLabels: s.labels,
          value: acc,
          metricName: `${name}_bucket`,
          exemplar: null,
        });
      }
      values.push(
        {
          labels: { le: '+Inf' },
          sharedLabels: s.labels,
          value: s.count,
          metricName: `${name}_bucket`,
          exemplar: null,
        },
        { labels: {}, sharedLabels: s.labels, value: s.sum, metricName: `${name}_sum`, exemplar: undefined },
        { labels: {}, sharedLabels: s.labels, value: s.count, metricName: `${name}_count`, exemplar: undefined },
      );
    }
    return { name, help, type, values, aggregator };
  }

  override reset(): void {
    for (const s of this.all ?? []) {
      s.counts.fill(0);
      s.sum = 0;
      s.count = 0;
      s.listed = false;
    }
    super.reset();
  }
}
