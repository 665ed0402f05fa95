// Upstream blocks shared by every page size: a cacheable list read of a district that speaks the
// caller's version is cut from cached pages of one size (`blockSize`, aligned), so apps paging
// the same collection with limit 100, 200 or 5000 cost the district one pull. A block is an
// ordinary cached page (the page `limit=blockSize&offset=k*blockSize` of the same query), so
// invalidation, coalescing and stale serving are the read-through's, as for any page. The cut
// page is stored under its own key too: its hits cost what any hit costs.
//
// Read-ahead: a client paging sequentially (each page starting where its last one ended) gets
// the next blocks fetched in the background, up to `readAhead` blocks past its page, never past
// the collection's end, at most `readAhead` at once per district: the district's latency then
// overlaps the client's own work. A client that stops costs at most that many blocks.
// Read-ahead asks at client priority, outside the replica's background cap
// (upstream/background-cap.ts): the block it reads is the one its client asks next, and that
// request joins the read already running; queued behind delta polls and mirror pulls, the client
// would wait behind background work. It is bounded by client traffic and `readAhead` instead.
import { withoutPaging, type QueryPairs } from '../core/oneroster/query.js';
import type { ReadResult } from '../cache/read-through.js';
import { GatewayError } from '../core/errors.js';
import { blocksFor, cutPage, type Block } from '../core/oneroster/blocks.js';
import { linkHasRel, listHeaders, parseTotalCount } from '../core/oneroster/links.js';
import { needsRepoint, repoint, ROOT_HEADER, type UpstreamCost } from './oneroster-cache-policy.js';
import type { CachedProxyRequest, ProxyResponse, ProxyService } from './proxy-types.js';
import type { CachePolicy } from './cache-policy.js';
import { tooLarge } from './paging.js';

export interface PageBlocksOptions {
  /** The district's block size (0: its pages are fetched as asked) and the read-ahead depth (cache-policy.ts). */
  policy: Pick<CachePolicy, 'blockSize' | 'readAhead'>;
  /** A block through the cache: the page of `req` (whose limit and offset are the block's). */
  readBlock(req: CachedProxyRequest): Promise<ReadResult<UpstreamCost>>;
  /** Whether this process holds the block fresh (nothing to read ahead). */
  holds(req: CachedProxyRequest): boolean;
  /** The page fetched as asked: what a page that blocks cannot serve falls back to. */
  direct: ProxyService;
  now(): number;
  /** Told of every read-ahead decision, for metrics. */
  onReadAhead?(districtId: string, outcome: 'started' | 'busy' | 'failed'): void;
}

// Readers remembered for read-ahead (district + query without paging -> where their last page ended).
const MAX_READERS = 4096;
// A page needing more blocks than this is fetched as asked: one client page must not fan out
// into many block reads at once (limit=10000 over 1000-record blocks is 11).
const MAX_BLOCKS_PER_PAGE = 16;

/** A block shorter than its district says it is (a clamp the stitching could not fill): the page is fetched as asked. */
class ShortBlock extends Error {}

// Parsed blocks kept for the next cut (see recordsOf).
const PARSED_BLOCKS = 4;

