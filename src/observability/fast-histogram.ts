// A histogram for the request hot path. prom-client's labelled children hash their label
// set on every observe(); this one keeps plain counters per label set (found through nested
// Maps, no allocation per request) and hands them to prom-client's registry only at scrape
// time, in the shape its own Histogram reports (_bucket with le, _sum, _count).

interface Series {
  labels: Record<string, string>;
  buckets: Float64Array;
  sum: number;
  count: number;
}

export class FastHistogram {
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  private readonly root = new Map<string, unknown>();
  private readonly all: Series[] = [];

  constructor(
    readonly name: string,
    readonly help: string,
    private readonly labelNames: readonly string[],
    private readonly upperBounds: readonly number[],
  ) {
    if (labelNames.length === 0) throw new Error('FastHistogram: at least one label');
    if (upperBounds.some((b, i) => i > 0 && b <= upperBounds[i - 1]!)) throw new Error('FastHistogram: bounds must increase');
  }

  /** The series for these label values, in labelNames order. */
  series(...values: Array<string | number>): Series {
    let map = this.root;
    for (let i = 0; i < values.length - 1; i++) {
      let next = map.get(String(values[i])) as Map<string, unknown> | undefined;
      if (!next) map.set(String(values[i]), (next = new Map()));
      map = next;
    }
    const last = String(values[values.length - 1]);
    let s = map.get(last) as Series | undefined;
    if (!s) {
      const labels = Object.fromEntries(this.labelNames.map((n, i) => [n, String(values[i])]));
      s = { labels, buckets: new Float64Array(this.upperBounds.length), sum: 0, count: 0 };
      map.set(last, s);
      this.all.push(s);
    }
    return s;
  }

  observe(s: Series, value: number): void {
    s.count++;
    s.sum += value;
    const bounds = this.upperBounds;
    for (let i = 0; i < bounds.length; i++) {
      if (value <= bounds[i]!) {
        s.buckets[i]!++;
        break;
      }
    }
  }

  /** prom-client's Registry reads metrics through get(). */
  async get() {
    const values: Array<{ metricName: string; labels: Record<string, string | number>; value: number }> = [];
    for (const s of this.all) {
      let cumulative = 0;
      this.upperBounds.forEach((le, i) => {
        cumulative += s.buckets[i]!;
        values.push({ metricName: `${this.name}_bucket`, labels: { ...s.labels, le }, value: cumulative });
      });
      values.push({ metricName: `${this.name}_bucket`, labels: { ...s.labels, le: '+Inf' }, value: s.count });
      values.push({ metricName: `${this.name}_sum`, labels: s.labels, value: s.sum });
      values.push({ metricName: `${this.name}_count`, labels: s.labels, value: s.count });
    }
    return { name: this.name, help: this.help, type: this.type, values, aggregator: this.aggregator };
  }

  reset(): void {
    this.root.clear();
    this.all.length = 0;
  }
}
