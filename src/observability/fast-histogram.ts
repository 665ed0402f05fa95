// A histogram for the request hot path. prom-client's labelled children hash their label
// set on every observe(); this one keeps plain counters per label set (found through nested
// Maps, no allocation per request) and hands them to prom-client's registry only at scrape
// time, in the shape its own Histogram reports (_bucket with le, _sum, _count).
import { SeriesTable } from './series-table.js';

interface Series {
  labels: Record<string, string>;
  buckets: Float64Array;
  sum: number;
  count: number;
}

export class FastHistogram {
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  private readonly table: SeriesTable<Series>;

  constructor(
    readonly name: string,
    readonly help: string,
    labelNames: readonly string[],
    private readonly upperBounds: readonly number[],
  ) {
    if (labelNames.length === 0) throw new Error('FastHistogram: at least one label');
    if (upperBounds.some((b, i) => i > 0 && b <= upperBounds[i - 1]!)) throw new Error('FastHistogram: bounds must increase');
    this.table = new SeriesTable(labelNames, (labels) => ({ labels, buckets: new Float64Array(upperBounds.length), sum: 0, count: 0 }));
  }

  /** The series for these label values, in labelNames order. */
  series(...values: Array<string | number>): Series {
    return this.table.series(values);
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
    for (const s of this.table.all) {
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
    this.table.clear();
  }
}
