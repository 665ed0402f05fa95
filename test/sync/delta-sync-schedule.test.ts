// The delta sync at its edge, on fake timers: 300 districts started together poll spread over
// the interval (no herd), keep polling about once an interval, and a district that keeps failing
// logs one warning per change of state, not one per collection per poll.
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { CacheBackend } from '../../src/cache/types.js';
import type { District, DistrictRegistry } from '../../src/districts/districts.js';
import { mulberry32 } from '../../src/sandbox/prng.js';
import { createDeltaSync } from '../../src/sync/delta-sync.js';
import type { UpstreamRequest } from '../../src/upstream/types.js';

const INTERVAL = 300_000;
const START = Date.parse('2026-03-02T08:00:00Z');

/** Districts answering empty change pages (or `status`), each request noted with the fake clock's time. */
function fleet(n: number, status: () => number = () => 200) {
  const polls: Array<{ district: string; at: number; priority?: string }> = [];
  const make = (id: string) =>
    ({
      id,
      version: 'v1p1',
      upstream: {
        districtId: id,
        async request(req: UpstreamRequest) {
          polls.push({ district: id, at: Date.now() - START, ...(req.priority ? { priority: req.priority } : {}) });
          return { status: status(), headers: {}, body: Buffer.from('{"users":[],"orgs":[]}'), elapsedMs: 1 };
        },
        close: async () => {},
      },
    }) as unknown as District;
  const list = Array.from({ length: n }, (_, i) => make(`district-${i + 1}`));
  const byId = new Map(list.map((d) => [d.id, d]));
  const districts: DistrictRegistry = { get: (id) => byId.get(id), list: () => list, close: async () => {} };
  const state = new Map<string, string>();
  const backend = {
    kind: 'memory',
    cache: { bump: async () => {} },
    leases: { acquire: async () => true, renew: async () => true, release: async () => {} },
    state: { get: async (k: string) => state.get(k), set: async (k: string, v: string) => void state.set(k, v) },
  } as unknown as CacheBackend;
  return { districts, backend, polls };
}

function logCapture() {
  const lines: Array<{ level: string } & Record<string, unknown>> = [];
  return {
    lines,
    logger: { info: (o: object) => void lines.push({ level: 'info', ...o }), warn: (o: object) => void lines.push({ level: 'warn', ...o }) },
  };
}

afterEach(() => {
  vi.useRealTimers();
});

