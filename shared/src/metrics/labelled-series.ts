import { Counter, Histogram, type Registry } from "prom-client";

/**
 * Counters and histograms for the relay's per-request metrics. prom-client builds and hashes a
 * key string from the label object on every inc and observe (a few percent of the relay's CPU);
 * here each label set is found through nested Maps keyed by the label values, and the totals are
 * handed to prom-client only when /metrics is scraped, so the text it writes is unchanged.
 */

interface SeriesNode<L extends string, V> {
  readonly children: Map<string, SeriesNode<L, V>>;
  series: Series<L, V> | undefined;
}

/** One label set (in label-name order, as prom-client writes it) and what it holds. */
interface Series<L extends string, V> {
  readonly labels: Partial<Record<L, string>>;
  readonly value: V;
}

/** The series of one metric, by label values, in the order they were first seen. */
class SeriesIndex<L extends string, V> {
  readonly #labelNames: readonly L[];
  readonly #create: () => V;
  readonly #root: SeriesNode<L, V> = { children: new Map(), series: undefined };
  readonly all: Series<L, V>[] = [];

  constructor(labelNames: readonly L[], create: () => V) {
    this.#labelNames = labelNames;
    this.#create = create;
  }

  /** The value for one label set; `values` follow the metric's label names. */
  at(values: readonly string[]): V {
    let node = this.#root;
    for (const value of values) {
      let child = node.children.get(value);
      if (child === undefined) {
        child = { children: new Map(), series: undefined };
        node.children.set(value, child);
      }
      node = child;
    }
    if (node.series === undefined) {
      node.series = { labels: this.#labelsOf(values), value: this.#create() };
      this.all.push(node.series);
    }
    return node.series.value;
  }

  #labelsOf(values: readonly string[]): Partial<Record<L, string>> {
    if (values.length !== this.#labelNames.length) {
      throw new TypeError(`expected ${this.#labelNames.length} label values, got ${values.length}`);
    }
    const labels: Partial<Record<L, string>> = {};
    this.#labelNames.forEach((name, index) => {
      labels[name] = values[index] ?? "";
    });
    return labels;
  }
}

interface MetricConfig<L extends string> {
  name: string;
  help: string;
  labelNames: readonly L[];
  registry: Registry;
}

/** A counter per label set; prom-client reads the totals on scrape. */
export class LabelledCounter<L extends string> {
  readonly #series: SeriesIndex<L, { total: number }>;

  constructor(config: MetricConfig<L>) {
    const series = new SeriesIndex(config.labelNames, () => ({ total: 0 }));
    this.#series = series;
    new Counter<L>({
      name: config.name,
      help: config.help,
      labelNames: config.labelNames,
      registers: [config.registry],
      collect() {
        this.reset();
        for (const { labels, value } of series.all) {
          this.inc(labels, value.total);
        }
      },
    });
  }

  /** Adds `by` (1 unless given) to the series of these label values, in label-name order. */
  inc(values: readonly string[], by = 1): void {
    if (!(Number.isFinite(by) && by >= 0)) {
      throw new TypeError(`a counter only goes up by a finite amount, got ${by}`);
    }
    this.#series.at(values).total += by;
  }
}

interface BucketCounts {
  /** Observations per bucket (not cumulative); past the last bound only `count` grows. */
  readonly perBucket: number[];
  sum: number;
  count: number;
}

/** The entry prom-client's Histogram keeps per label set and writes out on scrape. */
interface PromHistogramEntry {
  labels: Partial<Record<string, string>>;
  bucketValues: Record<number, number>;
  sum: number;
  count: number;
}

/** A histogram per label set; prom-client reads the bucket counts on scrape. */
export class LabelledHistogram<L extends string> {
  readonly #bounds: readonly number[];
  readonly #series: SeriesIndex<L, BucketCounts>;

  constructor(config: MetricConfig<L> & { buckets: readonly number[] }) {
    const bounds = [...config.buckets].sort((a, b) => a - b);
    this.#bounds = bounds;
    const series = new SeriesIndex<L, BucketCounts>(config.labelNames, () => ({
      perBucket: bounds.map(() => 0),
      sum: 0,
      count: 0,
    }));
    this.#series = series;
    const histogram = new Histogram<L>({
      name: config.name,
      help: config.help,
      labelNames: config.labelNames,
      buckets: bounds,
      registers: [config.registry],
      collect() {
        // prom-client offers no call that sets a bucket's count, so its table of label sets is
        // rebuilt in the shape it keeps (shared/test/metrics.test.ts checks the text against a
        // histogram fed the usual way).
        const table: Record<string, PromHistogramEntry> = {};
        series.all.forEach(({ labels, value }, index) => {
          const bucketValues: Record<number, number> = {};
          bounds.forEach((bound, bucket) => {
            bucketValues[bound] = value.perBucket[bucket] ?? 0;
          });
          table[`series ${index}`] = { labels, bucketValues, sum: value.sum, count: value.count };
        });
        (histogram as unknown as { hashMap: Record<string, PromHistogramEntry> }).hashMap = table;
      },
    });
  }

  /** Records `value` for these label values, in label-name order. */
  observe(values: readonly string[], value: number): void {
    if (!Number.isFinite(value)) {
      throw new TypeError(`a histogram only takes finite values, got ${value}`);
    }
    const counts = this.#series.at(values);
    const bounds = this.#bounds;
    for (let bucket = 0; bucket < bounds.length; bucket++) {
      if (value <= (bounds[bucket] ?? Number.POSITIVE_INFINITY)) {
        counts.perBucket[bucket] = (counts.perBucket[bucket] ?? 0) + 1;
        break;
      }
    }
    counts.sum += value;
    counts.count += 1;
  }
}
