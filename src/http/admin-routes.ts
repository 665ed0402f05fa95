import { createHash, timingSafeEqual } from 'node:crypto';
import type { Hono, MiddlewareHandler } from 'hono';
import { GatewayError } from '../core/errors.js';
import { baseCollection } from '../core/oneroster/collections.js';
import type { DistrictRegistry } from '../districts/districts.js';
import type { CacheAdmin } from '../service/cache-admin.js';
import type { AppEnv } from './env.js';

export interface AdminOptions {
  /** sha256 (hex) of the admin token; undefined: no admin API. */
  tokenSha256?: string;
  districts: DistrictRegistry;
  cacheAdmin: CacheAdmin;
  /** Runs a delta sync of one district now; undefined while delta sync is off. */
  syncNow?: (districtId: string) => Promise<unknown>;
  mirror?: MirrorControl;
}

/** What http asks of the districts' mirrors (src/mirror/mirror-service.ts answers it). */
export interface MirrorControl {
  /** The `mirror` object of the district's GET /districts entry (`state: "off"` when it is not mirrored). */
  status(districtId: string): Promise<{ state: string }>;
  /** Starts a full pull now; `started: false` when one is already running. `force` skips the shrink guard. */
  refresh(districtId: string, force?: boolean): { started: boolean; done: Promise<unknown> };
}

/** Whether an Authorization header value carries the admin token; always false without one configured. */
export function adminTokenMatcher(tokenSha256: string | undefined): (authorization: string | undefined) => boolean {
  const expected = tokenSha256 ? Buffer.from(tokenSha256, 'hex') : undefined;
  return function isAdminToken(authorization) {
    if (!expected) return false;
    const m = /^Bearer[ ]+(\S+)\s*$/i.exec(authorization ?? '');
    // Compared as digests: equal lengths, and no timing tells how much of the token matched.
    const given = m ? createHash('sha256').update(m[1]!).digest() : undefined;
    return given !== undefined && timingSafeEqual(given, expected);
  };
}

export function adminAuth(tokenSha256: string | undefined): MiddlewareHandler<AppEnv> {
  const isAdmin = adminTokenMatcher(tokenSha256);
  return async function adminAuth(c, next) {
    if (!tokenSha256) throw new GatewayError('not_found', 'The admin API is not configured (no admin block in the config).');
    if (!isAdmin(c.req.header('authorization'))) {
      throw new GatewayError('invalid_token', 'The admin API needs Authorization: Bearer <admin token>.', {
        headers: { 'www-authenticate': 'Bearer realm="oneroster-gateway-admin"' },
      });
    }
    await next();
  };
}

/** /admin: purge a district, a collection or one record from the cache; run a delta sync now. */
export function mountAdminRoutes(app: Hono<AppEnv>, opts: AdminOptions): void {
  const districtOf = (id: string) => {
    const d = opts.districts.get(id);
    if (!d) throw new GatewayError('unknown_district', `No district with id "${id.slice(0, 64)}".`);
    return d;
  };
  const collectionOf = (name: string) => {
    const c = baseCollection(name);
    if (!c) throw new GatewayError('not_found', `Unknown collection "${name.slice(0, 64)}".`);
    return c;
  };
  app.use('/admin/*', adminAuth(opts.tokenSha256));
  app.delete('/admin/cache/districts/:id', async (c) => {
    const d = districtOf(c.req.param('id'));
    await opts.cacheAdmin.purgeDistrict(d.id);
    return c.json({ purged: { district: d.id } });
  });
  app.delete('/admin/cache/districts/:id/:collection', async (c) => {
    const d = districtOf(c.req.param('id'));
    const collection = collectionOf(c.req.param('collection'));
    await opts.cacheAdmin.purgeCollection(d.id, collection);
    return c.json({ purged: { district: d.id, collection } });
  });
  app.delete('/admin/cache/districts/:id/:collection/:sourcedId', async (c) => {
    const d = districtOf(c.req.param('id'));
    const collection = collectionOf(c.req.param('collection'));
    const sourcedId = c.req.param('sourcedId');
    await opts.cacheAdmin.purgeRecord(d.id, collection, sourcedId);
    return c.json({ purged: { district: d.id, collection, sourcedId } });
  });
  app.post('/admin/districts/:id/sync', async (c) => {
    const d = districtOf(c.req.param('id'));
    if (!opts.syncNow) throw new GatewayError('version_not_supported', 'Delta sync is disabled (cache.deltaSync.enabled: false).');
    return c.json({ district: d.id, sync: await opts.syncNow(d.id) });
  });
  // 202 at once: a full pull of a large district takes minutes. GET /districts shows how it went.
  app.post('/admin/districts/:id/mirror/refresh', async (c) => {
    const d = districtOf(c.req.param('id'));
    const { mirror } = opts;
    if (!mirror || (await mirror.status(d.id)).state === 'off') {
      throw new GatewayError('version_not_supported', `District "${d.id}" is not mirrored (districts[].mirror in the config).`);
    }
    const force = c.req.query('force') === 'true';
    const { started } = mirror.refresh(d.id, force);
    return c.json({ district: d.id, mirror: { refresh: started ? 'started' : 'running', force } }, 202);
  });
}
