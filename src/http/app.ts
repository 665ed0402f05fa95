import { randomUUID } from 'node:crypto';
import { Hono, type Context } from 'hono';
import type { ClientRegistry } from '../auth/clients.js';
import type { FailedAuthThrottle } from '../auth/failed-auth-throttle.js';
import type { TokenService } from '../auth/tokens.js';
import { GatewayError } from '../core/errors.js';
import { safeErrorFields, type Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import type { DistrictRegistry } from '../routing/districts.js';
import type { CachedProxy } from '../service/cached-proxy.js';
import type { CacheAdmin } from '../service/cache-admin.js';
import { adminAuth, mountAdminRoutes } from './admin-routes.js';
import { bearerAuth, bearerAuthenticator, bearerVerifier } from './bearer-auth.js';
import type { AppEnv } from './env.js';
import { errorResponse } from './error-response.js';
import { DEFAULT_INPUT_LIMITS, type InputLimits } from './input-limits.js';
import { oneRosterRoute, type OneRosterRouteOptions } from './oneroster-route.js';
import { tokenRoute } from './token-route.js';

export interface AppDeps {
  tokens: TokenService;
  clients: ClientRegistry;
  districts: DistrictRegistry;
  proxy: CachedProxy;
  logger: Logger;
  publicUrl?: string;
  /** False while starting and while draining for shutdown. */
  isReady: () => boolean;
  /** server.limits; defaults when absent. */
  limits?: InputLimits;
  cacheAdmin: CacheAdmin;
  /** sha256 (hex) of the admin token; undefined: no admin API. */
  adminTokenSha256?: string;
  syncNow?: (districtId: string) => Promise<unknown>;
  /** A district's last delta sync (shared by the replicas); absent when delta sync is off. */
  syncStatus?: (districtId: string) => Promise<object | undefined>;
  /** Prometheus metrics; absent: no /metrics and nothing recorded. */
  metrics?: Metrics;
  /** `admin`: /metrics needs the admin token. */
  metricsAuth?: 'none' | 'admin';
  /** Client rate limits' token buckets; absent: clients are not limited. */
  takeToken?: OneRosterRouteOptions['takeToken'];
  /** server.trustProxy: client addresses come from the right-most X-Forwarded-For entry. */
  trustProxy?: boolean;
  /** auth.failedAuth, built on the rate limits; absent: failed client authentication is only logged. */
  failedAuth?: FailedAuthThrottle;
}

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** The gateway's HTTP surface, as a fetch handler for @hono/node-server. */
export interface GatewayHttp {
  fetch(raw: Request, env?: unknown): Response | Promise<Response>;
}

export function createApp(deps: AppDeps): GatewayHttp {
  const app = new Hono<AppEnv>();
  const { logger } = deps;

  interface AccessLine {
    requestId: string | undefined;
    method: string;
    route: string;
    clientId: string | undefined;
    district: string | undefined;
    status: number;
    cache: string | undefined;
    upstreamMs: number | undefined;
    started: number;
  }
  const { metrics } = deps;
  /** The request's metrics, and its access line when info logging is on. */
  function writeAccessLine(a: AccessLine): void {
    const totalMs = performance.now() - a.started;
    metrics?.httpRequest(a.district ?? '', a.route, a.status, a.cache ?? '', totalMs / 1000);
    if (!logger.isLevelEnabled('info')) return;
    logger.info({
      msg: 'request',
      requestId: a.requestId,
      method: a.method,
      route: a.route,
      clientId: a.clientId,
      district: a.district,
      status: a.status,
      cache: a.cache,
      upstreamMs: a.upstreamMs,
      totalMs: Math.round(totalMs * 10) / 10,
    });
  }
  function accessLog(c: Context<AppEnv>, status: number, started: number): void {
    if (!metrics && !logger.isLevelEnabled('info')) return;
    writeAccessLine({
      requestId: c.get('requestId'),
      method: c.req.method,
      // The matched route pattern: a bounded set (a metrics label), never ids or junk paths.
      route: c.get('route') ?? `${c.req.method} ${status === 404 && c.req.routePath.includes('*') ? 'unmatched' : c.req.routePath}`,
      clientId: c.get('client')?.clientId,
      district: c.get('districtId'),
      status,
      cache: c.get('cacheStatus'),
      upstreamMs: c.get('upstreamMs'),
      started,
    });
  }
  const requestIdOf = (given: string | null | undefined) => (given && REQUEST_ID.test(given) ? given : randomUUID());

  app.use(function requestContext(c, next) {
    const requestId = requestIdOf(c.req.header('x-request-id'));
    c.set('requestId', requestId);
    const path = c.req.path;
    // The OneRoster routes put the id on the Response they build and write their own access
    // line: setting a header on a finished response makes hono copy the whole response, and
    // an extra async frame here costs the cache-hit path measurably (BENCHMARKS.md).
    if (path.includes('/ims/oneroster/')) return next();
    c.header('x-request-id', requestId);
    if (path === '/healthz' || path === '/readyz' || path === '/metrics') return next();
    const started = performance.now();
    return next().then(() => accessLog(c, c.res.status, started));
  });

  app.onError(function onError(err, c) {
    const path = c.req.path;
    if (err instanceof GatewayError) return errorResponse(err, path, c.get('requestId'));
    if (err instanceof Error && err.name === 'UpstreamError' && (err as { code?: string }).code === 'UPSTREAM_ABORTED') {
      // The client went away; nobody reads this answer.
      return errorResponse(new GatewayError('upstream_unreachable', 'The request was aborted.', { status: 499 }), path, c.get('requestId'));
    }
    logger.error({ msg: 'unhandled error', requestId: c.get('requestId'), ...safeErrorFields(err) });
    return errorResponse(new GatewayError('internal', 'Internal error; see the gateway log with this request id.'), path, c.get('requestId'));
  });

  app.notFound(function notFound(c) {
    return errorResponse(new GatewayError('not_found', 'No such route.'), c.req.path, c.get('requestId'));
  });

  app.get('/healthz', (c) => c.json({ status: 'ok' }));
  app.get('/readyz', (c) => (deps.isReady() ? c.json({ status: 'ready' }) : c.json({ status: 'not ready' }, 503)));

  if (metrics) {
    const scrape = async (c: Context<AppEnv>) => c.body(await metrics.text(), 200, { 'content-type': metrics.contentType });
    if (deps.metricsAuth === 'admin') app.get('/metrics', adminAuth(deps.adminTokenSha256), scrape);
    else app.get('/metrics', scrape);
  }

  const limits = deps.limits ?? DEFAULT_INPUT_LIMITS;
  app.post(
    '/oauth/token',
    tokenRoute({
      tokens: deps.tokens,
      clients: deps.clients,
      logger,
      limits,
      trustProxy: deps.trustProxy ?? false,
      ...(deps.failedAuth ? { throttle: deps.failedAuth } : {}),
      ...(metrics ? { metrics } : {}),
    }),
  );
  app.all('/oauth/token', () => {
    throw new GatewayError('method_not_allowed', 'Use POST for /oauth/token.', { headers: { allow: 'POST' } });
  });

  mountAdminRoutes(app, {
    districts: deps.districts,
    cacheAdmin: deps.cacheAdmin,
    ...(deps.adminTokenSha256 ? { tokenSha256: deps.adminTokenSha256 } : {}),
    ...(deps.syncNow ? { syncNow: deps.syncNow } : {}),
  });

  const auth = bearerAuth(deps);
  app.get('/districts', auth, async (c) => {
    const client = c.get('client');
    const visible = deps.districts.list().filter((d) => deps.clients.canSeeDistrict(client, d.id));
    const synced = await Promise.all(visible.map((d) => deps.syncStatus?.(d.id)));
    const districts = visible.map((d, i) => ({
      id: d.id,
      name: d.name,
      source: d.source,
      // `auto` before the district answered the probe: null.
      version: d.versionProbe ? (d.versionProbe.current() ?? null) : d.version,
      ...(d.versionProbe ? { versionProbe: d.versionProbe.state() } : {}),
      authType: d.authType,
      health: d.health?.() ?? {},
      // closed / open / half-open, with when it opened and when it will be tried again.
      ...(d.breaker ? { circuit: d.breaker() } : {}),
      cache: deps.proxy.stats(d.id),
      deltaSync: deps.syncStatus ? (synced[i] ?? { lastRunAt: null }) : { enabled: false },
    }));
    return c.json({ districts });
  });

  const oneRoster = oneRosterRoute({
    districts: deps.districts,
    clients: deps.clients,
    proxy: deps.proxy,
    ...(deps.publicUrl ? { publicUrl: deps.publicUrl } : {}),
    limits,
    ...(deps.takeToken ? { takeToken: deps.takeToken } : {}),
    ...(metrics ? { onRateLimited: (id: string) => metrics.rateLimited(id) } : {}),
  });
  const authenticate = bearerAuthenticator(deps);
  const guarded = async (c: Context<AppEnv>) => {
    const started = performance.now();
    let status = 500;
    try {
      const who = authenticate(c);
      const routed = oneRoster.route(c.req.raw, { client: who.client, scopes: who.scopes, requestId: c.get('requestId') });
      c.set('districtId', routed.district.id);
      c.set('route', routed.route);
      const res = await oneRoster.handle(c, routed);
      status = res.status;
      return res;
    } catch (err) {
      if (err instanceof GatewayError) status = err.status;
      throw err;
    } finally {
      accessLog(c, status, started);
    }
  };
  app.all('/ims/oneroster/*', guarded);
  app.all('/districts/:districtId/ims/oneroster/*', guarded);

  const verifyBearer = bearerVerifier(deps);
  /**
   * The commonest request, a GET of a page this process holds fresh, answered without hono's
   * router, middleware chain or a promise turn: @hono/node-server writes a synchronously
   * returned Response at once (BENCHMARKS.md, hit path). The checks are the same functions
   * the full route runs; anything but a fresh hit (including every error) goes the full way.
   */
  function freshHit(raw: Request): Response | undefined {
    if (raw.method !== 'GET' || !raw.url.includes('/ims/oneroster/')) return undefined;
    const started = performance.now();
    try {
      const requestId = requestIdOf(raw.headers.get('x-request-id'));
      const who = verifyBearer(raw.headers.get('authorization'));
      const routed = oneRoster.route(raw, { client: who.client, scopes: who.scopes, requestId });
      const res = oneRoster.freshHit(routed, false);
      if (res) {
        writeAccessLine({
          requestId,
          method: 'GET',
          route: routed.route,
          clientId: who.client.clientId,
          district: routed.district.id,
          status: res.status,
          cache: 'HIT',
          upstreamMs: 0,
          started,
        });
      }
      return res;
    } catch {
      return undefined; // the full route answers with the error
    }
  }

  return {
    fetch(raw: Request, env?: unknown) {
      const res = freshHit(raw) ?? app.fetch(raw, env);
      if (deps.isReady()) return res;
      // Draining for shutdown: the client should not reuse this connection.
      const close = (r: Response) => {
        r.headers.set('connection', 'close');
        return r;
      };
      return res instanceof Promise ? res.then(close) : close(res);
    },
  };
}
