// The page walker's stop rules, each on its own, against fake districts in memory that
// count the pages asked for.
import { describe, expect, it } from 'vitest';
import { isRepeatedPage, walkPages, type PageWalkOptions, type WalkPage } from '../../src/core/page-walk.js';

interface Quirks {
  /** Records in the collection. */
  size?: number;
  /** Largest page the district sends, whatever the limit. */
  clamp?: number;
  total?: boolean;
  link?: boolean;
  ignoreOffset?: boolean;
  ids?: boolean;
  bytes?: number;
}

/** A fake district collection with the given quirks; `asked` records every [offset, limit]. */
function district(q: Quirks = {}) {
  const size = q.size ?? 95;
  const all = Array.from({ length: size }, (_, i) => (q.ids === false ? { username: `user${i}` } : { sourcedId: `u${i}` }));
  const asked: Array<[number, number]> = [];
  const fetchPage = async (offset: number, limit: number): Promise<WalkPage> => {
    asked.push([offset, limit]);
    const start = q.ignoreOffset ? 0 : offset;
    const records = all.slice(start, start + Math.min(limit, q.clamp ?? limit));
    return {
      records,
      ...(q.total ? { total: size } : {}),
      ...(q.link ? { hasLink: true, hasNext: start + records.length < size } : {}),
      ...(q.bytes !== undefined ? { bytes: q.bytes } : {}),
    };
  };
  return { all, asked, fetchPage };
}

async function walk(q: Quirks, options: Partial<PageWalkOptions<WalkPage>> = {}) {
  const d = district(q);
  const w = walkPages({ fetchPage: d.fetchPage, limit: 10, ...options });
  const steps: Array<{ offset: number; records: number; fresh: number; last: boolean }> = [];
  for await (const s of w) steps.push({ offset: s.offset, records: s.page.records.length, fresh: s.fresh.length, last: s.last });
  return { w, steps, asked: d.asked, all: d.all };
}

describe('walkPages stop rules', () => {
  it('an empty page ends the collection: counted as a page, never yielded', async () => {
    const { w, steps, asked } = await walk({ size: 25 });
    expect(asked.map(([o]) => o)).toEqual([0, 10, 20, 25]);
    expect(steps.map((s) => s.records)).toEqual([10, 10, 5]);
    expect([w.stop, w.ended, w.pages]).toEqual(['empty', true, 4]);
  });

  it('X-Total-Count reached ends it without another request, and marks the last page', async () => {
    const { w, steps, asked } = await walk({ size: 25, total: true });
    expect(asked).toHaveLength(3);
    expect(steps.map((s) => s.last)).toEqual([false, false, true]);
    expect([w.stop, w.ended, w.pages]).toEqual(['total', true, 3]);
  });

  it('a Link without rel="next" ends it when there is no total', async () => {
    const { w, asked } = await walk({ size: 25, link: true });
    expect(asked).toHaveLength(3);
    expect([w.stop, w.ended]).toEqual(['no-next', true]);
  });

  it('a total wins over a Link that lacks rel="next" (a vendor sending only rel="self")', async () => {
    const d = district({ size: 25, total: true });
    const w = walkPages({ limit: 10, fetchPage: async (o, l) => ({ ...(await d.fetchPage(o, l)), hasLink: true, hasNext: false }) });
    let n = 0;
    for await (const _ of w) n++;
    expect([n, w.stop]).toEqual([3, 'total']);
  });

  it('a short page alone ends nothing: servers clamp limit silently', async () => {
    const { steps, asked } = await walk({ size: 25, clamp: 4 }, { limit: 100 });
    expect(steps.map((s) => s.records)).toEqual([4, 4, 4, 4, 4, 4, 1]);
    expect(asked.at(-1)).toEqual([25, 100]);
  });

  it('a page cap stops a district that never says "done" (the first page counted)', async () => {
    const { w, asked } = await walk({ size: 1000 }, { maxPages: 3 });
    expect(asked).toHaveLength(3);
    expect([w.stop, w.ended, w.pages]).toEqual(['page-cap', false, 3]);
  });

  it('a byte cap stops before yielding the page that passes it', async () => {
    const { w, steps, asked } = await walk({ size: 1000, bytes: 400 }, { maxBytes: 1000 });
    expect(steps).toHaveLength(2);
    expect(asked).toHaveLength(3);
    expect([w.stop, w.bytes]).toEqual(['byte-cap', 1200]);
  });

  it('stops when the caller breaks, with no stop rule named', async () => {
    const d = district({ size: 1000 });
    const w = walkPages({ fetchPage: d.fetchPage, limit: 10 });
    for await (const s of w) if (s.offset >= 20) break;
    expect([w.stop, w.ended, w.pages, d.asked.length]).toEqual([undefined, false, 3, 3]);
  });
});