export function createPageBlocks(options: PageBlocksOptions) {
  const { policy, readBlock } = options;
  if (!policy || !readBlock) throw new Error('pageBlocks: policy and readBlock are required');
  const blockSize = (districtId: string) => policy.blockSize(districtId);
  /** Readers (district + query without paging): where their last page ended, what they know of the end. */
  const readers = new Map<string, { end: number; more: boolean; total?: number }>();
  const aheadNow = new Map<string, number>();
  const parsed = new Map<Buffer, { wrapper: string; records: unknown[] }>();
  /** Blocks being read ahead (reader key + index): asked once, counted once. */
  const aheadKeys = new Set<string>();

  function blockRequest(req: CachedProxyRequest, index: number, size: number): CachedProxyRequest {
    const offset = index * size;
    const params: QueryPairs = [...withoutPaging(req.query.params), ['limit', String(size)], ['offset', String(offset)]];
    const block: CachedProxyRequest = { ...req, query: { ...req.query, params, limit: size, offset, limitGiven: true } };
    delete block.caller;
    delete block.signal;
    return block;
  }

  /** A block's records and what the district said of what follows. */
  function readRecords(req: CachedProxyRequest, index: number, size: number, read: ReadResult<UpstreamCost>): Block {
    const entry = read.entry;
    if (entry.status !== 200) throw new GatewayError('upstream_bad_response', `District "${req.district.id}" answered a block with ${entry.status}.`);
    // A block built for another origin of the gateway: its hrefs re-pointed at this one.
    const res: Pick<ProxyResponse, 'headers' | 'body'> = { headers: entry.headers, body: entry.body };
    if (needsRepoint(entry.headers, req)) repoint(res, entry.headers[ROOT_HEADER] ?? req.hrefBase, { hrefBase: req.hrefBase, clientRoot: req.hrefBase });
    const records = recordsOf(res.body, res.body === entry.body, req.endpoint.wrapper);
    if (!Array.isArray(records)) throw new GatewayError('upstream_bad_response', `District "${req.district.id}" answered a block without ${req.endpoint.wrapper}.`);
    const follows = followsBlock(entry.headers, index, size);
    if (records.length < size && follows.more) throw new ShortBlock();
    return { index, records, ...follows };
  }

  /**
   * A block's records. A reader with a small limit cuts ten pages from one block in a row: the
   * last few blocks stay parsed (keyed by the stored body itself, so a replaced or re-pointed
   * block is parsed afresh), about 2.5 MB each for 1000 records.
   */
  function recordsOf(body: Buffer | string | null, stored: boolean, wrapper: string): unknown {
    const key = stored && Buffer.isBuffer(body) ? body : undefined;
    const known = key && parsed.get(key);
    if (known && known.wrapper === wrapper) {
      parsed.delete(key);
      parsed.set(key, known);
      return known.records;
    }
    const text = typeof body === 'string' ? body : (body ?? Buffer.alloc(0)).toString('utf8');
    const records = (JSON.parse(text) as Record<string, unknown>)[wrapper];
    if (key && Array.isArray(records)) {
      if (parsed.size >= PARSED_BLOCKS) parsed.delete(parsed.keys().next().value!);
      parsed.set(key, { wrapper, records });
    }
    return records;
  }

  function readerKey(req: CachedProxyRequest): string {
    return `${req.district.id}\u0000${req.resource}\u0000${JSON.stringify(withoutPaging(req.query.params))}`;
  }

  /**
   * A page asked for: when its reader reads sequentially (this page starts where its last one
   * ended, and that one said more follows), the blocks after this page's are fetched now, while
   * this page's own block is still on its way: the district's latency overlaps.
   */
  function arrive(req: CachedProxyRequest, size: number): void {
    const key = readerKey(req);
    const was = readers.get(key);
    readers.delete(key);
    if (readers.size >= MAX_READERS) readers.delete(readers.keys().next().value!);
    const { offset, limit } = req.query;
    readers.set(key, { end: offset + limit, more: was?.more ?? true, ...(was?.total !== undefined ? { total: was.total } : {}) });
    const readAhead = policy.readAhead;
    if (readAhead === 0 || was?.end !== offset || !was.more) return;
    const id = req.district.id;
    const last = blocksFor(offset, limit, size).last;
    const until = was.total !== undefined ? Math.ceil(was.total / size) - 1 : Infinity;
    for (let i = last + 1; i <= Math.min(last + readAhead, until); i++) {
      const block = blockRequest(req, i, size);
      const blockKey = `${key}\u0000${i}`;
      if (aheadKeys.has(blockKey) || options.holds(block)) continue;
      const running = aheadNow.get(id) ?? 0;
      if (running >= readAhead) {
        options.onReadAhead?.(id, 'busy');
        return;
      }
      aheadNow.set(id, running + 1);
      aheadKeys.add(blockKey);
      options.onReadAhead?.(id, 'started');
      readBlock(block)
        .catch(() => options.onReadAhead?.(id, 'failed'))
        .finally(() => {
          aheadKeys.delete(blockKey);
          const n = (aheadNow.get(id) ?? 1) - 1;
          if (n === 0) aheadNow.delete(id);
          else aheadNow.set(id, n);
        });
    }
  }

  /** What the page's last block said of what follows, for the reader's next page. */
  function served(req: CachedProxyRequest, last: Pick<Block, 'more' | 'total'>): void {
    const reader = readers.get(readerKey(req));
    if (!reader || reader.end !== req.query.offset + req.query.limit) return;
    reader.more = last.more;
    if (last.total !== undefined) reader.total = last.total;
  }

  /** What a block's headers say of what follows it. */
  function followsBlock(headers: Readonly<Record<string, string>>, index: number, size: number): Pick<Block, 'more' | 'total'> {
    const total = parseTotalCount(headers['x-total-count']);
    if (total !== undefined) return { more: (index + 1) * size < total, total };
    return { more: linkHasRel(headers.link, 'next') };
  }

  const blocks: ProxyService & {
    eligible(req: CachedProxyRequest): boolean;
    aligned(req: CachedProxyRequest): boolean;
    arrive(req: CachedProxyRequest): void;
    served(req: CachedProxyRequest, headers: Readonly<Record<string, string>>): void;
  } = {
    /** Whether this read is served by blocks: a collection page of a district that speaks its version. */
    eligible(req) {
      return req.endpoint.kind === 'collection' && req.query.paged && req.version === req.district.version && blockSize(req.district.id) > 0;
    },

    /** The page is itself a block: it is read the usual way, never cut from itself. */
    aligned(req) {
      const size = blockSize(req.district.id);
      return req.query.limit === size && req.query.offset % size === 0;
    },

    /** A page asked for (read-ahead starts here for a sequential reader). */
    arrive(req) {
      arrive(req, blockSize(req.district.id));
    },

    /** A page that is itself a block, answered: what it says of the rest, for the read-ahead. */
    served(req, headers) {
      const size = blockSize(req.district.id);
      served(req, followsBlock(headers, req.query.offset / size, size));
    },

    /** The page cut from its blocks (read through the cache), with the page's own Link. */
    async handle(raw) {
      const req = raw as CachedProxyRequest;
      const size = blockSize(req.district.id);
      const { offset, limit } = req.query;
      const { first, last } = blocksFor(offset, limit, size);
      if (last - first + 1 > MAX_BLOCKS_PER_PAGE) return options.direct.handle(req);
      const cost = { requests: 0, ms: 0, stale: false, bytes: 0, freshUntil: Infinity };
      const take = async (index: number) => {
        const read = await readBlock(blockRequest(req, index, size));
        cost.requests += read.meta?.requests ?? 0;
        cost.ms += read.meta?.ms ?? 0;
        if (read.status === 'stale' || read.meta?.stale) cost.stale = true;
        // As a stitched page is: no more than one answer's worth of the district's bytes.
        cost.bytes += read.entry.body.byteLength;
        if (cost.bytes > req.district.maxBodyBytes) throw tooLarge(req.district.id, req.district.maxBodyBytes);
        cost.freshUntil = Math.min(cost.freshUntil, read.entry.freshUntil);
        return readRecords(req, index, size, read);
      };
      try {
        return await cut(req, size, first, last, take, cost);
      } catch (err) {
        if (err instanceof ShortBlock) return options.direct.handle(req);
        throw err;
      }
    },
  };

  async function cut(
    req: CachedProxyRequest,
    size: number,
    first: number,
    last: number,
    take: (index: number) => Promise<Block>,
    cost: { requests: number; ms: number; stale: boolean; freshUntil: number },
  ): Promise<ProxyResponse> {
    const { offset, limit } = req.query;
    // The first block says whether there is more; the rest are read at once.
    const got = [await take(first)];
    const head = got[0]!;
    if (last > first && head.more && head.records.length >= size) {
      const end = head.total !== undefined ? Math.min(last, Math.ceil(head.total / size) - 1) : last;
      for (const b of await Promise.all(Array.from({ length: Math.max(0, end - first) }, (_, i) => take(first + 1 + i)))) got.push(b);
    }
    const page = cutPage(got, offset, limit, size);
    served(req, got.at(-1)!);
    const headers: Record<string, string> = {
      'content-type': 'application/json; charset=utf-8',
      ...listHeaders({
        base: req.linkBase,
        params: withoutPaging(req.query.params),
        limit,
        offset,
        ...(page.total !== undefined ? { total: page.total } : {}),
        hasMore: page.records.length >= limit && page.more,
      }),
    };
    const body = JSON.stringify({ [req.endpoint.wrapper]: page.records });
    // Fresh no longer than the blocks it was cut from.
    const freshForMs = Math.max(0, cost.freshUntil - options.now());
    return { status: 200, headers, body, upstreamRequests: cost.requests, upstreamMs: cost.ms, freshForMs, ...(cost.stale ? { stale: true } : {}) };
  }

  return blocks;
}

