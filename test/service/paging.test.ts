import { describe, expect, it } from 'vitest';
import { parseRawQuery, readPageQuery } from '../../src/core/oneroster/query.js';
import { stitchPages, type UpstreamPage } from '../../src/service/paging.js';

const all = Array.from({ length: 95 }, (_, i) => ({ sourcedId: `u${String(i).padStart(3, '0')}` }));

interface Behaviour {
  clamp?: number;
  total?: boolean;
  link?: boolean;
  ignoreOffset?: boolean;
  ignoreLimit?: boolean;
}

/** A fake upstream collection that pages like a real server with the given quirks. */
function upstream(b: Behaviour) {
  const calls: Array<[number, number]> = [];
  const page = (offset: number, limit: number): UpstreamPage => {
    calls.push([offset, limit]);
    const size = b.ignoreLimit ? 100 : Math.min(limit, b.clamp ?? limit);
    const start = b.ignoreOffset ? 0 : offset;
    const records = all.slice(start, start + size);
    const p: UpstreamPage = { key: 'users', records, envelope: { users: records }, hasLink: !!b.link, hasNext: !!b.link && start + records.length < all.length };
    if (b.total) p.total = all.length;
    return p;
  };
  return { calls, page };
}

async function run(b: Behaviour, q: string, maxPages = 100) {
  const u = upstream(b);
  const query = readPageQuery('collection', parseRawQuery(q));
  const result = await stitchPages({ first: u.page(query.offset, query.limit), query, maxPages, fetchPage: async (o, l) => u.page(o, l), linkBase: 'https://gw/x' });
  return { ...result, calls: u.calls };
}

describe('stitchPages', () => {
  it('fills the page from a clamping server that sends X-Total-Count', async () => {
    const r = await run({ clamp: 10, total: true }, 'limit=35&offset=5');
    expect(r.records.map((x) => (x as { sourcedId: string }).sourcedId)).toEqual(all.slice(5, 40).map((x) => x.sourcedId));
    expect(r.calls).toEqual([[5, 35], [15, 25], [25, 15], [35, 5]]);
    expect(r.headers['x-total-count']).toBe('95');
    expect(r.headers.link).toContain('offset=40>; rel="next"');
    expect(r.changed).toBe(true);
  });

  it('stops at the total without an extra request', async () => {
    const r = await run({ clamp: 10, total: true }, 'limit=50&offset=80');
    expect(r.records).toHaveLength(15);
    expect(r.calls).toHaveLength(2);
    expect(r.headers.link).not.toContain('rel="next"');
  });

  it('uses Link rel="next" when there is no total', async () => {
    const r = await run({ clamp: 30, link: true }, 'limit=200');
    expect(r.records).toHaveLength(95);
    expect(r.calls).toHaveLength(4);
    expect(r.headers['x-total-count']).toBeUndefined();
  });

  it('pages until an empty page when the server says nothing (Ed-Fi style)', async () => {
    const r = await run({ clamp: 40 }, 'limit=1000');
    expect(r.records).toHaveLength(95);
    expect(r.calls).toEqual([[0, 1000], [40, 960], [80, 920], [95, 905]]);
  });

  it('trims a server that ignores limit, without extra requests', async () => {
    const r = await run({ ignoreLimit: true, total: true }, 'limit=10');
    expect(r.records).toHaveLength(10);
    expect(r.calls).toHaveLength(1);
    expect(r.changed).toBe(true);
  });

  it('stops on a server that ignores offset instead of repeating records', async () => {
    const r = await run({ clamp: 10, ignoreOffset: true }, 'limit=50');
    expect(r.records).toHaveLength(10);
    expect(new Set(r.records).size).toBe(10);
    expect(r.calls).toHaveLength(2);
  });

  it('gives up after maxPages and still answers what it has', async () => {
    const r = await run({ clamp: 5 }, 'limit=100', 3);
    expect(r.records).toHaveLength(15);
    expect(r.calls).toHaveLength(3);
  });

  it('leaves a full first page untouched', async () => {
    const r = await run({ total: true }, 'limit=20');
    expect(r.calls).toHaveLength(1);
    expect(r.changed).toBe(false);
  });
});
