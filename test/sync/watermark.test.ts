import { describe, expect, it } from 'vitest';
import { advanceWatermark, parseWatermark, serializeWatermark } from '../../src/sync/watermark.js';

const T = (s: string) => `2026-03-01T10:${s}Z`;
const rec = (id: string, dlm: string) => ({ sourcedId: id, dateLastModified: dlm });

describe('delta-sync watermark', () => {
  it('moves to the largest dateLastModified and reports each change once across overlapping polls', () => {
    const start = { max: T('00:00.000'), seen: [] };
    const one = advanceWatermark(start, [rec('a', T('01:00.000')), rec('b', T('02:00.000'))], 120_000, Date.parse(T('30:00.000')));
    expect(one.fresh.map((r) => r.sourcedId)).toEqual(['a', 'b']);
    expect(one.next.max).toBe(T('02:00.000'));
    // The next poll overlaps: a and b come again, c is new, b changed again (new timestamp).
    const two = advanceWatermark(one.next, [rec('a', T('01:00.000')), rec('b', T('02:00.000')), rec('c', T('02:30.000')), rec('b', T('03:00.000'))], 120_000, Date.parse(T('30:00.000')));
    expect(two.fresh.map((r) => `${r.sourcedId}@${r.dateLastModified}`)).toEqual([`c@${T('02:30.000')}`, `b@${T('03:00.000')}`]);
    expect(two.next.max).toBe(T('03:00.000'));
    // Pairs at or before max - overlap are forgotten (the next poll does not ask for them).
    expect(two.next.seen.map(([id]) => id).sort()).toEqual(['b', 'b', 'c']);
    const three = advanceWatermark(two.next, [], 60_000, Date.parse(T('30:00.000')));
    expect(three.next.seen.map(([id]) => id).sort()).toEqual(['b', 'c']);
  });

  it('never moves past now for a district clock that runs ahead, and ignores garbage timestamps', () => {
    const nowMs = Date.parse(T('05:00.000'));
    const r = advanceWatermark({ max: T('00:00.000'), seen: [] }, [rec('x', '2099-01-01T00:00:00Z'), rec('y', 'yesterday'), { sourcedId: 'z' }], 60_000, nowMs);
    expect(r.fresh).toHaveLength(3);
    expect(r.next.max).toBe(new Date(nowMs).toISOString());
  });

  it('round-trips and refuses a corrupt cursor', () => {
    const w = { max: T('00:00.000'), seen: [['a', T('00:00.000')] as [string, string]] };
    expect(parseWatermark(serializeWatermark(w))).toEqual(w);
    for (const bad of [undefined, '', '{', '{"max":"no"}', '[]']) expect(parseWatermark(bad)).toBeUndefined();
  });
});
