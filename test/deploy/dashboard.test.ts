// The Grafana dashboard and the alert rules cannot drift from the code: every metric name their
// queries use is in the /metrics exposition of a running gateway (delta sync on, so its gauges
// are there; series that only appear after an event still have their # TYPE line).
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALL_SCOPES, oauth1Sandbox, startStack, type Stack } from '../helpers/stack.js';

const read = (path: string) => readFileSync(new URL(`../../deploy/${path}`, import.meta.url), 'utf8');
const METRIC = /\boneroster_gateway_[a-z0-9_]+/g;

interface Panel {
  title: string;
  type: string;
  targets?: Array<{ expr: string }>;
  panels?: Panel[];
}

let stack: Stack;
/** Every sample name the exposition can hold: each # TYPE, and a histogram's _bucket, _sum, _count. */
let names: Set<string>;

beforeAll(async () => {
  stack = await startStack({
    districts: [{ id: 'springfield', sandbox: oauth1Sandbox() }],
    clients: [{ clientId: 'app', clientSecret: 'app-secret-value', districts: ['springfield'], scopes: ALL_SCOPES }],
    cache: { deltaSync: { enabled: true, intervalSeconds: 3600 } },
  });
  const text = (await stack.http.get('/metrics')).text;
  names = new Set();
  for (const m of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
    names.add(m[1]!);
    if (m[2] === 'histogram' || m[2] === 'summary') for (const s of ['_bucket', '_sum', '_count']) names.add(m[1]! + s);
  }
});
afterAll(() => stack?.close());

describe('deploy/grafana/oneroster-gateway.json', () => {
  const dashboard = JSON.parse(read('grafana/oneroster-gateway.json')) as { uid: string; panels: Panel[] };
  const panels = dashboard.panels.flatMap((p) => [p, ...(p.panels ?? [])]).filter((p) => p.type !== 'row');

  it('has the panels an operator of a fleet needs, each with a query', () => {
    expect(dashboard.uid).toBe('oneroster-gateway');
    for (const p of panels) expect(p.targets?.length, p.title).toBeGreaterThan(0);
    const queried = panels.flatMap((p) => p.targets!.flatMap((t) => t.expr.match(METRIC) ?? []));
    for (const needed of [
      'http_requests_total',
      'http_request_duration_seconds_bucket',
      'http_request_duration_seconds_count',
      'upstream_errors_total',
      'upstream_throttled_total',
      'upstream_queue_depth',
      'delta_sync_last_success_timestamp_seconds',
      'mirror_age_seconds',
      'redis_up',
      'postgres_up',
      'build_info',
      'config_reloads_total',
      'client_requests_total',
    ]) {
      expect(queried).toContain(`oneroster_gateway_${needed}`);
    }
  });

  it('queries only metrics the gateway exposes', () => {
    const unknown = panels.flatMap((p) => p.targets!.flatMap((t) => (t.expr.match(METRIC) ?? []).filter((n) => !names.has(n)).map((n) => `${p.title}: ${n}`)));
    expect(unknown).toEqual([]);
  });
});

describe('deploy/prometheus/alerts.yml', () => {
  it('uses only metrics the gateway exposes', () => {
    const used = [...new Set(read('prometheus/alerts.yml').match(METRIC) ?? [])];
    expect(used.length).toBeGreaterThan(8);
    expect(used.filter((n) => !names.has(n))).toEqual([]);
  });
});
