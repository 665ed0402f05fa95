import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { FastHistogram } from './fast-histogram.js';
import { registerMirrorMetrics, type ChangeLogSource, type MirrorSource } from './mirror-metrics.js';

// Prometheus metrics (prom-client). Label sets are bounded: districts and clients come from
// the config or discovery, routes are endpoint templates, statuses are numbers or error
// codes. The request path never becomes a label (ids in it would explode the series count).
// Each labelled child is looked up once and kept, so the cache-hit path pays a Map lookup.

export type CacheTierLabel = 'l1' | 'l2' | 'none';
export type CacheResultLabel = 'hit' | 'miss' | 'stale' | 'coalesced';

/** Read at scrape time: things that are state rather than events. */
export interface MetricsSources {
  cacheStats?: () => { l1Bytes: number; l1Entries: number };
  /** Per district: ms epoch of its delta-sync watermark, and of its last sync run. */
  deltaSync?: () => Iterable<{ district: string; watermarkMs?: number; lastRunMs: number }>;
  /** Per district: 0 closed, 1 half-open, 2 open. */
  circuits?: () => Iterable<{ district: string; state: 'closed' | 'half-open' | 'open' }>;
  /** Per mirrored district with a copy: its counts and when it last agreed with the district. */
  mirrors?: () => Iterable<MirrorSource>;
  /** The memory mirror store's counted bytes; undefined for a PostgreSQL store. */
  mirrorBytes?: () => number | undefined;
  /** Per mirrored district: what its observed changes hold. */
  changeLogs?: () => Iterable<ChangeLogSource>;
  now?: () => number;
}

const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
const CIRCUIT = { closed: 0, 'half-open': 1, open: 2 } as const;

/** A metric's children by joined label values, so a hot path does no label hashing. */
function childCache<T>(make: (values: string[]) => T): (values: string[]) => T {
  const children = new Map<string, T>();
  return (values) => {
    const key = values.join('\u0000');
    let child = children.get(key);
    if (!child) children.set(key, (child = make(values)));
    return child;
  };
}

export function createMetrics(options: { prefix?: string; defaultMetrics?: boolean } = {}) {
  const prefix = options.prefix ?? 'oneroster_gateway_';
  const registry = new Registry();
  if (options.defaultMetrics !== false) collectDefaultMetrics({ register: registry, prefix });
  let sources: MetricsSources = {};

  // The requests total is the histogram's _count: one structure to update per request.
  const httpDuration = new FastHistogram(
    `${prefix}http_request_duration_seconds`,
    'Time to answer a request, by district, route template, status and cache status; _count is the number of requests.',
    ['district', 'route', 'status', 'cache'],
    LATENCY_BUCKETS,
  );
  registry.registerMetric(httpDuration as unknown as Parameters<Registry['registerMetric']>[0]);

  const upstreamRequests = new Counter({
    name: `${prefix}upstream_requests_total`,
    help: 'Requests sent to districts, by district and outcome (HTTP status, or an error code when no answer came).',
    labelNames: ['district', 'outcome'],
    registers: [registry],
  });
  const upstreamDuration = new Histogram({
    name: `${prefix}upstream_request_duration_seconds`,
    help: 'Time a district took to answer, queue wait excluded.',
    labelNames: ['district'],
    buckets: LATENCY_BUCKETS,
    registers: [registry],
  });
  const upstreamErrors = new Counter({
    name: `${prefix}upstream_errors_total`,
    help: 'District requests that failed: 5xx answers and transport errors, by district and reason.',
    labelNames: ['district', 'reason'],
    registers: [registry],
  });
  const upstreamThrottled = new Counter({ name: `${prefix}upstream_throttled_total`, help: 'District answers 429 Too Many Requests.', labelNames: ['district'], registers: [registry] });
  const upstreamChild = childCache((v) => upstreamRequests.labels(...v));

  // Counted in plain numbers on the hot path, handed to prom-client at scrape time.
  const lookupCounts = new Map<string, { tier: CacheTierLabel; result: CacheResultLabel; n: number }>();
  new Counter({
    name: `${prefix}cache_lookups_total`,
    help: 'Cache answers by tier (l1 in-process, l2 shared, none) and result (hit, miss, stale, coalesced wait).',
    labelNames: ['tier', 'result'],
    registers: [registry],
    collect() {
      this.reset();
      for (const c of lookupCounts.values()) this.inc({ tier: c.tier, result: c.result }, c.n);
    },
  });
  const staleServed = new Counter({
    name: `${prefix}stale_served_total`,
    help: 'Pages served stale because the district failed or the entry was being refreshed. A rising rate hides an outage.',
    labelNames: ['district', 'reason'],
    registers: [registry],
  });
  const readAhead = new Counter({
    name: `${prefix}read_ahead_total`,
    help: 'Upstream blocks fetched ahead of a client paging sequentially (started), not fetched because the district already had readAhead of them running (busy), and failed.',
    labelNames: ['district', 'outcome'],
    registers: [registry],
  });
  const tokensIssued = new Counter({ name: `${prefix}tokens_issued_total`, help: 'Gateway access tokens issued, by client.', labelNames: ['client'], registers: [registry] });
  const rateLimited = new Counter({ name: `${prefix}rate_limited_total`, help: 'Requests refused with 429 by a client rate limit.', labelNames: ['client'], registers: [registry] });
  const lateForms = new Counter({
    name: `${prefix}late_compressions_total`,
    help: 'Stored pages compressed after they were stored, in a coding no client had asked for when they were (made once, then kept). A steady rate means the kept forms are pushed out before their pages are read again.',
    labelNames: ['coding'],
    registers: [registry],
  });

  registerStateGauges(registry, prefix, () => sources);
  const mirror = registerMirrorMetrics(registry, prefix, () => sources);

  return {
    registry,
    contentType: registry.contentType,
    /** Scrape-time sources, set by the composition root once the services exist. */
    setSources(next: MetricsSources) {
      sources = next;
    },
    httpRequest(district: string, route: string, status: number, cache: string, seconds: number) {
      httpDuration.observe(httpDuration.series(district, route, status, cache), seconds);
    },
    upstreamRequest(district: string, outcome: number | string, seconds?: number) {
      upstreamChild([district, String(outcome)]).inc();
      if (seconds !== undefined) upstreamDuration.labels(district).observe(seconds);
      if (outcome === 429) upstreamThrottled.labels(district).inc();
      if (typeof outcome === 'string' || outcome >= 500) upstreamErrors.labels(district, String(outcome)).inc();
    },
    cacheLookup(tier: CacheTierLabel, result: CacheResultLabel) {
      const key = tier + result;
      const c = lookupCounts.get(key);
      if (c) c.n++;
      else lookupCounts.set(key, { tier, result, n: 1 });
    },
    staleServed(district: string, reason: 'refreshing' | 'upstream_failed') {
      staleServed.labels(district, reason).inc();
    },
    lateForm(coding: string) {
      lateForms.labels(coding).inc();
    },
    readAhead(district: string, outcome: 'started' | 'busy' | 'failed') {
      readAhead.labels(district, outcome).inc();
    },
    tokenIssued(client: string) {
      tokensIssued.labels(client).inc();
    },
    rateLimited(client: string) {
      rateLimited.labels(client).inc();
    },
    mirrorPull: mirror.mirrorPull,
    mirrorChanges: mirror.mirrorChanges,
    text: () => registry.metrics(),
  };
}

