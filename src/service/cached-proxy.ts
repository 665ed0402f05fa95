import { createReadThrough, systemClock, type ReadThroughEvents } from '../cache/read-through.js';
import type { CacheBackend, CachedResponse } from '../cache/types.js';
import { cacheKey } from '../core/cache-key.js';
import { GatewayError } from '../core/errors.js';
import { createIncidents, incidentLine } from '../core/incidents.js';
import { tagsForRoute, tagsForWrite } from '../core/oneroster/cache-tags.js';
import type { CachePolicy } from './cache-policy.js';
import { cacheableFor, isOutage, loadForCache, needsRepoint, repoint, ROOT_HEADER, type StoredForms, type UpstreamCost } from './oneroster-cache-policy.js';
import { fromUpstreamFailure } from './upstream-errors.js';
import type { Admission } from './client-admission.js';
import type { CachedProxyRequest, ProxyResponse, ProxyService } from './proxy-types.js';
import { createPageBlocks, type PageBlocksOptions } from './page-blocks.js';

const REFRESH_MESSAGES = { entered: 'background refresh failed', still: 'background refresh still failing', recovered: 'background refresh recovered' };

export type { CachedProxyRequest } from './proxy-types.js';

export { ROOT_HEADER } from './oneroster-cache-policy.js';

/** MIRROR: answered from the district's mirrored copy (service/mirrored-proxy.ts). */
export type CacheStatus = 'HIT' | 'MISS' | 'STALE' | 'BYPASS' | 'MIRROR';

export interface CachedProxyResponse extends ProxyResponse {
  cache: CacheStatus;
  /** The body's digest and content codings, when they were stored with it (CachedResponse). */
  digest?: string;
  encoded?: Readonly<Record<string, Buffer>>;
  /** Seconds since the upstream answered, when the answer came from the cache. */
  ageSeconds?: number;
}

/** What the cache did, for metrics (the composition root forwards these to prom-client). */
export type CacheEvents = ReadThroughEvents;

export interface CachedProxyOptions {
  proxy: ProxyService;
  backend: CacheBackend;
  policy: CachePolicy;
  logger: { info(o: object): void; warn(o: object): void };
  /** How long to wait for another replica's fetch of the same page. */
  coalesceWaitMs: number;
  /**
   * How long a replica's claim on a page outlives the replica: the holder renews it every
   * third of this while it fetches, so a replica that dies mid-fetch holds the others up
   * this long, not `coalesceWaitMs`. Default 3000.
   */
  leaseTtlMs?: number;
  now?: () => number;
  events?: CacheEvents;
  /** Client rate limits (service/client-admission.ts); absent: clients are not limited. */
  admission?: Admission;
  /** Digest and content codings stored with each page; absent: pages are stored as they came. */
  forms?: StoredForms;
  /** Told of each read-ahead decision (page-blocks.ts), for metrics. */
  onReadAhead?: PageBlocksOptions['onReadAhead'];
}

const STATUS = { hit: 'HIT', stale: 'STALE', miss: 'MISS', bypass: 'BYPASS' } as const;

/**
 * The OneRoster policy on top of the read-through (cache/read-through.ts): which routes are
 * cached and for how long, negative 404s, kept headers, the tags of reads and the hard bumps
 * of writes, the version probe's settle, admission and re-pointing answers at the asking origin.
 */
