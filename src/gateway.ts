import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { getRequestListener, type ServerType } from '@hono/node-server';
import { createClientRegistry, sha256Hex, type ClientRegistry } from './auth/clients.js';
import { createFailedAuthThrottle } from './auth/failed-auth-throttle.js';
import { createTokenService } from './auth/tokens.js';
import type { DistrictConfig, GatewayConfig } from './config/schema.js';
import { createApp } from './http/app.js';
import { parserErrorBytes, requestErrorResponse } from './http/error-response.js';
import { safeErrorFields, type Logger } from './observability/logger.js';
import { createClassLinkDiscovery, type ClassLinkDiscovery } from './routing/classlink.js';
import { assembleDistrict, authIdentifiers, authSecrets, authUrls, createDistrictRegistry, type District } from './routing/districts.js';
import { startSandbox, type Sandbox } from './sandbox/index.js';
import { createCacheBackend } from './cache/index.js';
import { createCacheAdmin } from './service/cache-admin.js';
import { createCachePolicy, type CachePolicy } from './service/cache-policy.js';
import { createCachedProxy } from './service/cached-proxy.js';
import { createLookups } from './service/lookups.js';
import { createProxyService } from './service/proxy-service.js';
import { createVersionBridge } from './service/version-bridge.js';
import { createDeltaSync, type DeltaSync } from './sync/delta-sync.js';
import { createUpstreamClient, type DistrictUpstreamClient } from './upstream/index.js';
import type { SharedBudgets } from './upstream/client.js';
import { createLimits } from './limits/index.js';
import { createMetrics, type Metrics } from './observability/metrics.js';

export interface RunningGateway {
  /** http://host:port the gateway listens on (loopback form when bound to all interfaces). */
  readonly url: string;
  readonly port: number;
  readonly sandboxes: ReadonlyMap<string, Sandbox>;
  /**
   * Applies a new, already validated config without dropping a request: districts (new,
   * changed, removed), clients and cache freshness. Returns the sections that changed but
   * only take effect at a restart.
   */
  reload(next: Readonly<GatewayConfig>): Promise<{ restartNeeded: string[] }>;
  /** ClassLink discovery, when configured: `refresh()` re-reads the tenant list now. */
  readonly classlink?: { refresh(): Promise<void> };
  /** Stops accepting, lets in-flight requests finish within the grace period, closes upstreams. */
  close(): Promise<void>;
}

export interface StartOptions {
  logger: Logger;
  /** Clock for tokens and upstream token expiry (tests). */
  now?: () => number;
}

/** sandbox://<id>/rest → the started sandbox's origin + /rest. */
function resolveSandboxUrl(url: string, sandboxes: ReadonlyMap<string, Sandbox>): string {
  const m = /^sandbox:\/\/([^/]+)(.*)$/i.exec(url);
  if (!m) return url;
  return sandboxes.get(m[1]!)!.url + m[2];
}

function resolveDistrict(d: DistrictConfig, sandboxes: ReadonlyMap<string, Sandbox>): DistrictConfig {
  const auth = d.auth.type === 'oauth2' ? { ...d.auth, tokenUrl: resolveSandboxUrl(d.auth.tokenUrl, sandboxes) } : d.auth;
  return { ...d, baseUrl: resolveSandboxUrl(d.baseUrl, sandboxes), auth };
}

