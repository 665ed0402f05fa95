import { collectDefaultMetrics, Counter, Histogram, Registry } from 'prom-client';
import { registerMirrorMetrics, type ChangeLogSource, type MirrorSource } from './mirror-metrics.js';
import { registerOpsMetrics, type BuildLabels } from './ops-metrics.js';
import { LATENCY_BUCKETS, registerRequestMetrics } from './request-metrics.js';
import { registerStateGauges, type StateSources } from './state-gauges.js';

// Prometheus metrics (prom-client). Label sets are bounded: districts and clients come from
// the config or discovery, routes are endpoint templates, statuses are numbers or error
// codes. The request path never becomes a label (ids in it would explode the series count).
// Each labelled child is looked up once and kept, so the cache-hit path pays a Map lookup.

export type CacheTierLabel = 'l1' | 'l2' | 'none';
export type CacheResultLabel = 'hit' | 'miss' | 'stale' | 'coalesced';

/** Read at scrape time: things that are state rather than events. */
export interface MetricsSources extends StateSources {
  /** Per mirrored district with a copy: its counts and when it last agreed with the district. */
  mirrors?: () => Iterable<MirrorSource>;
  /** The memory mirror store's counted bytes; undefined for a PostgreSQL store. */
  mirrorBytes?: () => number | undefined;
  /** Per mirrored district: what its observed changes hold. */
  changeLogs?: () => Iterable<ChangeLogSource>;
  /** Whether a client id is in the running config (client_requests_total labels only those). */
  isClient?: (clientId: string) => boolean;
}

export interface MetricsOptions {
  prefix?: string;
  defaultMetrics?: boolean;
  /** metrics.perDistrictHistograms: the district on the latency histograms too. */
  perDistrictHistograms?: boolean;
  /** build_info's labels; the version defaults to 'unknown'. */
  build?: Partial<BuildLabels>;
  /** Clock of the reload timestamps (tests). */
  now?: () => number;
}

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

export function createMetrics(options: MetricsOptions = {}) {
  const prefix = options.prefix ?? 'oneroster_gateway_';
  const perDistrict = options.perDistrictHistograms ?? false;
  const registry = new Registry();
  if (options.defaultMetrics !== false) collectDefaultMetrics({ register: registry, prefix });
  let sources: MetricsSources = {};

  const requests = registerRequestMetrics(registry, prefix, { perDistrictHistograms: perDistrict, isClient: () => sources.isClient });
  const ops = registerOpsMetrics(registry, prefix, { version: options.build?.version ?? 'unknown', nodeVersion: options.build?.nodeVersion ?? process.version }, options.now ?? Date.now);

  const upstreamRequests = new Counter({
    name: `${prefix}upstream_requests_total`,
    help: 'Requests sent to districts, by district and outcome (HTTP status, or an error code when no answer came).',
    labelNames: ['district', 'outcome'],
    registers: [registry],
  });
  const upstreamDuration = new Histogram({
    name: `${prefix}upstream_request_duration_seconds`,
    help: perDistrict ? 'Time a district took to answer, queue wait excluded.' : 'Time districts took to answer, queue wait excluded (by district with metrics.perDistrictHistograms).',
    labelNames: perDistrict ? ['district'] : [],
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
  // By district only with perDistrictHistograms: a tuning counter (is cache.readAhead too high
  // for the districts' concurrency?), and a dense per-district series costs 25 KB at 300 districts.
  const readAhead = new Counter({
    name: `${prefix}read_ahead_total`,
    help: 'Upstream blocks fetched ahead of a client paging sequentially (started), not fetched because the district already had readAhead of them running (busy), and failed.',
    labelNames: perDistrict ? ['district', 'outcome'] : ['outcome'],
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
  const mirror = registerMirrorMetrics(registry, prefix, () => sources, { perCollection: perDistrict });

  return {
    registry,
    contentType: registry.contentType,
    /** Scrape-time sources, set by the composition root once the services exist. */
    setSources(next: MetricsSources) {
      sources = next;
    },
    httpRequest: requests.httpRequest,
    configReload: ops.configReload,
    upstreamRequest(district: string, outcome: number | string, seconds?: number) {
      upstreamChild([district, String(outcome)]).inc();
      if (seconds !== undefined) (perDistrict ? upstreamDuration.labels(district) : upstreamDuration).observe(seconds);
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
      if (perDistrict) readAhead.labels(district, outcome).inc();
      else readAhead.labels(outcome).inc();
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

export type Metrics = ReturnType<typeof createMetrics>;
