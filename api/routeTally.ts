/**
 * One route's request counts and latency kept in plain numbers, for mod_xml_curl's path:
 * FreeSWITCH calls it on every registration and profile scan, and there prom-client's labelled
 * `inc` and `observe` (each call validates and hashes its labels) cost about 0.45 µs a request,
 * a few per cent of the whole answer's CPU. Recording here is a map update and a bucket search.
 *
 * prom-client still writes the exposition, and the series are exactly those its own Counter and
 * Histogram would have written for the same requests (test/api/routeTally.test.ts compares them):
 * - the counts are added to the request counter when prom-client collects it (its `collect` hook),
 *   so each scrape costs one `inc` per status seen, not one per request;
 * - the latency is served by `HistogramWithTallies`, a histogram family that prom-client's
 *   registry reads like its own: the other routes from a prom-client Histogram, this route's
 *   series (`_bucket` per bound and `+Inf`, `_sum`, `_count`) from the tally.
 */
import type { Counter, Histogram, Metric } from "prom-client";

export type RequestLabel = "method" | "route" | "status";
export type LatencyLabel = "method" | "route";

export class RouteTally {
  /** Requests per status since the counter last collected them. */
  private readonly pending = new Map<number, number>();
  /** Requests per latency bucket: [i] those within bounds[i] and above bounds[i-1]; the last, above every bound. */
  private readonly perBucket: Float64Array;
  private sum = 0;
  private count = 0;

  constructor(
    readonly method: string,
    readonly route: string,
    private readonly bounds: readonly number[],
  ) {
    this.perBucket = new Float64Array(bounds.length + 1);
  }

  record(status: number, seconds: number): void {
    this.pending.set(status, (this.pending.get(status) ?? 0) + 1);
    // The first bound the value does not exceed, as prom-client's Histogram files it.
    let bucket = 0;
    while (bucket < this.bounds.length && seconds > this.bounds[bucket]) bucket++;
    this.perBucket[bucket]++;
    this.sum += seconds;
    this.count++;
  }

  /** Adds the counts recorded since the last call to `counter` (from its `collect` hook). */
  addCountsTo(counter: Counter<RequestLabel>): void {
    for (const [status, requests] of this.pending)
      counter.inc({ method: this.method, route: this.route, status: String(status) }, requests);
    this.pending.clear();
  }

  /** This route's histogram series, in the shape prom-client's Histogram gives its registry. */
  latencySeries(name: string): { labels: Record<string, string | number>; value: number; metricName: string }[] {
    if (this.count === 0) return [];
    const labels = { method: this.method, route: this.route };
    let cumulative = 0;
    const buckets = this.bounds.map((le, i) => {
      cumulative += this.perBucket[i];
      return { labels: { le, ...labels }, value: cumulative, metricName: `${name}_bucket` };
    });
    return [
      ...buckets,
      { labels: { le: "+Inf", ...labels }, value: this.count, metricName: `${name}_bucket` },
      { labels, value: this.sum, metricName: `${name}_sum` },
      { labels, value: this.count, metricName: `${name}_count` },
    ];
  }

  reset(): void {
    this.pending.clear();
    this.perBucket.fill(0);
    this.sum = 0;
    this.count = 0;
  }
}

/**
 * A histogram family whose series come from a prom-client Histogram (every route but the
 * tallied ones) and from route tallies. Register it in place of the Histogram (whose own
 * `registers` must be empty): the registry asks it for `get()` as it asks its own metrics.
 */
export class HistogramWithTallies {
  readonly type = "histogram";
  readonly aggregator = "sum";
  readonly name: string;
  readonly help: string;

  private readonly tallies: RouteTally[] = [];

  constructor(
    private readonly histogram: Histogram<LatencyLabel>,
    meta: { name: string; help: string },
  ) {
    this.name = meta.name;
    this.help = meta.help;
  }

  /** Serves this tally's latency from now on. */
  include(tally: RouteTally): void {
    this.tallies.push(tally);
  }

  async get() {
    const own = await this.histogram.get();
    return {
      ...own,
      name: this.name,
      help: this.help,
      values: [...own.values, ...this.tallies.flatMap((t) => t.latencySeries(this.name))],
    };
  }

  reset(): void {
    this.histogram.reset();
    for (const tally of this.tallies) tally.reset();
  }

  /** What `Registry.registerMetric` takes: its type lists prom-client's four classes, its code reads name and get(). */
  asMetric(): Metric<LatencyLabel> {
    return this as unknown as Metric<LatencyLabel>;
  }
}