describe('delta sync schedule', () => {
  it('starts 300 districts spread over the interval, then polls each about once an interval, at background priority', async () => {
    vi.useFakeTimers({ now: START, toFake: ['setInterval', 'clearInterval', 'setTimeout', 'clearTimeout', 'Date'] });
    const { districts, backend, polls } = fleet(300);
    const { logger } = logCapture();
    // A seeded jitter: the same draws at every run (Math.random let a tenth pass 15% about one run in ten).
    const sync = createDeltaSync({ districts, backend, logger, intervalMs: INTERVAL, overlapMs: 60_000, pageSize: 100, collections: ['users'], random: mulberry32(18) });
    sync.start();
    await vi.advanceTimersByTimeAsync(5_000);
    // The first 5 s of a 300 s interval: a few districts, not 300.
    expect(polls.length).toBeLessThanOrEqual(15);
    await vi.advanceTimersByTimeAsync(INTERVAL - 5_000);
    // Every district's first poll within the first interval (a few early ones poll again before its end).
    const first = [...new Map(polls.toReversed().map((p) => [p.district, p])).values()];
    expect(first).toHaveLength(300);
    expect(polls.length).toBeLessThanOrEqual(330);
    const perTenth = Array.from({ length: 10 }, (_, i) => first.filter((p) => Math.floor(p.at / (INTERVAL / 10)) === i).length);
    expect(Math.max(...perTenth)).toBeLessThanOrEqual(45);
    expect(polls.every((p) => p.priority === 'background')).toBe(true);
    // Nine more intervals: each district polled 10 times, give or take the jitter, never in a burst.
    await vi.advanceTimersByTimeAsync(9 * INTERVAL);
    const counts = new Map<string, number>();
    for (const p of polls) counts.set(p.district, (counts.get(p.district) ?? 0) + 1);
    expect(Math.min(...counts.values())).toBeGreaterThanOrEqual(9);
    expect(Math.max(...counts.values())).toBeLessThanOrEqual(11);
    const last = polls.filter((p) => p.at >= 9 * INTERVAL && p.at < 10 * INTERVAL);
    const lastTenths = Array.from({ length: 10 }, (_, i) => last.filter((p) => Math.floor((p.at - 9 * INTERVAL) / (INTERVAL / 10)) === i).length);
    expect(Math.max(...lastTenths)).toBeLessThanOrEqual(Math.ceil(last.length * 0.15));
    await sync.stop();
  });

  it('a district failing for 3 hours: one warning, hourly reminders, one line when it recovers', async () => {
    let clock = START;
    let failing = true;
    const { districts, backend } = fleet(1, () => (failing ? 500 : 200));
    const { lines, logger } = logCapture();
    const sync = createDeltaSync({ districts, backend, logger, intervalMs: INTERVAL, overlapMs: 60_000, pageSize: 100, collections: ['users', 'orgs'], now: () => clock, summaryEveryMs: 3600_000 });
    // 36 polls, 5 minutes apart, both collections failing at each.
    for (let i = 0; i < 36; i++) {
      expect((await sync.syncDistrict('district-1')).collections.map((c) => c.outcome)).toEqual(['failed', 'failed']);
      clock += INTERVAL;
    }
    failing = false;
    await sync.syncDistrict('district-1');
    await sync.syncDistrict('district-1');
    expect(lines.map((l) => `${l.level}:${String(l.msg)}`)).toEqual([
      'warn:delta sync failed',
      'warn:delta sync still failing',
      'warn:delta sync still failing',
      'info:delta sync recovered',
    ]);
    expect(lines[0]).toMatchObject({ district: 'district-1', cause: 'upstream_http_500', collections: ['users', 'orgs'] });
    expect(lines[1]).toMatchObject({ district: 'district-1', cause: 'upstream_http_500', since: '2026-03-02T08:00:00.000Z', attempts: 13 });
    expect(lines[3]).toMatchObject({ district: 'district-1', since: '2026-03-02T08:00:00.000Z', attempts: 36 });
    // Failing again is a new incident: a new warning.
    failing = true;
    await sync.syncDistrict('district-1');
    expect(lines.at(-1)).toMatchObject({ level: 'warn', msg: 'delta sync failed' });
  });

  it('a first poll long after start-up still reads the changes made since the replica started', async () => {
    let clock = START;
    const since: string[] = [];
    const { districts, backend } = fleet(1);
    const d = districts.get('district-1')!;
    const request = d.upstream.request.bind(d.upstream);
    (d.upstream as { request: typeof request }).request = async (req) => {
      since.push(new Map(req.query).get('filter') ?? '');
      return request(req);
    };
    const sync = createDeltaSync({ districts, backend, logger: logCapture().logger, intervalMs: INTERVAL, overlapMs: 60_000, pageSize: 100, collections: ['users'], now: () => clock });
    clock += 290_000;
    await sync.syncDistrict('district-1');
    expect(since).toEqual(["dateLastModified>'2026-03-02T07:59:00.000Z'"]);
  });
  it('a district added later reads its first changes from when this replica first saw it, not from start-up', async () => {
    vi.useFakeTimers({ now: START, toFake: ['setInterval', 'clearInterval', 'setTimeout', 'clearTimeout', 'Date'] });
    const { districts, backend } = fleet(2);
    const all = districts.list();
    const listed = [all[0]!];
    const filters: string[] = [];
    const later = all[1]!;
    const request = later.upstream.request.bind(later.upstream);
    (later.upstream as { request: typeof request }).request = async (req) => {
      filters.push(new Map(req.query).get('filter') ?? '');
      return request(req);
    };
    const sync = createDeltaSync({ districts: { ...districts, list: () => listed }, backend, logger: logCapture().logger, intervalMs: INTERVAL, overlapMs: 60_000, pageSize: 100, collections: ['users'] });
    sync.start();
    await vi.advanceTimersByTimeAsync(3 * 3600_000);
    listed.push(later);
    await vi.advanceTimersByTimeAsync(INTERVAL + 1000);
    await sync.stop();
    // Seen at the first tick after 11:00 (three hours after start-up): its first poll looks back
    // from then less the overlap, not from start-up.
    const since = Date.parse(/'(.+)'/.exec(filters[0]!)![1]!);
    expect(since).toBeGreaterThanOrEqual(Date.parse('2026-03-02T10:59:00.000Z'));
    expect(since).toBeLessThanOrEqual(Date.parse('2026-03-02T10:59:01.000Z'));
  });
});
