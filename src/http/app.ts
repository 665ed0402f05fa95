import { Hono, type Context, type MiddlewareHandler } from 'hono';
import type { ClientRegistry } from '../auth/clients.js';
import type { FailedAuthThrottle } from '../auth/failed-auth-throttle.js';
import type { TokenService } from '../auth/tokens.js';
import { GatewayError } from '../core/errors.js';
import { safeErrorFields, type Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import type { DistrictRegistry } from '../districts/districts.js';
import type { CachedProxy } from '../service/cached-proxy.js';
import type { CacheAdmin } from '../service/cache-admin.js';
import { adminAuth, mountAdminRoutes, type MirrorControl } from './admin-routes.js';
import { accessLog, honoRouteLabel, type AccessLog } from './access-log.js';
import { bearerAuth, bearerVerifier } from './bearer-auth.js';
import { districtsRoutes } from './districts-route.js';
import type { AppEnv } from './env.js';
import { errorResponse } from './error-response.js';
import { DEFAULT_INPUT_LIMITS, type InputLimits } from './input-limits.js';
import { oneRosterPipeline } from './oneroster-pipeline.js';
import { oneRosterRoute, splitUrl } from './oneroster-route.js';
import { changesRoute } from './changes-route.js';
import type { ChangeFeed } from '../service/change-feed.js';
import { tokenRoute } from './token-route.js';
import { createBodyCoder, type BodyCoder } from '../compression/body-coder.js';
import { representation, type Represent } from './representation.js';

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
  /** The districts' mirrors: the `mirror` object of GET /districts, and the admin's refresh. */
  mirror?: MirrorControl;
  /** GET /districts/{id}/changes. */
  changeFeed?: ChangeFeed;
  /** Prometheus metrics; absent: no /metrics and nothing recorded. */
  metrics?: Metrics;
  /** `admin`: /metrics needs the admin token. */
  metricsAuth?: 'none' | 'admin';
  /** Whether the cached proxy enforces client rate limits (it was built with an admission). */
  clientLimits?: boolean;
  /** server.trustProxy: client addresses come from the right-most X-Forwarded-For entry. */
  trustProxy?: boolean;
  /** auth.failedAuth, built on the rate limits; absent: failed client authentication is only logged. */
  failedAuth?: FailedAuthThrottle;
  /** server.compression as a body coder; absent: the defaults (br and gzip from 1 KiB). */
  coder?: BodyCoder;
}

/** The gateway's HTTP surface, as a fetch handler for @hono/node-server. */
export interface GatewayHttp {
  fetch(raw: Request, env?: unknown): Response | Promise<Response>;
}

