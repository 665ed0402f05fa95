// A closed-loop load: `concurrency` clients, each sending its next request when the last one
// is answered (body read whole), until stopped. Every request is recorded, so a fault's effect
// can be told apart by when a request started and ended.

export interface Outcome {
  readonly url: string;
  readonly startedAt: number;
  readonly endedAt: number;
  /** HTTP status, or 0 when no whole answer came (refused, reset, truncated body). */
  readonly status: number;
  readonly error?: string;
}

export interface Load {
  /** Requests sent and not answered yet. */
  inFlight(): number;
  stop(): Promise<Outcome[]>;
}

export function startLoad(opts: { concurrency: number; next: (i: number) => { url: string; headers: Record<string, string> } }): Load {
  const outcomes: Outcome[] = [];
  let running = true;
  let pending = 0;
  let n = 0;

  async function client(): Promise<void> {
    while (running) {
      const { url, headers } = opts.next(n++);
      const startedAt = performance.now();
      pending++;
      try {
        const res = await fetch(url, { headers, signal: AbortSignal.timeout(15_000) });
        await res.arrayBuffer();
        outcomes.push({ url, startedAt, endedAt: performance.now(), status: res.status });
      } catch (err) {
        const cause = (err as { cause?: { code?: string } }).cause?.code;
        outcomes.push({ url, startedAt, endedAt: performance.now(), status: 0, error: cause ?? (err as Error).name });
      } finally {
        pending--;
      }
    }
  }

  const clients = Array.from({ length: opts.concurrency }, () => client());
  return {
    inFlight: () => pending,
    async stop() {
      running = false;
      await Promise.all(clients);
      return outcomes;
    },
  };
}

export function tally(outcomes: readonly Outcome[]): { total: number; ok: number; s4xx: number; s5xx: number; failed: number } {
  return {
    total: outcomes.length,
    ok: outcomes.filter((o) => o.status >= 200 && o.status < 300).length,
    s4xx: outcomes.filter((o) => o.status >= 400 && o.status < 500).length,
    s5xx: outcomes.filter((o) => o.status >= 500).length,
    failed: outcomes.filter((o) => o.status === 0).length,
  };
}
