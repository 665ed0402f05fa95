import type { CacheBackend, CacheEntry, CachedResponse } from '../cache/types.js';
import { cacheKey } from '../core/cache-key.js';
import { GatewayError, statusInfoBody } from '../core/errors.js';
import { routeCollection, tagsForRoute, tagsForWrite } from '../core/oneroster/cache-tags.js';
import type { CachePolicy } from './cache-policy.js';
import { fromUpstreamFailure } from './upstream-errors.js';
import type { ProxyRequest, ProxyResponse, ProxyService } from './proxy-service.js';

export type CacheStatus = 'HIT' | 'MISS' | 'STALE' | 'BYPASS';

export interface CachedProxyRequest extends ProxyRequest {
  /** The resource's canonical path below the gateway (district form, no origin): the cache key's resource. */
  resource: string;
  /**
   * Where links start in the form the client used: `{origin}/ims/oneroster` (district from the
   * X-District-Id header or the client) or `{origin}/districts/{id}/ims/oneroster`. Answers are
   * built and cached on `hrefBase` (the district form) and re-pointed here on the way out.
   */
  clientRoot: string;
  /** Ids in the path, in order (for cache tags). */
  params: readonly string[];
  /** The client sent Cache-Control: no-cache and may force a refresh. */
  noCache: boolean;
  /** The parsed write body, for the tags a write invalidates. */
  parsedBody?: unknown;
  /** The route's cache tags, when the caller already has them (they depend only on the URL). */
  tags?: string[];
  /**
   * Called once, when it is known whether the answer comes from the cache (`hit`, stale
   * included) or from the district (`miss`), before the district is asked; it throws to
   * refuse (a client over its rate limit).
   */
  admit?: (kind: 'hit' | 'miss') => Promise<void>;
}

export interface CachedProxyResponse extends ProxyResponse {
  cache: CacheStatus;
  /** Seconds since the upstream answered, when the answer came from the cache. */
  ageSeconds?: number;
}

/** What the cache did, for metrics (the composition root forwards these to prom-client). */
export interface CacheEvents {
  /** tier: where the answer came from (`none`: nowhere, fetched); coalesced: waited for another fetch. */
  lookup(tier: 'l1' | 'l2' | 'none', result: 'hit' | 'miss' | 'stale' | 'coalesced'): void;
  staleServed(districtId: string, reason: 'refreshing' | 'upstream_failed'): void;
}

export interface CachedProxyOptions {
  proxy: ProxyService;
  backend: CacheBackend;
  policy: CachePolicy;
  logger: { warn(o: object): void };
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
}

const KEPT_HEADERS = ['content-type', 'x-total-count', 'link'];
/** Kept with a cached answer: the root (origin and district path) its hrefs and links were built on. */
export const ROOT_HEADER = 'x-gateway-root';
// Statuses that mean the district is down or overloaded, when a stale page beats an error.
const OUTAGE = new Set([
  'upstream_timeout',
  'upstream_unreachable',
  'upstream_bad_response',
  'upstream_auth_failed',
  'upstream_busy',
  'upstream_circuit_open',
  'upstream_too_large',
]);

