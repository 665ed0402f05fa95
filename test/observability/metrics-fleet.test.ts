// The scrape of a fleet: 300 districts with traffic on all of them must stay small (issue 18:
// it was 4.4 MB and 35,786 samples). The traffic is fed straight into the metrics
// (bench/metrics-fleet.mjs, shared with bench/metrics-scrape.mjs, which also times it).
import { describe, expect, it } from 'vitest';
import { feedFleet } from '../../bench/metrics-fleet.mjs';
import { createMetrics } from '../../src/observability/metrics.js';

const samples = (text: string) => text.split('\n').filter((l) => l !== '' && !l.startsWith('#'));

describe('the exposition at 300 districts', () => {
  it('is at most 300 KB by default, every district still counted', async () => {
    const metrics = createMetrics();
    const { districts, clients } = feedFleet(metrics, { districts: 300, clients: 50 });
    const text = await metrics.text();
    expect(Buffer.byteLength(text)).toBeLessThanOrEqual(300 * 1024);
    // Bounded, not blind: each district has its request counter, its sync gauges and its
    // upstream outcomes; each configured client its counter.
    for (const d of districts) {
      expect(text).toContain(`oneroster_gateway_http_requests_total{district="${d}",status_class="2xx"}`);
      expect(text).toContain(`oneroster_gateway_delta_sync_last_success_timestamp_seconds{district="${d}"}`);
      expect(text).toContain(`oneroster_gateway_upstream_requests_total{district="${d}",outcome="200"}`);
    }
    for (const c of clients) expect(text).toContain(`oneroster_gateway_client_requests_total{client="${c}"}`);
    // No histogram sample names a district.
    expect(samples(text).filter((l) => /_bucket\{/.test(l) && l.includes('district='))).toEqual([]);
  });

  it('is per district on the latency histograms only when metrics.perDistrictHistograms says so', async () => {
    const metrics = createMetrics({ perDistrictHistograms: true, defaultMetrics: false });
    feedFleet(metrics, { districts: 3, clients: 2 });
    const text = await metrics.text();
    expect(text).toMatch(/^oneroster_gateway_http_request_duration_seconds_bucket\{district="district-0000",route="v1p1 GET \/users",status="200",cache="HIT",le="60"\} \d+$/m);
    expect(text).toMatch(/^oneroster_gateway_upstream_request_duration_seconds_count\{district="district-0001"\} \d+$/m);
    expect(text).toMatch(/^oneroster_gateway_read_ahead_total\{district="district-0002",outcome="started"\} 1$/m);
  });

  it('counts a mirrored district\'s records and changes by collection only when metrics.perDistrictHistograms says so', async () => {
    const series = async (perDistrictHistograms: boolean) => {
      const metrics = createMetrics({ perDistrictHistograms, defaultMetrics: false });
      feedFleet(metrics, { districts: 2, clients: 1, mirrored: 1 });
      return metrics.text();
    };
    const lean = await series(false);
    expect(lean).toMatch(/^oneroster_gateway_mirror_records\{district="district-0000"\} 7000$/m);
    expect(lean).toMatch(/^oneroster_gateway_mirror_changes_recorded_total\{district="district-0000",op="updated"\} 14$/m);
    expect(lean).not.toMatch(/collection=/);
    const detailed = await series(true);
    expect(detailed).toMatch(/^oneroster_gateway_mirror_records\{district="district-0000",collection="users"\} 1000$/m);
    expect(detailed).toMatch(/^oneroster_gateway_mirror_changes_recorded_total\{district="district-0000",collection="enrollments",op="updated"\} 4$/m);
  });
});
