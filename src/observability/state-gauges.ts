// Gauges of state rather than events, read from the services at scrape time: the cache's size,
// each district's delta sync, breaker and queue, and whether the shared stores answer.
import { Gauge, type Registry } from 'prom-client';

/** A district's delta sync as this replica knows it (its own runs, and what other replicas shared). */
export interface DeltaSyncSource {
  district: string;
  /** ms epoch: changes up to here are known. */
  watermarkMs?: number;
  /** ms epoch of this replica's last run, whatever its outcome; absent while another replica runs it. */
  lastRunMs?: number;
  /** ms epoch of the last run (by any replica) that polled every collection without a failure. */
  lastSuccessMs?: number;
  /** ms epoch since this replica has been trying the district (the lag of one never synced counts from here). */
  sinceMs: number;
}

export interface StateSources {
  cacheStats?: () => { l1Bytes: number; l1Entries: number };
  deltaSync?: () => Iterable<DeltaSyncSource>;
  /** cache.deltaSync.intervalSeconds, so alert rules can say "N intervals" without knowing the config. */
  deltaSyncIntervalSeconds?: number;
  circuits?: () => Iterable<{ district: string; state: 'closed' | 'half-open' | 'open' }>;
  /** Per district: requests waiting for one of its concurrency slots in this replica. */
  queues?: () => Iterable<{ district: string; queued: number }>;
  /** Whether the Redis cache store answers; undefined without one. */
  redisUp?: () => boolean | undefined;
  /** Whether the PostgreSQL mirror store answers (a bounded probe); undefined without one. */
  postgresUp?: () => Promise<boolean | undefined> | boolean | undefined;
  now?: () => number;
}

const CIRCUIT = { closed: 0, 'half-open': 1, open: 2 } as const;

export function registerStateGauges(registry: Registry, prefix: string, sources: () => StateSources): void {
  const now = () => (sources().now ?? Date.now)();
  const gauge = (name: string, help: string, labelNames: string[], collect: (g: Gauge) => void | Promise<void>) =>
    new Gauge({
      name: `${prefix}${name}`,
      help,
      labelNames,
      registers: [registry],
      collect() {
        this.reset();
        return collect(this);
      },
    });
  const cache = (pick: (s: { l1Bytes: number; l1Entries: number }) => number) => (g: Gauge) => {
    const s = sources().cacheStats?.();
    if (s) g.set({ tier: 'l1' }, pick(s));
  };
  gauge('cache_bytes', 'Bytes held by the in-process cache tier.', ['tier'], cache((s) => s.l1Bytes));
  gauge('cache_entries', 'Entries held by the in-process cache tier.', ['tier'], cache((s) => s.l1Entries));
  registerDeltaSyncGauges(gauge, sources, now);
  // Sparse: a district appears once its breaker first left closed, or its queue first held a
  // waiter, and stays (at 0 too) so its graph has no gaps. Absent means "closed / never queued
  // since start": at 300 districts the all-zero series were a tenth of the scrape.
  const circuitSeen = stickySet();
  gauge('circuit_state', "The district's circuit breaker: 0 closed, 1 half-open, 2 open; absent until it first opened.", ['district'], (g) => {
    for (const c of sources().circuits?.() ?? []) if (circuitSeen(c.district, c.state !== 'closed')) g.set({ district: c.district }, CIRCUIT[c.state]);
  });
  const queueSeen = stickySet();
  gauge('upstream_queue_depth', "Requests waiting in this replica for one of the district's concurrency slots (upstream.maxConcurrency); absent until one first waited.", ['district'], (g) => {
    for (const q of sources().queues?.() ?? []) if (queueSeen(q.district, q.queued > 0)) g.set({ district: q.district }, q.queued);
  });
  const flag = (up: boolean | undefined) => (up === undefined ? undefined : up ? 1 : 0);
  optionalGauge(registry, `${prefix}redis_up`, 'Whether the Redis cache store answers (1) or not (0); absent with the memory store.', () => flag(sources().redisUp?.()));
  optionalGauge(registry, `${prefix}postgres_up`, 'Whether the PostgreSQL mirror store answers a probe within 1 s (1) or not (0); absent with the memory store.', async () =>
    flag(await sources().postgresUp?.()),
  );
  optionalGauge(registry, `${prefix}delta_sync_interval_seconds`, 'cache.deltaSync.intervalSeconds: how often each district is polled; absent with delta sync off.', () => sources().deltaSyncIntervalSeconds);
}

/**
 * A gauge without labels that is absent, not 0, when it has no value: prom-client's own Gauge
 * reports 0 when nothing was set, and "Redis down" must not be said of a gateway without Redis.
 */
export function optionalGauge(registry: Registry, name: string, help: string, read: () => number | undefined | Promise<number | undefined>): void {
  const metric = {
    name,
    help,
    type: 'gauge',
    aggregator: 'sum',
    async get() {
      const value = await read();
      return { name, help, type: 'gauge', aggregator: 'sum', values: value === undefined ? [] : [{ labels: {}, value }] };
    },
    reset() {},
  };
  registry.registerMetric(metric as unknown as Parameters<Registry['registerMetric']>[0]);
}

/** Whether a district is shown: from the first scrape its value was not the default. Bounded by the districts. */
function stickySet(): (district: string, notDefault: boolean) => boolean {
  const shown = new Set<string>();
  return (district, notDefault) => {
    if (notDefault) shown.add(district);
    return shown.has(district);
  };
}

type GaugeMaker = (name: string, help: string, labelNames: string[], collect: (g: Gauge) => void) => Gauge;

function registerDeltaSyncGauges(gauge: GaugeMaker, sources: () => StateSources, now: () => number): void {
  const each = (set: (g: Gauge, d: DeltaSyncSource, t: number) => void) => (g: Gauge) => {
    const t = now();
    for (const d of sources().deltaSync?.() ?? []) set(g, d, t);
  };
  const age = (t: number, ms: number) => Math.max(0, (t - ms) / 1000);
  // Before issue 18 this was the watermark's age, which grows on a quiet district while every
  // sync succeeds (nothing changed, so the watermark stays): alerts on it paged for nothing.
  gauge(
    'delta_sync_lag_seconds',
    "Seconds since the district's last successful delta sync (every collection polled, none failed), by any replica; since this replica first tried it when none succeeded yet.",
    ['district'],
    each((g, d, t) => g.set({ district: d.district }, age(t, d.lastSuccessMs ?? d.sinceMs))),
  );
  gauge(
    'delta_sync_last_success_timestamp_seconds',
    "When the district's last successful delta sync ended (Unix seconds), by any replica; absent until one succeeded.",
    ['district'],
    each((g, d) => d.lastSuccessMs !== undefined && g.set({ district: d.district }, d.lastSuccessMs / 1000)),
  );
  gauge('delta_sync_last_run_seconds', "Seconds since this replica last ran the district's delta sync.", ['district'], each((g, d, t) => d.lastRunMs !== undefined && g.set({ district: d.district }, age(t, d.lastRunMs))));
}
