// A page the gateway assembles from several upstream pages is bounded like one upstream answer
// (maxBodyBytes), and a server that ignores `offset` is caught even when its records carry no
// sourcedId: first as stitchPages sees it, then through the proxy service against a real
// upstream that counts its hits.
import { afterEach, describe, expect, it } from 'vitest';
import { GatewayError } from '../../src/core/errors.js';
import { withUpstreamCalls } from '../../src/service/upstream-calls.js';
import { parseRawQuery, readPageQuery } from '../../src/core/oneroster/query.js';
import { isRepeatedPage, stitchPages, type UpstreamPage } from '../../src/service/paging.js';
import { createProxyService, type ProxyRequest } from '../../src/service/proxy-service.js';
import { startLocalServer } from '../upstream/local-server.js';
import { NO_BRIDGE, proxyRequest } from '../helpers/proxy-request.js';

const noId = (i: number) => ({ status: 'active', username: `user${i}`, givenName: 'G', familyName: 'F' });
const page = (records: unknown[], bytes: number): UpstreamPage => ({ key: 'users', records, envelope: { users: records }, hasLink: false, hasNext: false, bytes });

describe('stitchPages bounds', () => {
  it('stops after one repeat when the server ignores offset and its records have no sourcedId; honest id-less pages still join', async () => {
    const same = Array.from({ length: 10 }, (_, i) => noId(i));
    let fetched = 0;
    const query = readPageQuery('collection', parseRawQuery('limit=1000'));
    const r = await stitchPages({
      first: page(same, 1000),
      query,
      maxPages: 100,
      fetchPage: async () => (fetched++, page(structuredClone(same), 1000)),
      linkBase: 'https://gw/x',
    });
    expect(fetched).toBe(1);
    expect(r.records).toHaveLength(10);
    expect(r.headers.link ?? '').not.toContain('rel="next"');

    // Honest pages of id-less records are still joined.
    const all = Array.from({ length: 45 }, (_, i) => noId(i));
    let honestFetches = 0;
    const honest = await stitchPages({
      first: page(all.slice(0, 10), 1000),
      query: readPageQuery('collection', parseRawQuery('limit=40')),
      maxPages: 100,
      fetchPage: async (offset, limit) => (honestFetches++, page(all.slice(offset, offset + Math.min(limit, 10)), 1000)),
      linkBase: 'https://gw/x',
    });
    expect(honestFetches).toBe(3);
    expect(honest.records).toEqual(all.slice(0, 40));
  });

  it('fails with upstream_too_large once the upstream pages used pass maxBytes, fetching no further', async () => {
    let fetched = 0;
    const query = readPageQuery('collection', parseRawQuery('limit=1000'));
    const err = await stitchPages({
      first: page([{ sourcedId: 'a0' }], 400),
      query,
      maxPages: 100,
      maxBytes: 1000,
      districtId: 'd9',
      fetchPage: async (offset) => (fetched++, page([{ sourcedId: `a${offset}` }], 400)),
      linkBase: 'https://gw/x',
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GatewayError);
    expect((err as GatewayError).code).toBe('upstream_too_large');
    expect((err as GatewayError).status).toBe(502);
    expect((err as GatewayError).description).toContain('d9');
    // 400 + 400 fits, the third page makes 1200.
    expect(fetched).toBe(2);
  });

  it('isRepeatedPage compares length and the first, middle and last records', () => {
    const a = [noId(1), noId(2), noId(3)];
    expect(isRepeatedPage(a, structuredClone(a))).toBe(true);
    expect(isRepeatedPage(a, [noId(1), noId(9), noId(3)])).toBe(false);
    expect(isRepeatedPage(a, a.slice(0, 2))).toBe(false);
    expect(isRepeatedPage([], [])).toBe(false);
  });
});

describe('proxy service: assembled pages', () => {
  const cleanups: Array<() => Promise<void>> = [];
  afterEach(async () => {
    while (cleanups.length) await cleanups.pop()!();
  });

  /** An upstream whose users pages hold `perPage` records of ~1 KB; `ignoreOffset` repeats page one. */
  async function upstream(perPage: number, ignoreOffset: boolean, total = 5000) {
    const s = await startLocalServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://x');
      const offset = ignoreOffset ? 0 : Number(url.searchParams.get('offset') ?? 0);
      const n = Math.max(0, Math.min(perPage, total - offset));
      const users = Array.from({ length: n }, (_, i) => ({ ...noId(offset + i), filler: 'x'.repeat(1000) }));
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ users }));
    });
    cleanups.push(() => s.close());
    return s;
  }

  const request = (origin: string, maxBodyBytes: number | undefined, limit: number, heldLimit?: number): ProxyRequest =>
    proxyRequest(origin, cleanups, { query: `limit=${limit}`, ...(maxBodyBytes !== undefined ? { maxBodyBytes } : {}), ...(heldLimit !== undefined ? { heldLimit } : {}) });
  const bridge = NO_BRIDGE;

  it("answers upstream_too_large when the page would be built from more than the district's maxBodyBytes", async () => {
    const s = await upstream(50, false);
    const proxy = createProxyService({ bridge });
    // 50 records of ~1.1 KB per upstream page; 200 KB allows about three of them.
    const err = await proxy.handle(request(s.origin, 200 * 1024, 1000)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GatewayError);
    expect((err as GatewayError).code).toBe('upstream_too_large');
    expect((err as GatewayError).description).not.toContain('127.0.0.1');
    expect(s.hits.length).toBeGreaterThanOrEqual(3);
    expect(s.hits.length).toBeLessThanOrEqual(5);
  });

  it('fetches an offset-ignoring district with id-less records twice, not maxStitchPages times', async () => {
    const s = await upstream(50, true);
    const proxy = createProxyService({ bridge });
    const res = await proxy.handle(request(s.origin, undefined, 5000));
    expect(res.status).toBe(200);
    expect(s.hits).toHaveLength(2);
    expect(JSON.parse(String(res.body)).users).toHaveLength(50);
  });

  it("holds each answer's bytes on the district's ledger until the client's answer is built, refusing others meanwhile (503)", async () => {
    const s = await upstream(50, false);
    const proxy = createProxyService({ bridge });
    // One upstream page is ~55 KB; the district may hold 80 KB of answers at once.
    const holding = request(s.origin, undefined, 50, 80 * 1024);
    const other = { ...request(s.origin, undefined, 50), district: holding.district };
    const ledger = holding.district.held;
    const refused = await withUpstreamCalls(holding, async (calls) => {
      await calls.send([['limit', '50'], ['offset', '0']]);
      expect(ledger.held).toBeGreaterThan(50 * 1024);
      // A second assembly while the first still holds its answer: busy, with Retry-After.
      return proxy.handle(other).catch((e: unknown) => e);
    });
    expect(refused).toBeInstanceOf(GatewayError);
    expect([(refused as GatewayError).code, (refused as GatewayError).status, (refused as GatewayError).headers['retry-after']]).toEqual(['upstream_busy', 503, '1']);
    // Released once the first was done (and after the refused one failed): the same request now passes.
    expect(ledger.held).toBe(0);
    const res = await proxy.handle(other);
    expect(res.status).toBe(200);
    expect(ledger.held).toBe(0);
  });
});
