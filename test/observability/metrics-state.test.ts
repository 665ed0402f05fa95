// The metrics an operator alerts on, at the unit where their logic lives (createMetrics with
// scrape-time sources): sync lag, sparse breaker and queue gauges, the stores' up gauges,
// clients, build info and reloads.
import { describe, expect, it } from 'vitest';
import { createMetrics, type MetricsSources } from '../../src/observability/metrics.js';

let now = 1_800_000_000_000;
const build = () => createMetrics({ defaultMetrics: false, build: { version: '9.8.7', nodeVersion: 'v20.0.0' }, now: () => now });

/** The value of one sample line, by its exact name and labels; undefined when absent. */
async function value(metrics: ReturnType<typeof build>, sample: string): Promise<number | undefined> {
  const line = (await metrics.text()).split('\n').find((l) => l.startsWith(`${sample} `));
  return line === undefined ? undefined : Number(line.slice(sample.length + 1));
}

const P = 'oneroster_gateway_';

describe('delta sync gauges', () => {
  it('count the lag from the last success, not from the watermark; from the first try when none succeeded', async () => {
    const m = build();
    m.setSources({
      now: () => now,
      deltaSyncIntervalSeconds: 300,
      deltaSync: () => [
        // Quiet: nothing changed for a day (old watermark), synced a minute ago.
        { district: 'quiet', watermarkMs: now - 86_400_000, lastRunMs: now - 60_000, lastSuccessMs: now - 60_000, sinceMs: now - 7 * 86_400_000 },
        // Failing since start-up an hour ago.
        { district: 'failing', lastRunMs: now - 30_000, sinceMs: now - 3_600_000 },
        // Synced by another replica, never by this one.
        { district: 'elsewhere', lastSuccessMs: now - 10_000, sinceMs: now - 3_600_000 },
      ],
    });
    expect(await value(m, `${P}delta_sync_lag_seconds{district="quiet"}`)).toBe(60);
    expect(await value(m, `${P}delta_sync_last_success_timestamp_seconds{district="quiet"}`)).toBe((now - 60_000) / 1000);
    expect(await value(m, `${P}delta_sync_lag_seconds{district="failing"}`)).toBe(3600);
    expect(await value(m, `${P}delta_sync_last_success_timestamp_seconds{district="failing"}`)).toBeUndefined();
    expect(await value(m, `${P}delta_sync_last_run_seconds{district="failing"}`)).toBe(30);
    expect(await value(m, `${P}delta_sync_lag_seconds{district="elsewhere"}`)).toBe(10);
    expect(await value(m, `${P}delta_sync_last_run_seconds{district="elsewhere"}`)).toBeUndefined();
    expect(await value(m, `${P}delta_sync_interval_seconds`)).toBe(300);
  });
});

describe('sparse district gauges', () => {
  it('show a district from the first scrape its breaker was not closed or a request waited, then at 0 too', async () => {
    const m = build();
    let state: 'closed' | 'open' = 'closed';
    let queued = 0;
    m.setSources({ circuits: () => [{ district: 'd1', state }, { district: 'd2', state: 'closed' }], queues: () => [{ district: 'd1', queued }, { district: 'd2', queued: 0 }] });
    expect(await value(m, `${P}circuit_state{district="d1"}`)).toBeUndefined();
    expect(await value(m, `${P}upstream_queue_depth{district="d1"}`)).toBeUndefined();
    state = 'open';
    queued = 4;
    expect(await value(m, `${P}circuit_state{district="d1"}`)).toBe(2);
    expect(await value(m, `${P}upstream_queue_depth{district="d1"}`)).toBe(4);
    state = 'closed';
    queued = 0;
    expect(await value(m, `${P}circuit_state{district="d1"}`)).toBe(0);
    expect(await value(m, `${P}upstream_queue_depth{district="d1"}`)).toBe(0);
    expect(await value(m, `${P}circuit_state{district="d2"}`)).toBeUndefined();
  });
});

describe('store gauges', () => {
  it('say 1 or 0 for the stores the gateway has, and nothing for those it has not', async () => {
    const m = build();
    let redis = true;
    const sources: MetricsSources = { redisUp: () => redis };
    m.setSources(sources);
    expect(await value(m, `${P}redis_up`)).toBe(1);
    expect(await value(m, `${P}postgres_up`)).toBeUndefined();
    redis = false;
    m.setSources({ ...sources, postgresUp: async () => true });
    expect(await value(m, `${P}redis_up`)).toBe(0);
    expect(await value(m, `${P}postgres_up`)).toBe(1);
    m.setSources({});
    expect(await m.text()).not.toMatch(/^oneroster_gateway_(redis|postgres)_up /m);
  });
});

describe('clients, build and reloads', () => {
  it('count requests only for client ids in the running config', async () => {
    const m = build();
    const known = new Set(['app']);
    m.setSources({ isClient: (id) => known.has(id) });
    m.httpRequest('d1', 'v1p1 GET /users', 200, 'HIT', 0.001, 'app');
    m.httpRequest('d1', 'v1p1 GET /users', 200, 'HIT', 0.001, 'removed-by-reload');
    m.httpRequest('', 'POST /oauth/token', 401, '', 0.001, undefined);
    expect(await value(m, `${P}client_requests_total{client="app"}`)).toBe(1);
    expect(await m.text()).not.toContain('removed-by-reload');
    expect(await value(m, `${P}http_requests_total{district="d1",status_class="2xx"}`)).toBe(2);
    expect(await value(m, `${P}http_requests_total{district="",status_class="4xx"}`)).toBe(1);
  });

  it('say which build runs, and how the last reload went', async () => {
    const m = build();
    expect(await value(m, `${P}build_info{version="9.8.7",node_version="v20.0.0"}`)).toBe(1);
    expect(await value(m, `${P}config_reloads_total{outcome="failure"}`)).toBe(0);
    expect(await value(m, `${P}config_last_reload_success_timestamp_seconds`)).toBe(now / 1000);
    const started = now;
    now += 60_000;
    m.configReload('failure');
    expect(await value(m, `${P}config_last_reload_successful`)).toBe(0);
    expect(await value(m, `${P}config_last_reload_success_timestamp_seconds`)).toBe(started / 1000);
    now += 60_000;
    m.configReload('success');
    expect(await value(m, `${P}config_reloads_total{outcome="success"}`)).toBe(1);
    expect(await value(m, `${P}config_reloads_total{outcome="failure"}`)).toBe(1);
    expect(await value(m, `${P}config_last_reload_successful`)).toBe(1);
    expect(await value(m, `${P}config_last_reload_success_timestamp_seconds`)).toBe(now / 1000);
  });
});

describe('mirror_memory_bytes', () => {
  it('is absent without a memory mirror store, not 0', async () => {
    const m = build();
    m.setSources({ mirrorBytes: () => undefined });
    expect(await value(m, `${P}mirror_memory_bytes`)).toBeUndefined();
    m.setSources({ mirrorBytes: () => 1234 });
    expect(await value(m, `${P}mirror_memory_bytes`)).toBe(1234);
  });
});