export function createApp(deps: AppDeps): GatewayHttp {
  const app = new Hono<AppEnv>();
  const { logger, metrics } = deps;
  const access = accessLog({ logger, metrics });
  const limits = deps.limits ?? DEFAULT_INPUT_LIMITS;
  const represent = representation(deps.coder ?? createBodyCoder());
  const oneRoster = oneRosterPipeline({
    verify: bearerVerifier(deps),
    oneRoster: oneRosterRoute({
      districts: deps.districts,
      clients: deps.clients,
      proxy: deps.proxy,
      ...(deps.publicUrl ? { publicUrl: deps.publicUrl } : {}),
      limits,
      ...(deps.clientLimits ? { clientLimits: true } : {}),
    }),
    access,
    represent,
  });

  app.use(requestContext(oneRoster.requestIdFor, access));
  app.onError(errorEnvelope(logger));
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
    ...(deps.mirror ? { mirror: deps.mirror } : {}),
  });
  const districts = districtsRoutes(deps);
  app.get('/districts', districts.auth, districts.list);
  app.get('/districts/:districtId', districts.auth, districts.one);
  if (deps.changeFeed) {
    const feed = changesRoute({ feed: deps.changeFeed, districts: deps.districts, clients: deps.clients, ...(deps.publicUrl ? { publicUrl: deps.publicUrl } : {}) });
    app.get('/districts/:districtId/changes', bearerAuth(deps), feed);
  }
  app.all('/ims/oneroster/*', oneRoster.handler);
  app.all('/districts/:districtId/ims/oneroster/*', oneRoster.handler);

  return {
    fetch(raw: Request, env?: unknown) {
      // A fresh hit is answered before hono; anything else goes through it, already admitted.
      const res = oneRoster.fastPath(raw) ?? representRest(represent, raw, app.fetch(raw, env));
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

/** The request id on every request, and the access line of every route but OneRoster's (the pipeline writes those). */
function requestContext(requestIdFor: (raw: Request) => string, access: AccessLog): MiddlewareHandler<AppEnv> {
  return function requestContext(c, next) {
    const requestId = requestIdFor(c.req.raw);
    c.set('requestId', requestId);
    const path = c.req.path;
    // The OneRoster routes put the id on the Response they build and write their own access
    // line: setting a header on a finished response makes hono copy the whole response, and
    // an extra async frame here costs the OneRoster path measurably (BENCHMARKS.md).
    if (servedByPipeline(path)) return next();
    c.header('x-request-id', requestId);
    if (path === '/healthz' || path === '/readyz' || path === '/metrics') return next();
    const started = performance.now();
    return next().then(() => {
      if (!access.wanted()) return;
      const status = c.res.status;
      const route = honoRouteLabel(c, status);
      const clientId = c.get('client')?.clientId;
      access.write({ requestId, method: c.req.method, route, clientId, district: undefined, status, cache: undefined, upstreamMs: undefined, started });
    });
  };
}

/**
 * The coding and entity tag of what the other routes answer (GET /districts, the change feed,
 * /metrics): read back from hono's Response, as they are neither hot nor cached.
 */
function representRest(represent: Represent, raw: Request, pending: Response | Promise<Response>): Response | Promise<Response> {
  // The pipeline represents its own answers (its errors are small status-info bodies).
  if (servedByPipeline(splitUrl(raw.url).rawPath)) return pending;
  return Promise.resolve(pending).then((res) => representResponse(represent, raw, res));
}

async function representResponse(represent: Represent, raw: Request, res: Response): Promise<Response> {
  if (res.body === null || res.headers.has('content-encoding')) return res;
  const headers: Record<string, string> = {};
  res.headers.forEach((value, name) => (headers[name] = value));
  delete headers['content-length'];
  const body = Buffer.from(await res.arrayBuffer());
  return represent(raw, { status: res.status, headers, body }, raw.method === 'HEAD');
}

/** The paths the OneRoster routes below take (any other path, `/x/ims/oneroster/...` too, is logged here). */
function servedByPipeline(path: string): boolean {
  if (path.startsWith('/ims/oneroster')) return path.length === 14 || path.charCodeAt(14) === 47;
  if (!path.startsWith('/districts/')) return false;
  const slash = path.indexOf('/', 11);
  return slash > 11 && path.startsWith('/ims/oneroster', slash) && (path.length === slash + 14 || path.charCodeAt(slash + 14) === 47);
}

/** The one place an error thrown by a route becomes its response (error-response.ts builds it). */
function errorEnvelope(logger: Logger) {
  return function onError(err: Error, c: Context<AppEnv>): Response {
    const path = c.req.path;
    if (err instanceof GatewayError) return errorResponse(err, path, c.get('requestId'));
    if (err instanceof Error && err.name === 'UpstreamError' && (err as { code?: string }).code === 'UPSTREAM_ABORTED') {
      // The client went away; nobody reads this answer.
      return errorResponse(new GatewayError('upstream_unreachable', 'The request was aborted.', { status: 499 }), path, c.get('requestId'));
    }
    logger.error({ msg: 'unhandled error', requestId: c.get('requestId'), ...safeErrorFields(err) });
    return errorResponse(new GatewayError('internal', 'Internal error; see the gateway log with this request id.'), path, c.get('requestId'));
  };
}
