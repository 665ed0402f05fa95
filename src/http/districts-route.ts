// GET /districts and GET /districts/{id}: the districts a caller may see, with their state. A
// client sees its own districts; the admin token (an operator with curl) sees every one.
import type { Context, MiddlewareHandler } from 'hono';
import type { ClientRegistry } from '../auth/clients.js';
import type { TokenService } from '../auth/tokens.js';
import { GatewayError } from '../core/errors.js';
import type { District, DistrictRegistry } from '../districts/districts.js';
import type { CachedProxy } from '../service/cached-proxy.js';
import { adminTokenMatcher, type MirrorControl } from './admin-routes.js';
import { bearerAuthenticator } from './bearer-auth.js';
import type { AppEnv } from './env.js';

export interface DistrictsRouteOptions {
  tokens: TokenService;
  clients: ClientRegistry;
  districts: DistrictRegistry;
  proxy: Pick<CachedProxy, 'stats'>;
  /** sha256 (hex) of the admin token; undefined: only clients' tokens are accepted. */
  adminTokenSha256?: string;
  syncStatus?: (districtId: string) => Promise<object | undefined>;
  mirror?: Pick<MirrorControl, 'status'>;
}

export interface DistrictsRoutes {
  /** Authenticates a client token or the admin token; a client's request gets `client` set. */
  auth: MiddlewareHandler<AppEnv>;
  list(c: Context<AppEnv>): Promise<Response>;
  one(c: Context<AppEnv>): Promise<Response>;
}

export function districtsRoutes(opts: DistrictsRouteOptions): DistrictsRoutes {
  if (!opts?.districts || !opts.clients || !opts.tokens || !opts.proxy) throw new Error('districtsRoutes: tokens, clients, districts and proxy are required');
  const authenticate = bearerAuthenticator(opts);
  const isAdmin = adminTokenMatcher(opts.adminTokenSha256);
  // Admin: no client on the context. Every district is visible to it.
  const visible = (c: Context<AppEnv>, id: string) => {
    const client = c.get('client');
    return client === undefined || opts.clients.canSeeDistrict(client, id);
  };

  async function entry(d: District) {
    const [synced, mirror] = await Promise.all([opts.syncStatus?.(d.id), opts.mirror?.status(d.id)]);
    return {
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
      cache: opts.proxy.stats(d.id),
      deltaSync: opts.syncStatus ? (synced ?? { lastRunAt: null }) : { enabled: false },
      mirror: mirror ?? { state: 'off' },
    };
  }

  return {
    auth: async function districtsAuth(c, next) {
      if (!isAdmin(c.req.header('authorization'))) authenticate(c);
      await next();
    },
    async list(c) {
      const districts = await Promise.all(opts.districts.list().filter((d) => visible(c, d.id)).map(entry));
      return c.json({ districts });
    },
    async one(c) {
      const d = opts.districts.get(c.req.param('districtId') ?? '');
      // One answer for a district that does not exist and one the caller may not see: an id
      // is not a way to learn which districts the gateway serves. The id is not echoed.
      if (!d || !visible(c, d.id)) throw new GatewayError('unknown_district', 'No such district, or not one this client may use.');
      return c.json({ district: await entry(d) });
    },
  };
}
