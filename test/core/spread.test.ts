// The spread of background work over its interval: 300 districts' first polls are not a herd,
// and their later polls do not drift back into step.
import { describe, expect, it } from 'vitest';
import { dueAfter, firstDelay, nextDelay, unitHash } from '../../src/core/spread.js';
import { createPollPlan } from '../../src/sync/poll-plan.js';
import { mulberry32 } from '../../src/sandbox/prng.js';

const ids = Array.from({ length: 300 }, (_, i) => `district-${i + 1}`);
const INTERVAL = 300_000;

/** A seeded PRNG: the same draws at every run of the test. */
const seeded = mulberry32;

/** How many of `times` fall in each tenth of the interval (times taken modulo the interval). */
function tenths(times: readonly number[]): number[] {
  const counts = Array.from({ length: 10 }, () => 0);
  for (const t of times) counts[Math.floor(((t % INTERVAL) / INTERVAL) * 10)]!++;
  return counts;
}

describe('spread', () => {
  it('puts 300 districts’ first polls within the interval, no tenth of it holding more than 15% of them', () => {
    const delays = ids.map((id) => firstDelay(INTERVAL, id));
    expect(Math.min(...delays)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...delays)).toBeLessThan(INTERVAL);
    expect(Math.max(...tenths(delays))).toBeLessThanOrEqual(45);
    // Stable per district: a restart or another replica gives the same phase.
    expect(ids.map((id) => firstDelay(INTERVAL, id))).toEqual(delays);
    expect(new Set(delays).size).toBeGreaterThan(290);
  });

  it('keeps later runs within interval ± jitter, both sides used', () => {
    const random = seeded(7);
    const delays = Array.from({ length: 1000 }, () => nextDelay(INTERVAL, 0.1, random));
    expect(Math.min(...delays)).toBeGreaterThanOrEqual(INTERVAL * 0.9);
    expect(Math.max(...delays)).toBeLessThanOrEqual(INTERVAL * 1.1);
    expect(delays.filter((d) => d < INTERVAL).length).toBeGreaterThan(400);
    expect(delays.filter((d) => d > INTERVAL).length).toBeGreaterThan(400);
    expect(nextDelay(INTERVAL, 0, random)).toBe(INTERVAL);
  });

  it('refuses a nonsense interval or jitter', () => {
    expect(() => firstDelay(0, 'd')).toThrow(/intervalMs/);
    expect(() => nextDelay(Number.NaN, 0.1, Math.random)).toThrow(/intervalMs/);
    expect(() => nextDelay(1000, 0.6, Math.random)).toThrow(/jitter/);
    expect(() => createPollPlan({ intervalMs: 1000, jitter: -1 })).toThrow(/jitter/);
  });

  it('answers the same due time while `after` stays, another one for the next run', () => {
    const a = dueAfter(1_000_000, 86_400_000, 0.1, 'd1');
    expect(dueAfter(1_000_000, 86_400_000, 0.1, 'd1')).toBe(a);
    expect(a).toBeGreaterThanOrEqual(1_000_000 + 86_400_000 * 0.9);
    expect(a).toBeLessThanOrEqual(1_000_000 + 86_400_000 * 1.1);
    const many = ids.map((id) => dueAfter(0, 86_400_000, 0.1, id));
    expect(new Set(many).size).toBeGreaterThan(290);
    expect(unitHash('district-1')).not.toBe(unitHash('district-2'));
  });
});

describe('poll plan', () => {
  it('starts 300 districts over the interval, not at once, and they stay spread for 20 intervals', () => {
    const plan = createPollPlan({ intervalMs: INTERVAL, jitter: 0.1, random: seeded(42) });
    const start = 1_700_000_000_000 - (1_700_000_000_000 % INTERVAL);
    const runs = new Map<string, number[]>(ids.map((id) => [id, []]));
    // A tick a second, as the delta sync's: 20 intervals.
    for (let t = start; t < start + 20 * INTERVAL; t += 1000) {
      for (const id of plan.due(ids, t)) runs.get(id)!.push(t - start);
    }
    const first = ids.map((id) => runs.get(id)![0]!);
    expect(first.filter((t) => t < 5000).length).toBeLessThanOrEqual(15);
    expect(Math.max(...first)).toBeLessThan(INTERVAL);
    expect(Math.max(...tenths(first))).toBeLessThanOrEqual(45);
    for (const [, times] of runs) {
      // Every district polled about once an interval: never twice within 0.9 of it, never later than 1.1.
      const gaps = times.slice(1).map((t, i) => t - times[i]!);
      expect(Math.min(...gaps)).toBeGreaterThanOrEqual(INTERVAL * 0.9);
      expect(Math.max(...gaps)).toBeLessThanOrEqual(INTERVAL * 1.1 + 1000);
    }
    // The last interval's runs: still spread, the jitter did not bring them back into step.
    const late = [...runs.values()].flatMap((times) => times.filter((t) => t >= 19 * INTERVAL));
    expect(late.length).toBeGreaterThan(250);
    expect(Math.max(...tenths(late))).toBeLessThanOrEqual(Math.ceil(late.length * 0.15));
    // Nor does any second of the whole run see more than a handful of polls start.
    const perSecond = new Map<number, number>();
    for (const times of runs.values()) for (const t of times) perSecond.set(t, (perSecond.get(t) ?? 0) + 1);
    expect(Math.max(...perSecond.values())).toBeLessThanOrEqual(6);
  });

  it('plans a district added later from when it appears, and forgets one removed', () => {
    const plan = createPollPlan({ intervalMs: 10_000, jitter: 0.1, random: () => 0.5 });
    expect(plan.due(['a'], 0)).toEqual(firstDelay(10_000, 'a') === 0 ? ['a'] : []);
    const b = firstDelay(10_000, 'b');
    plan.due(['a', 'b'], 50_000);
    expect(plan.nextAt('b')).toBe(50_000 + b);
    plan.due(['b'], 50_001);
    expect(plan.nextAt('a')).toBeUndefined();
    expect(plan.due(['b'], 50_000 + b)).toEqual(['b']);
    expect(plan.nextAt('b')).toBe(50_000 + b + 10_000);
  });
});
