// A counter for the request hot path, in the spirit of fast-histogram.ts: plain numbers per
// label set (series-table.ts: no allocation once a series exists), handed to prom-client's
// registry only at scrape time.
import { SeriesTable } from './series-table.js';

interface CounterSeries {
  labels: Record<string, string>;
  value: number;
}

export class FastCounter {
  readonly type = 'counter';
  readonly aggregator = 'sum';
  private readonly table: SeriesTable<CounterSeries>;

  constructor(
    readonly name: string,
    readonly help: string,
    labelNames: readonly string[],
  ) {
    if (labelNames.length === 0) throw new Error('FastCounter: at least one label');
    if (!name.endsWith('_total')) throw new Error(`FastCounter: a counter's name ends in _total (${name})`);
    this.table = new SeriesTable(labelNames, (labels) => ({ labels, value: 0 }));
  }

  /** The series for these label values, in labelNames order. */
  series(...values: Array<string | number>): CounterSeries {
    return this.table.series(values);
  }

  /** prom-client's Registry reads metrics through get(). */
  async get() {
    const values = this.table.all.map((s) => ({ labels: s.labels, value: s.value }));
    return { name: this.name, help: this.help, type: this.type, values, aggregator: this.aggregator };
  }

  reset(): void {
    this.table.clear();
  }
}
