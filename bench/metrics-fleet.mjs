// A fleet's worth of traffic fed straight into the metrics (no gateway, no sandbox): every
// district with requests on several routes in every status and cache status, upstream answers
// and errors, stale answers, read-ahead, clients, and the scrape-time state of each district.
// Shared by bench/metrics-scrape.mjs and test/observability/metrics-fleet.test.ts.

export const ROUTES = [
  'v1p1 GET /users',
  'v1p1 GET /classes',
  'v1p1 GET /enrollments',
  'v1p1 GET /courses',
  'v1p1 GET /orgs',
  'v1p1 GET /academicSessions',
  'v1p1 GET /classes/{id}/students',
  'v1p2 GET /rostering/v1p2/users',
];
const COLLECTIONS = ['orgs', 'academicSessions', 'courses', 'classes', 'users', 'enrollments', 'demographics'];

/** District ids as an operator names them (about as long as real ones). */
export const districtIds = (n) => Array.from({ length: n }, (_, i) => `district-${String(i).padStart(4, '0')}`);
export const clientIds = (n) => Array.from({ length: n }, (_, i) => `app-${String(i).padStart(3, '0')}`);

/**
 * Feeds `metrics` (createMetrics()'s result) the traffic of `districts` districts and `clients`
 * clients. Every district answers every route from the cache (HIT, STALE) and the district
 * (MISS), with 404s, calls its district (200s, 404s) and reads ahead; a third are polled with
 * ETags (304s); `troubled` of them (a share) have had every kind of trouble: 429s, 5xx, timeouts,
 * stale answers, read-ahead refused, their breaker open, requests queued. `mirrored` also have
 * a mirror copy.
 */
export function feedFleet(metrics, { districts = 300, clients = 50, mirrored = 0, troubled = 0.1, now = Date.now() } = {}) {
  const ids = districtIds(districts);
  const apps = clientIds(clients);
  let n = 0;
  const client = () => apps[n++ % apps.length];
  const isTroubled = (index) => index < districts * troubled;
  ids.forEach((d, index) => {
    for (const route of ROUTES) {
      for (const cache of ['HIT', 'MISS', 'STALE']) {
        for (let i = 0; i < 3; i++) metrics.httpRequest(d, route, 200, cache, 0.0004 * 2 ** i * (1 + (n % 7)), client());
      }
      if (index % 3 === 0) metrics.httpRequest(d, route, 304, 'HIT', 0.0003, client());
    }
    metrics.httpRequest(d, ROUTES[0], 200, 'MIRROR', 0.002, client());
    metrics.httpRequest(d, ROUTES[1], 200, 'BYPASS', 0.2, client());
    metrics.httpRequest(d, ROUTES[2], 404, 'MISS', 0.05, client());
    for (const outcome of [200, 404]) metrics.upstreamRequest(d, outcome, 0.3);
    metrics.readAhead(d, 'started');
    if (!isTroubled(index)) return;
    metrics.httpRequest(d, ROUTES[3], 429, '', 0.0001, client());
    metrics.httpRequest(d, ROUTES[4], 502, 'MISS', 1.5, client());
    metrics.httpRequest(d, ROUTES[5], 504, 'MISS', 30, client());
    for (const outcome of [429, 500, 503, 'UPSTREAM_TIMEOUT']) metrics.upstreamRequest(d, outcome, outcome === 'UPSTREAM_TIMEOUT' ? undefined : 0.3);
    metrics.staleServed(d, 'refreshing');
    metrics.staleServed(d, 'upstream_failed');
    metrics.readAhead(d, 'busy');
    metrics.readAhead(d, 'failed');
  });
  for (const c of apps) {
    metrics.tokenIssued(c);
    metrics.rateLimited(c);
  }
  for (const tier of ['l1', 'l2', 'none']) for (const result of ['hit', 'miss', 'stale', 'coalesced']) metrics.cacheLookup(tier, result);
  metrics.lateForm('gzip');
  metrics.lateForm('br');
  const withMirror = ids.slice(0, mirrored);
  for (const d of withMirror) {
    metrics.mirrorPull(d, 'published', 12.5, 40);
    metrics.mirrorChanges(d, { users: { created: 3, updated: 10, deleted: 1 }, enrollments: { updated: 4 } });
  }
  metrics.configReload('success');
  metrics.setSources({
    cacheStats: () => ({ l1Bytes: 200_000_000, l1Entries: 40_000 }),
    deltaSync: () => ids.map((d) => ({ district: d, watermarkMs: now - 3_600_000, lastRunMs: now - 60_000, lastSuccessMs: now - 60_000, sinceMs: now - 86_400_000 })),
    deltaSyncIntervalSeconds: 300,
    // The troubled districts have had their breaker open and requests queued.
    circuits: () => ids.map((d, i) => ({ district: d, state: isTroubled(i) ? 'open' : 'closed' })),
    queues: () => ids.map((d, i) => ({ district: d, queued: isTroubled(i) ? 1 + (i % 7) : 0 })),
    redisUp: () => true,
    postgresUp: async () => true,
    mirrors: () => withMirror.map((d) => ({ district: d, counts: Object.fromEntries(COLLECTIONS.map((c) => [c, 1000])), agreedAt: now - 120_000 })),
    mirrorBytes: () => undefined,
    changeLogs: () => withMirror.map((d) => ({ district: d, log: { held: 100, tombstones: 5, oldestAt: now - 86_400_000 } })),
    isClient: (id) => apps.includes(id),
    now: () => now,
  });
  return { districts: ids, clients: apps };
}