/** The composition root: builds every service once, then listens. */
export async function startGateway(config: Readonly<GatewayConfig>, options: StartOptions): Promise<RunningGateway> {
  const { logger } = options;
  const sandboxes = new Map<string, Sandbox>();
  for (const s of config.sandboxes) {
    const sandbox = await startSandbox({
      version: s.version,
      auth: s.auth,
      host: s.host,
      port: s.port,
      seed: s.seed,
      users: s.users,
      latencyMs: s.latencyMs,
      ...(s.maxPageSize !== undefined ? { maxPageSize: s.maxPageSize } : {}),
    });
    sandboxes.set(s.id, sandbox);
    logger.info({ msg: 'sandbox started', sandbox: s.id, version: s.version, authType: s.auth.type, users: s.users });
  }

  // Token buckets and semaphores, in Redis when the cache is (shared by the replicas).
  const limits = await createLimits({ store: config.cache.store, keyPrefix: config.cache.keyPrefix, logger });
  const shared: SharedBudgets = {
    crossReplica: limits.kind === 'redis',
    take: (key, cost, rate) => limits.rate.take(key, cost, rate),
    acquire: (key, limit, o) => limits.semaphore.acquire(key, limit, o),
  };
  const clientDeps = { ...(options.now ? { now: options.now } : {}), shared, logger };
  const metrics: Metrics | undefined = config.metrics.enabled ? createMetrics() : undefined;
  /** Every request sent to a district (each retry attempt too), counted and timed. */
  function measured(client: DistrictUpstreamClient): DistrictUpstreamClient {
    if (!metrics) return client;
    const id = client.districtId;
    return {
      districtId: id,
      async request(req) {
        try {
          const res = await client.request(req);
          metrics.upstreamRequest(id, res.status, res.elapsedMs / 1000);
          return res;
        } catch (err) {
          metrics.upstreamRequest(id, (err as { code?: string }).code ?? 'error');
          throw err;
        }
      },
      close: () => client.close(),
      retire: () => client.retire(),
      credentials: () => client.credentials(),
    };
  }
  function buildDistrict(cfg: DistrictConfig): District {
    const d = resolveDistrict(cfg, sandboxes);
    const client = measured(createUpstreamClient(d, clientDeps));
    return assembleDistrict(
      {
        id: d.id,
        name: d.name ?? d.id,
        authType: d.auth.type,
        source: 'config',
        upstreamBase: d.baseUrl,
        maxStitchPages: d.upstream.maxStitchPages,
        maxBodyBytes: d.upstream.maxBodyBytes,
      },
      d.version,
      client,
      {
        ...clientDeps,
        retire: () => client.retire(),
        upstream: d.upstream,
        // The configured credentials, and the access tokens the district's token URL issued.
        secrets: {
          secrets: () => [...authSecrets(d.auth), ...client.credentials()],
          identifiers: () => authIdentifiers(d.auth),
          urls: authUrls(d.baseUrl, d.auth),
        },
      },
    );
  }
  let districtConfigs = new Map(config.districts.map((d) => [d.id, JSON.stringify(d)]));
  const districts = createDistrictRegistry(config.districts.map(buildDistrict));
  const tokens = createTokenService({
    secret: config.auth.tokenSecret,
    ttlSeconds: config.auth.tokenTtlSeconds,
    ...(options.now ? { now: options.now } : {}),
  });
  // Reloadable (SIGHUP): the app holds these wrappers, the current config sits behind them.
  // Each client carries a stamp of its secret, and so do its tokens: a rotated secret ends them.
  const registryOptions = { stamp: tokens.credentialStamp };
  let clientsNow = createClientRegistry(config.auth.clients, registryOptions);
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
    ...(options.now ? { now: options.now } : {}),
  });
  const policyFor = (cfg: Readonly<GatewayConfig>) =>
    createCachePolicy({
      defaults: { ttlSeconds: cfg.cache.ttlSeconds, staleSeconds: cfg.cache.staleSeconds },
      collections: cfg.cache.collections,
      districts: new Map(cfg.districts.map((d) => [d.id, d.cache])),
      negativeTtlSeconds: cfg.cache.negativeTtlSeconds,
    });
  let policyNow = policyFor(config);
  const policy: CachePolicy = {
    freshness: (districtId, collection) => policyNow.freshness(districtId, collection),
    get negativeTtlMs() {
      return policyNow.negativeTtlMs;
    },
  };
  const proxy = createCachedProxy({
    proxy: createProxyService({ bridge: createVersionBridge({ lookups: createLookups(options.now ? { now: options.now } : {}), maxLocalRecords: 100_000 }) }),
    backend,
    policy,
    logger,
    coalesceWaitMs: config.cache.coalesceWaitMs,
    ...(options.now ? { now: options.now } : {}),
    ...(metrics ? { events: { lookup: metrics.cacheLookup, staleServed: metrics.staleServed } } : {}),
  });
  const sync: DeltaSync | undefined = config.cache.deltaSync.enabled
    ? createDeltaSync({
        districts,
        backend,
        logger,
        intervalMs: config.cache.deltaSync.intervalSeconds * 1000,
        overlapMs: config.cache.deltaSync.overlapSeconds * 1000,
        pageSize: config.cache.deltaSync.pageSize,
        ...(options.now ? { now: options.now } : {}),
      })
    : undefined;
  const cacheAdmin = createCacheAdmin(backend);
  const classlink: ClassLinkDiscovery | undefined = config.classlink
    ? createClassLinkDiscovery({
        config: config.classlink,
        registry: districts,
        buildClient: (d) => measured(createUpstreamClient(d, clientDeps)),
        // A tenant that revoked access: nothing of it may be served again, even stale.
        onRemoved: (id) => cacheAdmin.purgeDistrict(id),
        logger,
      })
    : undefined;
  metrics?.setSources({
    cacheStats: () => backend.cache.stats(),
    ...(sync ? { deltaSync: () => sync.seen() } : {}),
    circuits: () =>
      districts.list().flatMap((d) => {
        const b = d.breaker?.();
        return b ? [{ district: d.id, state: b.state }] : [];
      }),
    ...(options.now ? { now: options.now } : {}),
  });

  // The first discovery before listening, so the tenants are there for the first request.
  await classlink?.start();

  let ready = false;
  const http = createApp({
    tokens,
    clients,
    districts,
    proxy,
    cacheAdmin,
    ...(sync ? { syncNow: (id: string) => sync.syncDistrict(id), syncStatus: (id: string) => sync.status(id) } : {}),
    ...(config.admin ? { adminTokenSha256: config.admin.tokenSha256 ?? sha256Hex(config.admin.token!) } : {}),
    logger,
    ...(config.server.publicUrl ? { publicUrl: config.server.publicUrl } : {}),
    isReady: () => ready,
    limits: config.server.limits,
    takeToken: (key: string, cost: number, rate: { requestsPerSecond: number; burst?: number }) => limits.rate.take(key, cost, rate),
    trustProxy: config.server.trustProxy,
    failedAuth: createFailedAuthThrottle({ ...config.auth.failedAuth, take: (key, cost, rate) => limits.rate.take(key, cost, rate) }),
    ...(metrics ? { metrics, metricsAuth: config.metrics.auth } : {}),
  });

  // serve() without its errorHandler would answer what @hono/node-server cannot make a Request
  // of (a backslash in the path, a bad Host header) with a bare 400, outside the JSON envelope.
  const listener = getRequestListener(http.fetch, {
    hostname: config.server.host,
    errorHandler(err) {
      if (!(err instanceof Error && err.name === 'RequestError')) logger.error({ msg: 'unhandled error', ...safeErrorFields(err) });
      return requestErrorResponse(err);
    },
  });
  const { headersTimeoutMs, requestTimeoutMs } = config.server.limits;
  // Slow clients (slowloris): Node refuses a headersTimeout over the requestTimeout, and checks
  // both only every connectionsCheckingInterval (30 s by default), so a few seconds' timeout
  // needs a check at least a few times per timeout.
  const headersTimeout = Math.min(headersTimeoutMs, requestTimeoutMs);
  const serverOptions = {
    headersTimeout,
    requestTimeout: requestTimeoutMs,
    connectionsCheckingInterval: Math.max(100, Math.min(1000, Math.floor(headersTimeout / 4))),
  };
  const server: ServerType = await new Promise((resolve, reject) => {
    const s = createServer(serverOptions, listener);
    s.once('error', reject);
    s.listen(config.server.port, config.server.host, () => resolve(s));
  });
  server.on('clientError', (err: NodeJS.ErrnoException & { rawPacket?: Buffer }, socket: Duplex) => {
    // Node's own answer has no body; a half-sent response cannot take another (a request timeout
    // can fire while an early answer to a still-arriving body is being written: Node checks this too).
    const inFlight = (socket as Duplex & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
    if (err.code === 'ECONNRESET' || !socket.writable || inFlight?.headersSent) return void socket.destroy();
    // The method is readable even when the rest of the request line is not (e.g. a byte > 0x7e in the URL).
    socket.end(parserErrorBytes(err.code, err.rawPacket?.subarray(0, 5).toString('latin1') === 'HEAD '));
  });
  const port = (server.address() as AddressInfo).port;
  const host = config.server.host === '0.0.0.0' || config.server.host === '::' ? '127.0.0.1' : config.server.host;
  ready = true;
  sync?.start();
  logger.info({ msg: 'listening', host: config.server.host, port, districts: districts.list().length });

  // Settings a running gateway cannot swap: listening socket, token signing, cache store, admin, discovery.
  const fixedPart = (cfg: Readonly<GatewayConfig>) => ({
    server: cfg.server,
    'auth.tokenSecret': cfg.auth.tokenSecret,
    'auth.tokenTtlSeconds': cfg.auth.tokenTtlSeconds,
    admin: cfg.admin,
    'cache.store': [cfg.cache.store, cfg.cache.keyPrefix, cfg.cache.maxMemoryBytes, cfg.cache.l1MaxAgeSeconds, cfg.cache.coalesceWaitMs],
    'cache.deltaSync': cfg.cache.deltaSync,
    classlink: cfg.classlink,
    sandboxes: cfg.sandboxes,
  });
  let fixed = fixedPart(config);

  async function reload(next: Readonly<GatewayConfig>): Promise<{ restartNeeded: string[] }> {
    const nextFixed = fixedPart(next);
    const restartNeeded = Object.keys(nextFixed).filter(
      (k) => JSON.stringify(nextFixed[k as keyof typeof nextFixed]) !== JSON.stringify(fixed[k as keyof typeof fixed]),
    );
    const sandboxIds = new Set(sandboxes.keys());
    // A district on a sandbox this process did not start cannot be built: keep the old set.
    const unreachable = next.districts.filter((d) => /^sandbox:\/\/([^/]+)/i.exec(d.baseUrl) && !sandboxIds.has(/^sandbox:\/\/([^/]+)/i.exec(d.baseUrl)![1]!));
    if (unreachable.length > 0) throw new Error(`districts on sandboxes that need a restart: ${unreachable.map((d) => d.id).join(', ')}`);
    const nextConfigs = new Map(next.districts.map((d) => [d.id, JSON.stringify(d)]));
    // Unchanged districts keep their District (and its upstream client, token, in-flight requests).
    const list = next.districts.map((d) => (districtConfigs.get(d.id) === nextConfigs.get(d.id) ? districts.get(d.id)! : buildDistrict(d)));
    clientsNow = createClientRegistry(next.auth.clients, registryOptions);
    policyNow = policyFor(next);
    for (const gone of districts.replaceSource('config', list)) await cacheAdmin.purgeDistrict(gone.id);
    districtConfigs = nextConfigs;
    fixed = { ...nextFixed, ...Object.fromEntries(restartNeeded.map((k) => [k, fixed[k as keyof typeof fixed]])) } as typeof fixed;
    logger.info({ msg: 'config reloaded', districts: next.districts.length, clients: next.auth.clients.length, restartNeeded });
    return { restartNeeded };
  }

  let closing: Promise<void> | undefined;
  return {
    reload,
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    port,
    sandboxes,
    ...(classlink ? { classlink: { refresh: () => classlink.refresh() } } : {}),
    close() {
      closing ??= (async () => {
        // Readiness drops first so a load balancer stops sending new requests; the listener
        // stays open for drainDelayMs so requests routed before the balancer noticed still land.
        ready = false;
        logger.info({ msg: 'draining', drainDelayMs: config.server.drainDelayMs, graceMs: config.server.shutdownGraceMs });
        if (config.server.drainDelayMs > 0) await new Promise((resolve) => setTimeout(resolve, config.server.drainDelayMs));
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        // Keep-alive sockets go as soon as they are idle (their responses said Connection: close).
        const idle = () => 'closeIdleConnections' in server && server.closeIdleConnections();
        idle();
        const sweeper = setInterval(idle, 50);
        const grace = new Promise<void>((resolve) => setTimeout(resolve, config.server.shutdownGraceMs).unref());
        await Promise.race([closed, grace]);
        clearInterval(sweeper);
        if ('closeAllConnections' in server) server.closeAllConnections();
        await sync?.stop();
        await classlink?.stop();
        await districts.close();
        await backend.close();
        await limits.close();
        await Promise.allSettled([...sandboxes.values()].map((s) => s.close()));
        logger.info({ msg: 'stopped' });
      })();
      return closing;
    },
  };
}
