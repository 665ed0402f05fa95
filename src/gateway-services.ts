// Every service of a running gateway, built once from the config: the districts and their
// upstream chains, the gateway's clients and tokens, the cache, the cached proxy, delta sync,
// ClassLink discovery, limits, metrics and the HTTP app. What a reload may replace (districts,
// clients, cache freshness) sits behind the setters returned with them.
import { createClientRegistry, sha256Hex, type ClientRegistry } from './auth/clients.js';
import { createFailedAuthThrottle } from './auth/failed-auth-throttle.js';
import { createTokenService } from './auth/tokens.js';
import { createCacheBackend, type ProcessCacheBackend } from './cache/index.js';
import type { DistrictConfig, GatewayConfig } from './config/schema.js';
import { createApp, type GatewayHttp } from './http/app.js';
import { safeErrorFields, type Logger } from './observability/logger.js';
import { packageVersion } from './observability/build-version.js';
import { createMetrics, type Metrics, type MetricsSources } from './observability/metrics.js';
import { createClassLinkDiscovery, type ClassLinkDiscovery } from './districts/classlink.js';
import { configDistrict, createDistrictRegistry, type District, type MutableDistrictRegistry } from './districts/districts.js';
import { createCacheAdmin, type CacheAdmin } from './service/cache-admin.js';
import { createClientAdmission } from './service/client-admission.js';
import { createCachePolicy, type CachePolicy } from './service/cache-policy.js';
import { createCachedProxy, type CachedProxy } from './service/cached-proxy.js';
import { createLookups } from './service/lookups.js';
import { createProxyService } from './service/proxy-service.js';
import { createVersionBridge } from './service/version-bridge.js';
import { createDeltaSync, type DeltaSync } from './sync/delta-sync.js';
import { createBackgroundCap, createUpstreamClient, type BackgroundCap, type UpstreamClientDeps } from './upstream/index.js';
import { createLimits, type Limits } from './limits/index.js';
import { createMirror, createMirrorStore, type MirrorService } from './mirror/index.js';
import { createChangeFeed } from './service/change-feed.js';
import { createMirrorReads } from './service/mirror-reads.js';
import { createMirroredProxy } from './service/mirrored-proxy.js';
import { createBodyCoder, type BodyCoder } from './compression/body-coder.js';

export interface ServiceOptions {
  logger: Logger;
  /** Clock for tokens and upstream token expiry (tests). */
  now?: () => number;
  /** False while starting and while draining for shutdown (/readyz). */
  isReady: () => boolean;
}

export interface Services {
  http: GatewayHttp;
  districts: MutableDistrictRegistry;
  buildDistrict(cfg: DistrictConfig): District;
  /** Reloadable parts: the current config's clients and cache freshness. */
  setClients(cfg: Readonly<GatewayConfig>): void;
  setPolicy(cfg: Readonly<GatewayConfig>): void;
  cacheAdmin: CacheAdmin;
  backend: ProcessCacheBackend;
  limits: Limits;
  sync: DeltaSync | undefined;
  classlink: ClassLinkDiscovery | undefined;
  mirror: MirrorService;
  /** Makes `cfg` the config the mirror reads its settings from (a reload). */
  setMirrorConfig(cfg: Readonly<GatewayConfig>): void;
  /** Absent with metrics.enabled: false. */
  metrics: Metrics | undefined;
}

function policyFor(cfg: Readonly<GatewayConfig>): CachePolicy {
  return createCachePolicy({
    defaults: { ttlSeconds: cfg.cache.ttlSeconds, staleSeconds: cfg.cache.staleSeconds },
    collections: cfg.cache.collections,
    districts: new Map(cfg.districts.map((d) => [d.id, d.cache])),
    negativeTtlSeconds: cfg.cache.negativeTtlSeconds,
    blockSize: cfg.cache.blockSize,
    readAhead: cfg.cache.readAhead,
  });
}

/** Mirror first, then the page cache, then the district: how a OneRoster request is answered. */
/** What the mirror tells the metrics: pulls as they end, changes as a copy records them. */
function mirrorHooks(metrics: Metrics | undefined) {
  if (!metrics) return {};
  return {
    onPull: (id: string, r: { outcome: string; startedAt: number; finishedAt: number; upstreamRequests: number }) =>
      metrics.mirrorPull(id, r.outcome, (r.finishedAt - r.startedAt) / 1000, r.upstreamRequests),
    onChanges: metrics.mirrorChanges,
  };
}