describe('walkPages: a district that ignores offset (the repeated-page rule)', () => {
  // Delta sync reads with neither a total nor a Link: before the walker, nothing but its
  // 10,000-page cap stopped it asking for the same page again.
  it.each([
    ['with sourcedIds', true],
    ['without sourcedIds', false],
  ])('%s and no total: the first page, then one request to see it again', async (_name, ids) => {
    const { w, steps, asked } = await walk({ ignoreOffset: true, ids }, { limit: 100, maxPages: 10_000 });
    expect(asked).toEqual([
      [0, 100],
      [95, 100],
    ]);
    expect(steps).toEqual([{ offset: 0, records: 95, fresh: 95, last: false }]);
    expect([w.stop, w.ended, w.pages]).toEqual(['repeated', false, 2]);
  });

  it('with a total that is never reached: stopped just the same', async () => {
    const { w, asked } = await walk({ ignoreOffset: true, clamp: 10, total: true });
    expect([asked.length, w.stop]).toEqual([2, 'repeated']);
  });

  it('the same ids in another order are a repeat too; a repeated page counts no bytes', async () => {
    const page = (n: number) => Array.from({ length: 3 }, (_, i) => ({ sourcedId: `a${(i + n) % 3}` }));
    let n = 0;
    const w = walkPages({ limit: 3, maxBytes: 150, fetchPage: async () => ({ records: page(n++), bytes: 100 }) });
    let yielded = 0;
    for await (const _ of w) yielded++;
    expect([yielded, n, w.stop, w.bytes]).toEqual([1, 2, 'repeated', 100]);
  });

  it('honest pages of id-less records are not mistaken for repeats', async () => {
    const { w, steps } = await walk({ size: 45, ids: false });
    expect(steps.map((s) => s.records)).toEqual([10, 10, 10, 10, 5]);
    expect(w.stop).toBe('empty');
  });

  it('isRepeatedPage compares length and the first, middle and last records', () => {
    const a = [{ n: 1 }, { n: 2 }, { n: 3 }];
    expect(isRepeatedPage(a, structuredClone(a))).toBe(true);
    expect(isRepeatedPage(a, [{ n: 1 }, { n: 9 }, { n: 3 }])).toBe(false);
    expect(isRepeatedPage(a, a.slice(0, 2))).toBe(false);
    expect(isRepeatedPage([], [])).toBe(false);
  });
});

