// GET /districts/{id}/changes: the change feed of a mirrored district (service/change-feed.ts
// answers it). The gateway's Bearer token; the district must be one the client may see; the
// collections are those its scopes let it read.
import type { Context } from 'hono';
import type { ClientRegistry } from '../auth/clients.js';
import { MIRROR_COLLECTIONS } from '../core/oneroster/collections.js';
import { ENDPOINTS } from '../core/oneroster/endpoints.js';
import { GatewayError } from '../core/errors.js';
import type { Scope } from '../core/oneroster/scopes.js';
import type { DistrictRegistry } from '../districts/districts.js';
import { FEED_DEFAULT_LIMIT, FEED_MAX_LIMIT, type ChangeFeed } from '../service/change-feed.js';
import type { AppEnv } from './env.js';
import { districtRoot, origin } from './oneroster-route.js';

export interface ChangesRouteOptions {
  feed: ChangeFeed;
  districts: DistrictRegistry;
  clients: ClientRegistry;
  publicUrl?: string;
}

/** The scopes that read each collection: those of its GET route. */
const READ_SCOPES = new Map(
  MIRROR_COLLECTIONS.map((c) => [c, ENDPOINTS.find((e) => e.method === 'GET' && e.template === `/${c}`)?.scopes ?? []] as const),
);

function oneParam(c: Context<AppEnv>, name: string, max: number): string | undefined {
  const all = c.req.queries(name) ?? [];
  if (all.length > 1) throw new GatewayError('invalid_query', `Query parameter ${name} may be given only once.`);
  const v = all[0];
  if (v !== undefined && v.length > max) throw new GatewayError('invalid_query', `Query parameter ${name} is longer than ${max} characters.`);
  return v;
}

export function changesRoute(options: ChangesRouteOptions) {
  return async function changes(c: Context<AppEnv>): Promise<Response> {
    const client = c.get('client');
    const scopes: readonly Scope[] = c.get('scopes') ?? [];
    const id = c.req.param('districtId') ?? '';
    const district = options.districts.get(id);
    if (!district) throw new GatewayError('unknown_district', `No district with id "${id.slice(0, 64)}".`);
    if (!options.clients.canSeeDistrict(client, district.id)) throw new GatewayError('forbidden_district', `This client may not access district "${district.id}".`);
    const collections = MIRROR_COLLECTIONS.filter((col) => READ_SCOPES.get(col)!.some((s) => scopes.includes(s)));
    if (collections.length === 0) throw new GatewayError('insufficient_scope', 'The change feed needs a scope that reads rostering data (roster.readonly, roster-core.readonly or roster-demographics.readonly).');
    const limitText = oneParam(c, 'limit', 10);
    if (limitText !== undefined && !/^[1-9][0-9]*$/.test(limitText)) throw new GatewayError('invalid_query', `limit must be an integer from 1 to ${FEED_MAX_LIMIT}.`);
    const limit = limitText === undefined ? FEED_DEFAULT_LIMIT : Number(limitText);
    if (limit > FEED_MAX_LIMIT) throw new GatewayError('invalid_query', `limit must be an integer from 1 to ${FEED_MAX_LIMIT}.`);
    const version = oneParam(c, 'version', 8);
    if (version !== undefined && version !== 'v1p1' && version !== 'v1p2') throw new GatewayError('invalid_query', 'version must be v1p1 or v1p2.');
    const url = new URL(c.req.url);
    const base = origin(c.req.raw, options.publicUrl, url.origin);
    const answer = await options.feed.read({
      districtId: district.id,
      collections,
      // A cursor holds a sourcedId (base64url): room for any the gateway keeps.
      since: oneParam(c, 'since', 8300),
      limit,
      version,
      linkBase: `${base}/districts/${encodeURIComponent(district.id)}/changes`,
      hrefBase: base + districtRoot(district.id),
    });
    return c.body(answer.body, 200, answer.headers);
  };
}
