import type { Context } from 'hono';
import type { ClientRegistry, GatewayClient } from '../auth/clients.js';
import { GatewayError } from '../core/errors.js';
import type { Endpoint } from '../core/oneroster/endpoints.js';
import type { District, DistrictRegistry } from '../districts/districts.js';
import { ROOT_HEADER, type CachedProxy, type CachedProxyRequest, type CachedProxyResponse } from '../service/cached-proxy.js';
import type { AppEnv } from './env.js';
import { createRoutePlanCache } from './route-plan.js';
import { versionRoot } from '../core/oneroster/paths.js';
import { encodeRfc3986 } from '../core/rfc3986.js';
import { checkUrl, type InputLimits } from './input-limits.js';
import { readWriteBody } from './write-body.js';
import type { Answer } from './representation.js';

export interface OneRosterRouteOptions {
  districts: DistrictRegistry;
  clients: ClientRegistry;
  proxy: CachedProxy;
  /** server.publicUrl; when absent, links use the request's own origin. */
  publicUrl?: string;
  limits: InputLimits;
  /** Whether clients' rate limits are enforced (the cached proxy asks them); a client whose hits cost something then skips the synchronous hit. */
  clientLimits?: boolean;
}

const ROOT = '/ims/oneroster';
const DISTRICT_HEADER = 'x-district-id';
const DISTRICT_PREFIX = /^\/districts\/[^/]+$/;

function resolveDistrict(opts: OneRosterRouteOptions, client: GatewayClient, fromPath: string | undefined, header: string | undefined): District {
  let id = fromPath ?? header?.trim();
  if (!id) {
    // Only a client with exactly one district, named outright, may leave it implicit.
    if (client.districts.length === 1 && !client.districts[0]!.includes('*')) id = client.districts[0];
    else {
      throw new GatewayError(
        'district_required',
        'This client may see several districts: name one with the X-District-Id header or use /districts/{id}/ims/oneroster/...',
      );
    }
  }
  const district = opts.districts.get(id!);
  if (!district) throw new GatewayError('unknown_district', `No district with id "${String(id).slice(0, 64)}".`);
  if (!opts.clients.canSeeDistrict(client, district.id)) {
    throw new GatewayError('forbidden_district', `This client may not access district "${district.id}".`);
  }
  return district;
}

function requireScope(endpoint: Endpoint, scopes: readonly string[]): void {
  if (endpoint.scopes.some((s) => scopes.includes(s))) return;
  const need = endpoint.scopes.join(' or ');
  throw new GatewayError('insufficient_scope', `This endpoint needs the scope ${need}.`, {
    headers: { 'www-authenticate': `Bearer realm="oneroster-gateway", error="insufficient_scope", scope="${endpoint.scopes.join(' ')}"` },
  });
}

/** The gateway's origin as the client sees it; `own` is scheme://host of the request. */
export function origin(raw: Request, publicUrl: string | undefined, own: string): string {
  if (publicUrl) return publicUrl;
  // Behind a load balancer the original scheme and host arrive in X-Forwarded-*.
  const proto = raw.headers.get('x-forwarded-proto')?.split(',')[0]?.trim();
  const host = raw.headers.get('x-forwarded-host')?.split(',')[0]?.trim();
  if (!proto && !host) return own;
  const sep = own.indexOf('://');
  const scheme = proto === 'https' || proto === 'http' ? proto : own.slice(0, sep);
  return `${scheme}://${host && /^[A-Za-z0-9.:[\]-]+$/.test(host) ? host : own.slice(sep + 3)}`;
}

/** A request URL's raw (still percent-encoded) path and query, and where the path starts. */
export function splitUrl(url: string): { pathStart: number; rawPath: string; rawQuery: string } {
  const pathStart = url.indexOf('/', url.indexOf('//') + 2);
  const queryStart = url.indexOf('?', pathStart);
  return queryStart < 0
    ? { pathStart, rawPath: url.slice(pathStart), rawQuery: '' }
    : { pathStart, rawPath: url.slice(pathStart, queryStart), rawQuery: url.slice(queryStart + 1) };
}

/** RFC 9111 §5.2.1.4: the client wants an answer validated with the origin. */
function wantsNoCache(raw: Request): boolean {
  const cc = raw.headers.get('cache-control');
  if (cc && /(?:^|,)\s*(?:no-cache|max-age\s*=\s*0)\s*(?:,|$)/i.test(cc)) return true;
  return /no-cache/i.test(raw.headers.get('pragma') ?? '');
}

function decodeSegment(s: string): string {
  if (!s.includes('%')) return s;
  try {
    return decodeURIComponent(s);
  } catch {
    throw new GatewayError('invalid_query', 'The request path has malformed percent-encoding.');
  }
}

const roots = new Map<string, string>();
/** `/districts/{id}/ims/oneroster`, the canonical root of a district at the gateway. */
export function districtRoot(id: string): string {
  let root = roots.get(id);
  if (!root) roots.set(id, (root = `/districts/${encodeURIComponent(id)}${ROOT}`));
  return root;
}

/** Who asks, as the bearer check established it. */
export interface Caller {
  client: GatewayClient;
  /** The token's scopes the client still holds. */
  scopes: readonly string[];
  requestId: string;
}