function isOutage(err: unknown): boolean {
  if (!(err instanceof GatewayError)) return false;
  return OUTAGE.has(err.code) || (err.code === 'upstream_status' && (err.status >= 500 || err.status === 429));
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Read-through cache around the proxy: fresh hits, stale-while-revalidate, stale-if-error,
 * negative caching of single-object 404s, and one upstream fetch per page however many
 * requests (in this process, or on other replicas through a lease) want it at once.
 */
export function createCachedProxy(options: CachedProxyOptions) {
  const { proxy, backend, policy, logger } = options;
  const { cache, leases } = backend;
  const leaseTtlMs = options.leaseTtlMs ?? 3_000;
  if (!Number.isInteger(leaseTtlMs) || leaseTtlMs < 3) throw new RangeError(`leaseTtlMs must be an integer >= 3, got ${leaseTtlMs}`);
  const now = options.now ?? Date.now;
  const events: CacheEvents = options.events ?? { lookup() {}, staleServed() {} };
  const flights = new Map<string, Promise<CacheEntry & { fetched?: { requests: number; ms: number } }>>();
  /** Answers per district by cache status, in this process, for GET /districts. */
  const counts = new Map<string, Record<CacheStatus, number>>();

  function count(districtId: string, status: CacheStatus): void {
    let c = counts.get(districtId);
    if (!c) counts.set(districtId, (c = { HIT: 0, MISS: 0, STALE: 0, BYPASS: 0 }));
    c[status]++;
  }

  function answer(
    req: CachedProxyRequest,
    entry: CachedResponse & { storedAt?: number; fetched?: { requests: number; ms: number } },
    cacheStatus: CacheStatus,
  ): CachedProxyResponse {
    const res: CachedProxyResponse = {
      status: entry.status,
      headers: entry.headers,
      body: entry.body,
      upstreamRequests: entry.fetched?.requests ?? 0,
      upstreamMs: entry.fetched?.ms ?? 0,
      cache: cacheStatus,
    };
    if (cacheStatus !== 'MISS' && cacheStatus !== 'BYPASS' && entry.storedAt !== undefined) {
      res.ageSeconds = Math.max(0, Math.floor((now() - entry.storedAt) / 1000));
    }
    const built = entry.headers[ROOT_HEADER];
    if ((built !== undefined && built !== req.hrefBase) || (req.clientRoot !== req.hrefBase && entry.headers.link !== undefined)) {
      repoint(res, built ?? req.hrefBase, req);
    }
    return res;
  }

  /**
   * An answer built for another origin (a Host or X-Forwarded-Host of another request; the
   * page is cached once, however many names the gateway is reached by) or another form of
   * the path: hrefs and links re-pointed at this request's. Costs a string replace, and only
   * on the rare answer that needs it; the common one is served as stored.
   */
  function repoint(res: CachedProxyResponse, built: string, req: CachedProxyRequest): void {
    const headers: Record<string, string> = { ...res.headers };
    if (headers.link !== undefined) headers.link = headers.link.replaceAll(built, req.clientRoot);
    if (built !== req.hrefBase && res.body !== null) {
      const text = typeof res.body === 'string' ? res.body : res.body.toString('utf8');
      res.body = Buffer.from(text.replaceAll(built, req.hrefBase));
    }
    res.headers = headers;
  }

  /** An answer that never touched the cache, its links in the client's form. */
  function direct(req: CachedProxyRequest, fetched: ProxyResponse): CachedProxyResponse {
    const res: CachedProxyResponse = { ...fetched, cache: 'BYPASS' };
    if (req.clientRoot !== req.hrefBase && res.headers.link !== undefined) repoint(res, req.hrefBase, req);
    return res;
  }

  /** Fetches from the district and stores what may be stored; the generations are read first so a change during the fetch wins. */
  /** An entry this process just fetched, with what the fetch cost the district. */
  type Fetched = CacheEntry & { fetched?: { requests: number; ms: number } };

  async function fetchAndStore(req: CachedProxyRequest, key: string, tags: string[], generations: readonly number[]): Promise<Fetched> {
    const scope = req.district.id;
    const { ttlMs, staleMs } = policy.freshness(scope, routeCollection(req.endpoint));
    let response: CachedResponse;
    let times: { freshUntil: number; staleUntil: number };
    let fetched = { requests: 0, ms: 0 };
    const fetchReq = { ...req };
    // Shared by every waiting client: one client going away must not cancel it for the others.
    delete fetchReq.signal;
    try {
      const res = await proxy.handle(fetchReq);
      fetched = { requests: res.upstreamRequests, ms: res.upstreamMs };
      const headers: Record<string, string> = {};
      for (const h of KEPT_HEADERS) if (res.headers[h] !== undefined) headers[h] = res.headers[h]!;
      headers[ROOT_HEADER] = req.hrefBase;
      response = { status: res.status, headers, body: typeof res.body === 'string' ? Buffer.from(res.body) : (res.body ?? Buffer.alloc(0)) };
      const t = now();
      times = { freshUntil: t + ttlMs, staleUntil: t + ttlMs + staleMs };
      if (res.status !== 200) return { ...response, storedAt: t, ...times, tags: [], fetched };
    } catch (err) {
      const negative = req.endpoint.kind === 'single' && err instanceof GatewayError && err.code === 'upstream_status' && err.status === 404;
      if (!negative || policy.negativeTtlMs === 0) throw err;
      // The district says this object does not exist: remember that briefly, never as stale.
      fetched = { requests: 1, ms: 0 };
      const body = statusInfoBody(req.version, { codeMajor: err.codeMajor, codeMinor: err.codeMinor, description: err.description });
      response = { status: 404, headers: { 'content-type': 'application/json; charset=utf-8', [ROOT_HEADER]: req.hrefBase }, body: Buffer.from(JSON.stringify(body)) };
      const t = now();
      times = { freshUntil: t + policy.negativeTtlMs, staleUntil: t + policy.negativeTtlMs };
    }
    await cache.set(scope, key, response, times, tags, generations);
    return { ...response, storedAt: now(), ...times, tags: tags.map((t, i) => [t, generations[i] ?? 0]), fetched };
  }

  /**
   * One fetch per key and generation in this process; across replicas, the lease holder
   * fetches and the others wait for its entry. The generations are read first and are part
   * of the flight and the lease: a request that starts after a write (whose bump has landed)
   * never joins a fetch that began before it, so it cannot receive the pre-write answer.
   */
  async function fetchShared(req: CachedProxyRequest, key: string, tags: string[]): Promise<Fetched> {
    const generations = await cache.generations(req.district.id, tags);
    const generation = generations.join('.');
    const flightKey = `${req.district.id}\u0000${key}\u0000${generation}`;
    let flight = flights.get(flightKey);
    if (flight) {
      events.lookup('l1', 'coalesced');
      return flight;
    }
    flight = (async () => {
      const lease = `${req.district.id}|${generation}|${key}`;
      const deadline = now() + options.coalesceWaitMs;
      for (let wait = 20; ; wait = Math.min(wait * 2, 200)) {
        if (await leases.acquire(lease, leaseTtlMs)) {
          const renewal = setInterval(() => void leases.renew(lease, leaseTtlMs).catch(() => {}), leaseTtlMs / 3);
          renewal.unref();
          try {
            // Another replica may have stored it between our lookup and our lease.
            const again = req.noCache ? undefined : await cache.get(req.district.id, key);
            if (again?.valid && now() < again.entry.freshUntil) return again.entry;
            return await fetchAndStore(req, key, tags, generations);
          } finally {
            clearInterval(renewal);
            await leases.release(lease);
          }
        }
        if (now() >= deadline) return fetchAndStore(req, key, tags, generations);
        // Another replica holds the lease: wait for its entry in the shared tier.
        if (wait === 20) events.lookup('l2', 'coalesced');
        await sleep(wait);
        const found = await cache.get(req.district.id, key);
        if (found?.valid && now() < found.entry.freshUntil) return found.entry;
      }
    })().finally(() => flights.delete(flightKey));
    flights.set(flightKey, flight);
    return flight;
  }

  function keyOf(req: CachedProxyRequest): string {
    return cacheKey({
      upstreamVersion: req.district.version,
      responseVersion: req.version,
      resourceUrl: req.resource,
      query: req.query,
    });
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
      const entry = cache.peek(req.district.id, keyOf(req));
      if (!entry || now() >= entry.freshUntil) return undefined;
      count(req.district.id, 'HIT');
      events.lookup('l1', 'hit');
      return answer(req, entry, 'HIT');
    },

    /**
     * This process's answers for a district by cache status, the share served from cache,
     * and the pages it holds in memory (L2 entries are shared and not counted per district:
     * that would mean scanning Redis).
     */
    stats(districtId: string): Record<CacheStatus, number> & { hitRatio: number | null; entries: number; bytes: number } {
      const c = counts.get(districtId) ?? { HIT: 0, MISS: 0, STALE: 0, BYPASS: 0 };
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

  async function handleUncounted(req: CachedProxyRequest): Promise<CachedProxyResponse> {
    const scope = req.district.id;
    const write = req.endpoint.kind === 'write';
    const fresh = write ? undefined : policy.freshness(scope, routeCollection(req.endpoint));
    const uncacheable = !fresh || (fresh.ttlMs === 0 && fresh.staleMs === 0);
    // What never comes from the cache is charged as a district request, before it is sent.
    if (req.admit && (uncacheable || req.noCache)) await req.admit('miss');
    if (write) {
      const tags = tagsForWrite(req.endpoint, req.params, req.parsedBody);
      try {
        return direct(req, await proxy.handle(req));
      } finally {
        // Before the response returns, so the next read (on any replica) sees the write.
        // Also after a failure: the district may have applied the write anyway. Hard: what
        // was cached before the write is never served again, not even when the district fails.
        await cache.bump(scope, tags, { hard: true });
      }
    }
    if (uncacheable) return direct(req, await proxy.handle(req));

    const key = keyOf(req);
    const tags = req.tags ?? tagsForRoute(req.endpoint, req.params);
    if (req.noCache) return answer(req, await fetchShared(req, key, tags), 'BYPASS');

    const found = await cache.get(scope, key);
    const t = now();
    if (req.admit) await req.admit(found?.valid && t < found.entry.staleUntil ? 'hit' : 'miss');
    if (found?.valid && t < found.entry.freshUntil) {
      events.lookup(found.tier, 'hit');
      return answer(req, found.entry, 'HIT');
    }
    if (found?.valid && t < found.entry.staleUntil) {
      fetchShared(req, key, tags).catch((err: unknown) => {
        logger.warn({ msg: 'background refresh failed', district: scope, errorCode: err instanceof GatewayError ? err.code : 'internal' });
      });
      events.lookup(found.tier, 'stale');
      events.staleServed(scope, 'refreshing');
      return answer(req, found.entry, 'STALE');
    }
    try {
      // Every request that found nothing counts; those that waited on another's fetch count as coalesced too.
      const fetched = await fetchShared(req, key, tags);
      events.lookup('none', 'miss');
      return answer(req, fetched, 'MISS');
    } catch (err) {
      // stale-if-error: an outage answers from any entry still inside its stale window,
      // even one a change at the district invalidated (old data beats no data, and X-Cache
      // says STALE), but never one a write through the gateway replaced or deleted.
      if (found && t < found.entry.staleUntil && isOutage(err) && (found.valid || (await cache.usableAsStale(scope, found.entry)))) {
        events.lookup(found.tier, 'stale');
        events.staleServed(scope, 'upstream_failed');
        return answer(req, found.entry, 'STALE');
      }
      throw err;
    }
  }
}

export type CachedProxy = ReturnType<typeof createCachedProxy>;