describe('walkPages: pages and records', () => {
  it('yields as fresh only the records no earlier page had, and advances by what the district sent', async () => {
    // The second page overlaps the first by two records (a record inserted meanwhile).
    const pages = [['a', 'b', 'c'], ['b', 'c', 'd'], []];
    const asked: number[] = [];
    const w = walkPages({ limit: 3, fetchPage: async (o) => (asked.push(o), { records: pages.shift()!.map((id) => ({ sourcedId: id })) }) });
    const fresh: string[][] = [];
    for await (const s of w) fresh.push(s.fresh.map((r) => (r as { sourcedId: string }).sourcedId));
    expect(fresh).toEqual([['a', 'b', 'c'], ['d']]);
    expect(asked).toEqual([0, 3, 6]);
  });

  it('starts from a page the caller already has, at its offset, asking what `limit` says each time', async () => {
    const d = district({ size: 95, clamp: 10, total: true });
    let kept = 0;
    const w = walkPages({ first: await d.fetchPage(5, 35), start: 5, limit: () => 35 - kept, fetchPage: d.fetchPage, maxPages: 100 });
    for await (const s of w) {
      kept += s.fresh.length;
      if (kept >= 35) break;
    }
    expect(d.asked).toEqual([
      [5, 35],
      [15, 25],
      [25, 15],
      [35, 5],
    ]);
    expect(w.pages).toBe(4);
  });

  it('adds the ids it reads to a set the caller shares', async () => {
    const seen = new Set<unknown>();
    const d = district({ size: 25 });
    for await (const _ of walkPages({ fetchPage: d.fetchPage, limit: 10, seen })) void _;
    expect(seen.size).toBe(25);
  });

  it('with idMemory "page", holds the ids of the page before only, and still catches a repeat', async () => {
    const seen = new Set<unknown>();
    const d = district({ size: 25 });
    for await (const _ of walkPages({ fetchPage: d.fetchPage, limit: 10, seen, idMemory: 'page' })) void _;
    expect(seen.size).toBe(5);
    const { w } = await walk({ ignoreOffset: true, clamp: 10 }, { idMemory: 'page' });
    expect([w.pages, w.stop]).toEqual([2, 'repeated']);
  });

  it('is read once, and refuses counts that are not', async () => {
    const w = walkPages({ fetchPage: district().fetchPage, limit: 10 });
    for await (const _ of w) void _;
    expect(() => w[Symbol.asyncIterator]()).toThrow(/once/);
    expect(() => walkPages({ fetchPage: district().fetchPage, limit: 10, maxPages: -1 })).toThrow(RangeError);
    expect(() => walkPages({ fetchPage: district().fetchPage, limit: 10, concurrency: 0 })).toThrow(RangeError);
  });
});

describe('walkPages: asking ahead', () => {
  /** A district whose answers wait until released, to see what is in flight at once. */
  function slowDistrict(size: number, total: boolean, fail?: number) {
    const d = district({ size, total });
    let inFlight = 0;
    let most = 0;
    const fetchPage = async (offset: number, limit: number) => {
      most = Math.max(most, ++inFlight);
      await new Promise((r) => setTimeout(r, 1));
      inFlight--;
      if (offset === fail) throw new Error(`failed at ${offset}`);
      return d.fetchPage(offset, limit);
    };
    return { asked: d.asked, fetchPage, most: () => most, inFlight: () => inFlight };
  }

  it('once the total is known, keeps up to `concurrency` requests in flight, none past the total', async () => {
    const d = slowDistrict(95, true);
    const w = walkPages({ fetchPage: d.fetchPage, limit: 10, concurrency: 4 });
    const offsets: number[] = [];
    for await (const s of w) offsets.push(s.offset);
    expect(offsets).toEqual([0, 10, 20, 30, 40, 50, 60, 70, 80, 90]);
    expect(d.most()).toBe(4);
    expect(d.asked.map(([o]) => o).sort((a, b) => a - b)).toEqual(offsets);
    expect(w.stop).toBe('total');
  });

  it('without a total, asks one page at a time', async () => {
    const d = slowDistrict(35, false);
    for await (const _ of walkPages({ fetchPage: d.fetchPage, limit: 10, concurrency: 4 })) void _;
    expect(d.most()).toBe(1);
  });

  it('awaits the pages asked ahead when the caller stops, and a failed request ends the walk with its error', async () => {
    const d = slowDistrict(95, true);
    const w = walkPages({ fetchPage: d.fetchPage, limit: 10, concurrency: 4 });
    for await (const s of w) if (s.offset === 10) break;
    expect(d.inFlight()).toBe(0);

    const failing = slowDistrict(95, true, 30);
    const offsets: number[] = [];
    const err = await (async () => {
      for await (const s of walkPages({ fetchPage: failing.fetchPage, limit: 10, concurrency: 4 })) offsets.push(s.offset);
    })().catch((e: unknown) => e);
    expect((err as Error).message).toBe('failed at 30');
    expect(offsets).toEqual([0, 10, 20]);
    expect(failing.inFlight()).toBe(0);
  });
});
