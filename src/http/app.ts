import { randomUUID } from 'node:crypto';
import { Hono, type Context } from 'hono';
import type { ClientRegistry } from '../auth/clients.js';
import type { TokenService } from '../auth/tokens.js';
import { GatewayError } from '../core/errors.js';
import { safeErrorFields, type Logger } from '../observability/logger.js';
import type { DistrictRegistry } from '../routing/districts.js';
import type { CachedProxy } from '../service/cached-proxy.js';
import type { CacheAdmin } from '../service/cache-admin.js';
import { mountAdminRoutes } from './admin-routes.js';
import { bearerAuth, bearerAuthenticator } from './bearer-auth.js';
import type { AppEnv } from './env.js';
import { errorResponse } from './error-response.js';
import { oneRosterRoute } from './oneroster-route.js';
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
  maxWriteBodyBytes?: number;
  cacheAdmin: CacheAdmin;
  /** sha256 (hex) of the admin token; undefined: no admin API. */
  adminTokenSha256?: string;
  syncNow?: (districtId: string) => Promise<unknown>;
}

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

export function createApp(deps: AppDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const { logger } = deps;

  function accessLog(c: Context<AppEnv>, status: number, started: number): void {
    if (!logger.isLevelEnabled('info')) return;
    const path = c.req.path;
    logger.info({
      msg: 'request',
      requestId: c.get('requestId'),
      method: c.req.method,
      route: c.get('route') ?? path.split('/').slice(0, 3).join('/'),
      clientId: c.get('client')?.clientId,
      district: c.get('districtId'),
      status,
      cache: c.get('cacheStatus'),
      upstreamMs: c.get('upstreamMs'),
      totalMs: Math.round((performance.now() - started) * 10) / 10,
    });
  }

  app.use(function requestContext(c, next) {
    const given = c.req.header('x-request-id');
    const requestId = given && REQUEST_ID.test(given) ? given : randomUUID();
    c.set('requestId', requestId);
    const path = c.req.path;
    // The OneRoster routes put the id on the Response they build and write their own access
    // line: setting a header on a finished response makes hono copy the whole response, and
    // an extra async frame here costs the cache-hit path measurably (BENCHMARKS.md).
    if (path.includes('/ims/oneroster/')) return next();
    c.header('x-request-id', requestId);
    if (path === '/healthz' || path === '/readyz') return next();
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

  app.post('/oauth/token', tokenRoute(deps));
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
  app.get('/districts', auth, (c) => {
    const client = c.get('client');
    const districts = deps.districts
      .list()
      .filter((d) => deps.clients.canSeeDistrict(client, d.id))
      .map((d) => ({ id: d.id, name: d.name, version: d.version, authType: d.authType }));
    return c.json({ districts });
  });

  const oneRoster = oneRosterRoute({
    districts: deps.districts,
    clients: deps.clients,
    proxy: deps.proxy,
    ...(deps.publicUrl ? { publicUrl: deps.publicUrl } : {}),
    maxWriteBodyBytes: deps.maxWriteBodyBytes ?? 1_048_576,
  });
  const authenticate = bearerAuthenticator(deps);
  const guarded = async (c: Context<AppEnv>) => {
    const started = performance.now();
    let status = 500;
    try {
      authenticate(c);
      const res = await oneRoster(c);
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
  return app;
}
