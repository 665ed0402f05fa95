// What each answered request adds to the metrics. The cardinality is bounded by default:
// latency histograms by route template and cache status only (19 samples a series), and per
// district a counter by status class (at most 5 series a district). A fleet of 300 districts with the
// district on the histograms made a 4.4 MB, 35,786-sample scrape (issue 18); operators who
// want per-district latency anyway set metrics.perDistrictHistograms.
import type { Registry } from 'prom-client';
import { FastCounter } from './fast-counter.js';
import { FastHistogram } from './fast-histogram.js';

export const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
/**
 * The route histograms' bounds by default: three fewer than LATENCY_BUCKETS (0.025, 5, 60), as
 * each bound is a sample per route and cache status and the histograms are the scrape's largest
 * part. Hits (sub-ms), Redis hits (ms), misses (10 ms to s) and timeouts (30 s) stay apart.
 */
export const ROUTE_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10, 30];

/** 200 -> '2xx': five values whatever a district or a hostile client makes the gateway answer. */
const STATUS_CLASS = ['0xx', '1xx', '2xx', '3xx', '4xx', '5xx'];
export function statusClass(status: number): string {
  return STATUS_CLASS[Math.floor(status / 100)] ?? 'other';
}

export interface RequestMetricsOptions {
  perDistrictHistograms: boolean;
  /** Whether a client id is a configured one (read at each request: a reload changes the set). */
  isClient: () => ((clientId: string) => boolean) | undefined;
}

type Register = Parameters<Registry['registerMetric']>[0];

export function registerRequestMetrics(registry: Registry, prefix: string, options: RequestMetricsOptions) {
  const perDistrict = options.perDistrictHistograms;
  // The requests total per route is the histogram's _count: one structure to update per request.
  const duration = new FastHistogram(
    `${prefix}http_request_duration_seconds`,
    perDistrict
      ? 'Time to answer a request, by district, route template, status and cache status; _count is the number of requests.'
      : 'Time to answer a request, by route template and cache status; _count is the number of requests (per district: http_requests_total).',
    perDistrict ? ['district', 'route', 'status', 'cache'] : ['route', 'cache'],
    // Opted in, the histogram is the one it was before issue 18, bounds included.
    perDistrict ? LATENCY_BUCKETS : ROUTE_BUCKETS,
  );
  const requests = new FastCounter(
    `${prefix}http_requests_total`,
    'Requests answered, by district (empty for routes of no district) and status class (2xx, 3xx, 4xx, 5xx); by cache status: http_request_duration_seconds_count.',
    ['district', 'status_class'],
  );
  const byClient = new FastCounter(`${prefix}client_requests_total`, 'Requests made with a token of a configured client, by client id.', ['client']);
  for (const m of [duration, requests, byClient]) registry.registerMetric(m as unknown as Register);

  return {
    httpRequest(district: string, route: string, status: number, cache: string, seconds: number, clientId?: string) {
      const series = perDistrict ? duration.series(district, route, status, cache) : duration.series(route, cache);
      duration.observe(series, seconds);
      requests.series(district, statusClass(status)).value++;
      // A token names a configured client, but a client removed by a reload keeps its id in
      // tokens until they fail: only ids in the running config become labels.
      if (clientId !== undefined && options.isClient()?.(clientId) !== false) byClient.series(clientId).value++;
    },
  };
}