/** What a OneRoster request asks of the cached proxy, and what the access log says of it. */
export interface RoutedRequest {
  /** GET for HEAD. */
  method: string;
  district: District;
  route: string;
  req: CachedProxyRequest;
  /** The client pays for cache hits too: its bucket must be asked, so no synchronous hit. */
  hitsCharged: boolean;
}

/** The answer as the client gets it, before its representation: X-Cache, Age, Cache-Control and the request id added. */
export function clientAnswer(res: CachedProxyResponse, requestId: string): Answer {
  const headers: Record<string, string> = {};
  for (const name in res.headers) if (name !== ROOT_HEADER) headers[name] = res.headers[name]!;
  headers['x-cache'] = res.cache;
  headers['cache-control'] = 'private';
  headers['x-request-id'] = requestId;
  if (res.ageSeconds !== undefined) headers.age = String(res.ageSeconds);
  // What this answer cost the district (curl -v, the warm command); absent on a cache hit.
  if (res.upstreamRequests > 0) headers['server-timing'] = `upstream;dur=${res.upstreamMs.toFixed(1)};desc="${res.upstreamRequests}"`;
  const answer: Answer = { status: res.status, headers, body: res.body };
  if (res.digest !== undefined) answer.digest = res.digest;
  if (res.encoded !== undefined) answer.encoded = res.encoded;
  return answer;
}

/**
 * Every /ims/oneroster call, with the district from the path, the X-District-Id header or
 * the client. `route` reads a request synchronously (district, endpoint, scope: every
 * refusal happens here, before the cache); `freshHit` or `answer` answers it. The order, the
 * access line and the response are the pipeline's (oneroster-pipeline.ts).
 */
export function oneRosterRoute(opts: OneRosterRouteOptions) {
  if (!opts?.districts || !opts.clients || !opts.proxy) throw new Error('oneRosterRoute: districts, clients and proxy are required');
  const plans = createRoutePlanCache();

  function route(raw: Request, caller: Caller): RoutedRequest {
    // The raw (still percent-encoded) path and query, as sent.
    const url = raw.url;
    const { pathStart, rawPath, rawQuery } = splitUrl(url);
    checkUrl(rawPath, rawQuery, opts.limits);
    const at = rawPath.indexOf(ROOT);
    const prefix = rawPath.slice(0, at);
    // What the router mounts: /ims/oneroster/... and /districts/{one segment}/ims/oneroster/...
    if (at < 0 || (prefix !== '' && !DISTRICT_PREFIX.test(prefix))) throw new GatewayError('not_found', 'No such route.');
    const fromPath = prefix.startsWith('/districts/') ? decodeSegment(prefix.slice('/districts/'.length)) : undefined;
    const district = resolveDistrict(opts, caller.client, fromPath, fromPath === undefined ? (raw.headers.get(DISTRICT_HEADER) ?? undefined) : undefined);

    const method = raw.method === 'HEAD' ? 'GET' : raw.method;
    const { path, endpoint, params, query, route, tags } = plans.plan(method, rawPath.slice(at + ROOT.length), rawQuery);
    requireScope(endpoint, caller.scopes);

    const base = origin(raw, opts.publicUrl, url.slice(0, pathStart));
    // One canonical form of the resource, whatever the client sent: decoded segments encoded
    // again one way (`/c%6Furses` and `/courses` are one page), below the district's own root
    // (the X-District-Id and /districts/{id} forms are one page). The origin is not part of
    // it: the cached answer is re-pointed at each asking origin instead (cached-proxy).
    const root = districtRoot(district.id);
    const resource = `${root}${versionRoot(path.version, endpoint.service)}/${path.segments.map(encodeRfc3986).join('/')}`;
    const req: CachedProxyRequest = {
      district,
      version: path.version,
      service: endpoint.service,
      endpoint,
      segments: path.segments,
      params,
      query,
      tags,
      noCache: caller.client.allowNoCache && wantsNoCache(raw),
      requestId: caller.requestId,
      resource,
      linkBase: base + resource,
      hrefBase: base + root,
      // Where the client's own links start: the form it used.
      clientRoot: base + (fromPath === undefined ? ROOT : root),
    };
    // Only writes are cancelled with their client; a read's fetch may serve other waiters.
    if (endpoint.kind === 'write') req.signal = raw.signal;
    const limit = opts.clientLimits ? caller.client.rateLimit : undefined;
    if (limit) req.caller = { clientId: caller.client.clientId, rateLimit: limit };
    return { method, district, route, req, hitsCharged: (limit?.hitCost ?? 0) > 0 };
  }

  return {
    route,
    /** The answer from a page this process holds fresh in L1, synchronously; or undefined (then `answer`). */
    freshHit(routed: RoutedRequest): CachedProxyResponse | undefined {
      // A client whose hits cost something goes the full way, where its bucket is asked.
      if (routed.hitsCharged) return undefined;
      return opts.proxy.freshHit(routed.req);
    },
    /** The answer the whole way: the write body read and checked, then the cached proxy. */
    async answer(c: Context<AppEnv>, routed: RoutedRequest): Promise<CachedProxyResponse> {
      const { req, method } = routed;
      if (req.endpoint.kind === 'write' && method !== 'DELETE') {
        const body = await readWriteBody(c, opts.limits.maxWriteBodyBytes, opts.limits.bodyIdleTimeoutMs);
        req.body = body.text;
        req.parsedBody = body.value;
      }
      return opts.proxy.handle(req);
    },
  };
}

export type OneRosterRoute = ReturnType<typeof oneRosterRoute>;