function readPath(o: { config: Readonly<GatewayConfig>; backend: ProcessCacheBackend; policy: CachePolicy; limits: Limits; metrics: Metrics | undefined; mirror: MirrorService; logger: Logger; clock: { now?: () => number }; coder: BodyCoder }): CachedProxy {
  const { config, metrics, clock } = o;
  const admission = createClientAdmission({ take: (key, cost, rate) => o.limits.rate.take(key, cost, rate), ...(metrics ? { onRefused: (id: string) => metrics.rateLimited(id) } : {}) });
  const pageCache = createCachedProxy({
    proxy: createProxyService({ bridge: createVersionBridge({ lookups: createLookups(clock), maxLocalRecords: 100_000 }) }),
    backend: o.backend,
    policy: o.policy,
    logger: o.logger,
    coalesceWaitMs: config.cache.coalesceWaitMs,
    ...clock,
    ...(metrics ? { events: { lookup: metrics.cacheLookup, staleServed: metrics.staleServed } } : {}),
    admission,
    forms: o.coder,
    ...(metrics ? { onReadAhead: metrics.readAhead } : {}),
  });
  return createMirroredProxy({
    inner: pageCache,
    reads: createMirrorReads({ mirror: o.mirror, maxLocalRecords: 100_000 }),
    admission,
    ...clock,
    onUnreadable: (district, err) => o.logger.warn({ msg: 'mirror copy unreadable: reads go to the district until it answers again', district, ...safeErrorFields(err) }),
    onReadable: (district) => o.logger.info({ msg: 'mirror copy readable again', district }),
  });
}

/** What every district's client is built with; at debug a line per attempt (at info the step is not in the chain). */
function upstreamDeps(logger: Logger, shared: Limits, metrics: Metrics | undefined, clock: { now?: () => number }, background: BackgroundCap): UpstreamClientDeps & { logger: Logger } {
  return { ...clock, shared, logger, background, ...(metrics && { metrics: metrics.upstreamRequest }), ...(logger.isLevelEnabled('debug') && { attemptLogger: logger }) };
}

/** The admin token's digest; none (no admin API) when the config has none, e.g. generateToken left to a caller that did not. */
function adminDigest(config: Readonly<GatewayConfig>): { adminTokenSha256?: string } {
  const admin = config.admin;
  const digest = admin?.tokenSha256 ?? (admin?.token ? sha256Hex(admin.token) : undefined);
  return digest ? { adminTokenSha256: digest } : {};
}

