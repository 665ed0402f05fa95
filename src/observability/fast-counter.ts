// A counter for the request hot path, in the spirit of fast-histogram.ts: plain numbers per
// label set (found through nested Maps, no allocation once a series exists), handed to
// prom-client's registry only at scrape time.

interface CounterSeries {
  labels: Record<string, string>;
  value: number;
}

export class FastCounter {
  readonly type = 'counter';
  readonly aggregator = 'sum';
  private readonly root = new Map<string, unknown>();
  private readonly all: CounterSeries[] = [];

  constructor(
    readonly name: string,
    readonly help: string,
    private readonly labelNames: readonly string[],
  ) {
    if (labelNames.length === 0) throw new Error('FastCounter: at least one label');
    if (!name.endsWith('_total')) throw new Error(`FastCounter: a counter's name ends in _total (${name})`);
  }

  /** The series for these label values, in labelNames order. */
  series(...values: Array<string | number>): CounterSeries {
    let map = this.root;
    for (let i = 0; i < values.length - 1; i++) {
      let next = map.get(String(values[i])) as Map<string, unknown> | undefined;
      if (!next) map.set(String(values[i]), (next = new Map()));
      map = next;
    }
    const last = String(values[values.length - 1]);
    let s = map.get(last) as CounterSeries | undefined;
    if (!s) {
      s = { labels: Object.fromEntries(this.labelNames.map((n, i) => [n, String(values[i])])), value: 0 };
      map.set(last, s);
      this.all.push(s);
    }
    return s;
  }

  /** prom-client's Registry reads metrics through get(). */
  async get() {
    const values = this.all.map((s) => ({ labels: s.labels, value: s.value }));
    return { name: this.name, help: this.help, type: this.type, values, aggregator: this.aggregator };
  }

  reset(): void {
    this.root.clear();
    this.all.length = 0;
  }
}