/** Gauges of state rather than events, read from the sources at scrape time. */
function registerStateGauges(registry: Registry, prefix: string, sources: () => MetricsSources): void {
  const now = () => (sources().now ?? Date.now)();
  new Gauge({
    name: `${prefix}cache_bytes`,
    help: 'Bytes held by the in-process cache tier.',
    labelNames: ['tier'],
    registers: [registry],
    collect() {
      const s = sources().cacheStats?.();
      if (s) this.set({ tier: 'l1' }, s.l1Bytes);
    },
  });
  new Gauge({
    name: `${prefix}cache_entries`,
    help: 'Entries held by the in-process cache tier.',
    labelNames: ['tier'],
    registers: [registry],
    collect() {
      const s = sources().cacheStats?.();
      if (s) this.set({ tier: 'l1' }, s.l1Entries);
    },
  });
  new Gauge({
    name: `${prefix}delta_sync_lag_seconds`,
    help: "Age of the district's delta-sync watermark (changes after it are not known yet), as last seen by this replica.",
    labelNames: ['district'],
    registers: [registry],
    collect() {
      this.reset();
      const t = now();
      for (const d of sources().deltaSync?.() ?? []) if (d.watermarkMs !== undefined) this.set({ district: d.district }, Math.max(0, (t - d.watermarkMs) / 1000));
    },
  });
  new Gauge({
    name: `${prefix}delta_sync_last_run_seconds`,
    help: "Seconds since this replica last ran the district's delta sync.",
    labelNames: ['district'],
    registers: [registry],
    collect() {
      this.reset();
      const t = now();
      for (const d of sources().deltaSync?.() ?? []) this.set({ district: d.district }, Math.max(0, (t - d.lastRunMs) / 1000));
    },
  });
  new Gauge({
    name: `${prefix}circuit_state`,
    help: "The district's circuit breaker: 0 closed, 1 half-open, 2 open.",
    labelNames: ['district'],
    registers: [registry],
    collect() {
      this.reset();
      for (const c of sources().circuits?.() ?? []) this.set({ district: c.district }, CIRCUIT[c.state]);
    },
  });
}

export type Metrics = ReturnType<typeof createMetrics>;