export async function buildServices(config: Readonly<GatewayConfig>, options: ServiceOptions): Promise<Services> {
  const { logger } = options;
  const clock = options.now ? { now: options.now } : {};
  // Token buckets and semaphores, in Redis when the cache is (shared by the replicas).
  const limits = await createLimits({ store: config.cache.store, keyPrefix: config.cache.keyPrefix, logger });
  const metrics: Metrics | undefined = config.metrics.enabled
    ? createMetrics({ perDistrictHistograms: config.metrics.perDistrictHistograms, build: { version: packageVersion() }, ...clock })
    : undefined;
  // Each district's upstream chain is composed in src/upstream/chain.ts; the root hands it the
  // clock, the logger, the replicas' shared budgets, a metrics hook (told of every attempt) and one background cap.
  const clientDeps = upstreamDeps(logger, limits, metrics, clock, createBackgroundCap({ max: config.sync.maxBackgroundConcurrency }));
  const buildDistrict = (cfg: DistrictConfig): District => configDistrict(cfg, clientDeps);
  const districts = createDistrictRegistry(config.districts.map(buildDistrict));
  const tokens = createTokenService({ secret: config.auth.tokenSecret, ttlSeconds: config.auth.tokenTtlSeconds, ...clock });
  // Each client carries a stamp of its secret, and so do its tokens: a rotated secret ends them.
  const registryFor = (cfg: Readonly<GatewayConfig>) => createClientRegistry(cfg.auth.clients, { stamp: tokens.credentialStamp });
  let clientsNow = registryFor(config);
  const clients: ClientRegistry = {
    get: (id) => clientsNow.get(id),
    authenticate: (id, secrets) => clientsNow.authenticate(id, secrets),
    canSeeDistrict: (client, id) => clientsNow.canSeeDistrict(client, id),
  };
  const backend = await createCacheBackend({
    store: config.cache.store,
    maxMemoryBytes: config.cache.maxMemoryBytes,
    l1MaxAgeMs: config.cache.l1MaxAgeSeconds * 1000,
    keyPrefix: config.cache.keyPrefix,
    logger,
    ...clock,
  });
  let policyNow = policyFor(config);
  const policy: CachePolicy = {
    freshness: (districtId, collection) => policyNow.freshness(districtId, collection),
    get negativeTtlMs() {
      return policyNow.negativeTtlMs;
    },
    blockSize: (districtId) => policyNow.blockSize(districtId),
    get readAhead() {
      return policyNow.readAhead;
    },
  };
  let mirrorConfig = config;
  const mirror = createMirror({
    store: await createMirrorStore(config.mirror, logger),
    districts,
    config: () => mirrorConfig,
    logger,
    ...clock,
    ...mirrorHooks(metrics),
  });
  // Digests and content codings, made once per stored page and per answer built on the fly.
  const coder = createBodyCoder(config.server.compression, metrics ? { onLateForm: (coding) => metrics.lateForm(coding) } : {});
  const proxy = readPath({ config, backend, policy, limits, metrics, mirror, logger, clock, coder });
  const { deltaSync } = config.cache;
  const sync: DeltaSync | undefined = deltaSync.enabled
    ? createDeltaSync({ districts, backend, logger, intervalMs: deltaSync.intervalSeconds * 1000, overlapMs: deltaSync.overlapSeconds * 1000, pageSize: deltaSync.pageSize, observer: mirror.delta, ...clock })
    : undefined;
  const cacheAdmin = createCacheAdmin(backend);
  const classlink = config.classlink
    ? createClassLinkDiscovery({
        config: config.classlink,
        registry: districts,
        buildClient: (d) => createUpstreamClient(d, clientDeps),
        // A tenant that revoked access: nothing of it may be served again, even stale.
        onRemoved: (id) => cacheAdmin.purgeDistrict(id),
        logger,
      })
    : undefined;
  metrics?.setSources(scrapeSources({ config, backend, districts, sync, mirror, isClient: (id) => clientsNow.get(id) !== undefined, clock }));
  const http = createApp({
    coder,
    tokens,
    clients,
    districts,
    proxy,
    mirror,
    changeFeed: createChangeFeed({ serving: (id) => mirror.serving(id), mirrored: (id) => mirror.mirrored(id), store: mirror.store }),
    cacheAdmin,
    ...(sync ? { syncNow: (id: string) => sync.syncDistrict(id), syncStatus: (id: string) => sync.status(id) } : {}),
    ...adminDigest(config),
    logger,
    ...(config.server.publicUrl ? { publicUrl: config.server.publicUrl } : {}),
    isReady: options.isReady,
    limits: config.server.limits,
    clientLimits: true,
    trustProxy: config.server.trustProxy,
    failedAuth: createFailedAuthThrottle({ ...config.auth.failedAuth, take: (key, cost, rate) => limits.rate.take(key, cost, rate) }),
    ...(metrics ? { metrics, metricsAuth: config.metrics.auth } : {}),
  });
  return {
    http,
    districts,
    buildDistrict,
    setClients: (cfg) => void (clientsNow = registryFor(cfg)),
    setPolicy: (cfg) => void (policyNow = policyFor(cfg)),
    cacheAdmin,
    backend,
    limits,
    sync,
    classlink,
    mirror,
    setMirrorConfig: (cfg) => void (mirrorConfig = cfg),
    metrics,
  };
}

/** What /metrics reads at scrape time. Only districts still configured or discovered are shown. */
function scrapeSources(o: { config: Readonly<GatewayConfig>; backend: ProcessCacheBackend; districts: MutableDistrictRegistry; sync: DeltaSync | undefined; mirror: MirrorService; isClient: (id: string) => boolean; clock: { now?: () => number } }): MetricsSources {
  const { backend, districts, sync, mirror } = o;
  const store = mirror.store;
  return {
    cacheStats: () => backend.cache.stats(),
    ...(sync ? { deltaSync: () => [...sync.seen()].filter((d) => districts.get(d.district) !== undefined), deltaSyncIntervalSeconds: o.config.cache.deltaSync.intervalSeconds } : {}),
    circuits: () => districts.list().flatMap((d) => (d.breaker ? [{ district: d.id, state: d.breaker().state }] : [])),
    queues: () => districts.list().map((d) => ({ district: d.id, queued: d.queued?.() ?? 0 })),
    ...(backend.up ? { redisUp: backend.up } : {}),
    ...(store.ping ? { postgresUp: () => store.ping!(PING_TIMEOUT_MS) } : {}),
    mirrors: () => districts.list().flatMap((d) => mirror.serving(d.id) ?? []),
    mirrorBytes: () => (store as { bytes?: () => number }).bytes?.(),
    changeLogs: () => mirror.changeLogs(),
    isClient: o.isClient,
    ...o.clock,
  };
}

/** A scrape waits at most this for PostgreSQL to answer before reporting it down. */
const PING_TIMEOUT_MS = 1_000;