export function createCachedProxy(options: CachedProxyOptions) {
  const { proxy, backend, policy, logger } = options;
  const { cache } = backend;
  const now = options.now ?? Date.now;
  const refreshIncidents = createIncidents();
  const readThrough = createReadThrough<UpstreamCost>({
    cache,
    leases: backend.leases,
    coalesceWaitMs: options.coalesceWaitMs,
    ...(options.leaseTtlMs !== undefined ? { leaseTtlMs: options.leaseTtlMs } : {}),
    clock: { ...systemClock, now },
    ...(options.events ? { events: options.events } : {}),
    // Every stale hit of a failing district starts a refresh that fails: one warning when they
    // start failing, a reminder at most every 15 minutes, one line when one succeeds again.
    onRefreshError(scope, err) {
      const note = refreshIncidents.failed(scope, err instanceof GatewayError ? err.code : 'internal', now());
      if (note) logger.warn(incidentLine(note, REFRESH_MESSAGES, { district: scope }).line);
    },
    onRefreshOk(scope) {
      const note = refreshIncidents.ok(scope);
      if (note) logger.info(incidentLine(note, REFRESH_MESSAGES, { district: scope }).line);
    },
  });
  /** A page through the cache: the one read every cached answer takes (a block's too). */
  function readPage(req: CachedProxyRequest, via: ProxyService, admit?: (kind: 'hit' | 'miss') => Promise<void>, part = false) {
    return readThrough.read({
      scope: req.district.id,
      key: keyOf(req),
      tags: req.tags ?? tagsForRoute(req.endpoint, req.params),
      load: () => loadForCache(via, policy, req, options.forms),
      isOutage,
      bypass: req.noCache,
      ...(admit ? { admit } : {}),
      // A block read for a page being built: the page, not the block, is what is served stale.
      ...(part ? { waitForRefresh: true } : {}),
    });
  }
  const blocks = createPageBlocks({ policy, direct: proxy, now, readBlock: (req) => readPage(req, proxy, undefined, true), holds: (req) => now() < (cache.peek(req.district.id, keyOf(req))?.freshUntil ?? 0), ...(options.onReadAhead ? { onReadAhead: options.onReadAhead } : {}) });
  /** Answers per district by cache status, in this process, for GET /districts. */
  const counts = new Map<string, Record<CacheStatus, number>>();

  function count(districtId: string, status: CacheStatus): void {
    let c = counts.get(districtId);
    if (!c) counts.set(districtId, (c = { HIT: 0, MISS: 0, STALE: 0, BYPASS: 0, MIRROR: 0 }));
    c[status]++;
  }

  function answer(req: CachedProxyRequest, entry: CachedResponse & { storedAt?: number }, cacheStatus: CacheStatus, cost?: UpstreamCost): CachedProxyResponse {
    const res: CachedProxyResponse = {
      status: entry.status,
      headers: entry.headers,
      body: entry.body,
      upstreamRequests: cost?.requests ?? 0,
      upstreamMs: cost?.ms ?? 0,
      cache: cacheStatus,
    };
    if (entry.digest !== undefined) res.digest = entry.digest;
    if (entry.encoded !== undefined) res.encoded = entry.encoded;
    if (cacheStatus !== 'MISS' && cacheStatus !== 'BYPASS' && entry.storedAt !== undefined) {
      res.ageSeconds = Math.max(0, Math.floor((now() - entry.storedAt) / 1000));
    }
    if (needsRepoint(entry.headers, req)) repoint(res, entry.headers[ROOT_HEADER] ?? req.hrefBase, req);
    return res;
  }

  /** An answer that never touched the cache, its links in the client's form. */
  function direct(req: CachedProxyRequest, fetched: ProxyResponse): CachedProxyResponse {
    const res: CachedProxyResponse = { ...fetched, cache: 'BYPASS' };
    if (req.clientRoot !== req.hrefBase && res.headers.link !== undefined) repoint(res, req.hrefBase, req);
    return res;
  }

  function keyOf(req: CachedProxyRequest): string {
    return cacheKey({
      upstreamVersion: req.district.version,
      responseVersion: req.version,
      resourceUrl: req.resource,
      query: req.query,
    });
  }

  async function write(req: CachedProxyRequest): Promise<CachedProxyResponse> {
    const tags = tagsForWrite(req.endpoint, req.params, req.parsedBody);
    try {
      return direct(req, await proxy.handle(req));
    } finally {
      // Before the response returns, so the next read (on any replica) sees the write.
      // Also after a failure: the district may have applied the write anyway. Hard: what
      // was cached before the write is never served again, not even when the district fails.
      await cache.bump(req.district.id, tags, { hard: true });
    }
  }

  async function handleUncounted(req: CachedProxyRequest): Promise<CachedProxyResponse> {
    const cacheable = cacheableFor(policy, req);
    const { admission } = options;
    const caller = req.caller;
    const admit = admission && caller ? (kind: 'hit' | 'miss') => admission(caller, kind) : undefined;
    // What never comes from the cache is charged as a district request, before it is sent.
    if (admit && !cacheable) await admit('miss');
    if (req.endpoint.kind === 'write') return write(req);
    if (!cacheable) return direct(req, await proxy.handle(req));
    // A collection page is cut from the district's blocks, unless it is one (page-blocks.ts).
    const blocked = blocks.eligible(req);
    const aligned = blocked && blocks.aligned(req);
    // Read-ahead starts once the client is admitted: a refused client costs the district nothing.
    const arrive = () => blocks.arrive(req);
    const admitted = admit
      ? async (kind: 'hit' | 'miss') => {
          await admit(kind);
          if (blocked) arrive();
        }
      : undefined;
    if (blocked && !admitted) arrive();
    const read = await readPage(req, blocked && !aligned ? blocks : proxy, admitted);
    if (aligned) blocks.served(req, read.entry.headers);
    // Cut from a block the district could not refresh: as stale as that block.
    return answer(req, read.entry, read.meta?.stale && read.status === 'miss' ? 'STALE' : STATUS[read.status], read.meta);
  }

  return {
    /**
     * A fresh hit this process can answer synchronously (from L1, vouched for by the
     * generation mirror), else undefined: the caller then goes through `handle`, which
     * decides everything else. Lets the HTTP layer answer the commonest request without a
     * promise turn.
     */
    freshHit(req: CachedProxyRequest): CachedProxyResponse | undefined {
      if (req.endpoint.kind === 'write' || req.noCache) return undefined;
      // An `auto` district not probed yet: `handle` asks it first.
      if (req.district.versionProbe && req.district.versionProbe.current() === undefined) return undefined;
      const entry = readThrough.fresh(req.district.id, keyOf(req));
      if (!entry) return undefined;
      // A reader paging block by block through blocks read ahead: the read-ahead keeps up with it.
      if (blocks.eligible(req) && blocks.aligned(req)) {
        blocks.arrive(req);
        blocks.served(req, entry.headers);
      }
      count(req.district.id, 'HIT');
      return answer(req, entry, 'HIT');
    },

    /**
     * This process's answers for a district by cache status, the share served from cache,
     * and the pages it holds in memory (L2 entries are shared and not counted per district:
     * that would mean scanning Redis).
     */
    stats(districtId: string): Record<CacheStatus, number> & { hitRatio: number | null; entries: number; bytes: number } {
      const c = counts.get(districtId) ?? { HIT: 0, MISS: 0, STALE: 0, BYPASS: 0, MIRROR: 0 };
      const total = c.HIT + c.MISS + c.STALE + c.BYPASS;
      const held = cache.scopeStats(districtId);
      return {
        ...c,
        hitRatio: total === 0 ? null : Math.round(((c.HIT + c.STALE) / total) * 1000) / 1000,
        entries: held.l1Entries,
        bytes: held.l1Bytes,
      };
    },

    async handle(req: CachedProxyRequest): Promise<CachedProxyResponse> {
      const probe = req.district.versionProbe;
      if (probe && probe.current() === undefined) {
        try {
          await probe.settle();
        } catch (err) {
          throw fromUpstreamFailure(err, req.district.id);
        }
      }
      const res = await handleUncounted(req);
      count(req.district.id, res.cache);
      return res;
    },
  };
}

export type CachedProxy = ReturnType<typeof createCachedProxy>;
