// The per-label-set series of the hot-path metrics (fast-counter.ts, fast-histogram.ts): found
// through nested Maps keyed by each label value in turn, so a series that exists costs no
// allocation to find; `all` lists them in creation order for the scrape.

export class SeriesTable<S extends { labels: Record<string, string> }> {
  private readonly root = new Map<string, unknown>();
  readonly all: S[] = [];

  constructor(
    private readonly labelNames: readonly string[],
    private readonly make: (labels: Record<string, string>) => S,
  ) {}

  /** The series for these label values, in labelNames order. */
  series(values: ReadonlyArray<string | number>): S {
    let map = this.root;
    for (let i = 0; i < values.length - 1; i++) {
      let next = map.get(String(values[i])) as Map<string, unknown> | undefined;
      if (!next) map.set(String(values[i]), (next = new Map()));
      map = next;
    }
    const last = String(values[values.length - 1]);
    let s = map.get(last) as S | undefined;
    if (!s) {
      s = this.make(Object.fromEntries(this.labelNames.map((n, i) => [n, String(values[i])])));
      map.set(last, s);
      this.all.push(s);
    }
    return s;
  }

  clear(): void {
    this.root.clear();
    this.all.length = 0;
  }
}
