// What the gateway caches of OneRoster and how: which routes and for how long, which
// errors are outages (a stale page beats them), what a stored answer keeps, the negative
// answer for a single object the district says is gone, and re-pointing an answer built for
// another origin. The read-through in cache/ does the rest, knowing none of this.
import type { Loaded } from '../cache/read-through.js';
import type { CachedResponse } from '../cache/types.js';
import { GatewayError, statusInfoBody } from '../core/errors.js';
import { routeCollection } from '../core/oneroster/cache-tags.js';
import type { CachePolicy, ResolvedFreshness } from './cache-policy.js';
import type { ProxyRequest, ProxyResponse, ProxyService } from './proxy-types.js';

/** Kept with a cached answer: the root (origin and district path) its hrefs and links were built on. */
export const ROOT_HEADER = 'x-gateway-root';
const KEPT_HEADERS = ['content-type', 'x-total-count', 'link'];

// Statuses that mean the district is down or overloaded, when a stale page beats an error.
const OUTAGE = new Set([
  'upstream_timeout',
  'upstream_unreachable',
  'upstream_bad_response',
  'upstream_auth_failed',
  'upstream_busy',
  'upstream_circuit_open',
  'upstream_too_large',
]);

export function isOutage(err: unknown): boolean {
  if (!(err instanceof GatewayError)) return false;
  return OUTAGE.has(err.code) || (err.code === 'upstream_status' && (err.status >= 500 || err.status === 429));
}

/** How long this read's answer stays fresh and stale; undefined for what never comes from the cache (writes, ttl and stale 0). */
export function cacheableFor(policy: CachePolicy, req: Pick<ProxyRequest, 'district' | 'endpoint'>): ResolvedFreshness | undefined {
  if (req.endpoint.kind === 'write') return undefined;
  const fresh = policy.freshness(req.district.id, routeCollection(req.endpoint));
  return fresh.ttlMs === 0 && fresh.staleMs === 0 ? undefined : fresh;
}

/**
 * What a stored page carries beside its body, made once when it is stored rather than on every
 * hit: its digest (entity tags) and its content codings (compression/body-coder.ts).
 */
export interface StoredForms {
  digest(body: Buffer): string;
  encodeAll(body: Buffer, contentType: string | undefined): Promise<Record<string, Buffer> | undefined>;
}

/** What a fetch cost the district. */
export interface UpstreamCost {
  requests: number;
  ms: number;
  /** The answer was built from data served stale (page-blocks.ts): it goes out as STALE. */
  stale?: boolean;
}

/**
 * The loader the read-through calls on a miss: asks the district, keeps what the answer
 * needs (and the root it was built on), stores only 200s; a single object's 404 is kept
 * briefly as a negative answer, never as stale.
 */
export async function loadForCache(proxy: ProxyService, policy: CachePolicy, req: ProxyRequest, forms?: StoredForms): Promise<Loaded<UpstreamCost>> {
  const { ttlMs, staleMs } = policy.freshness(req.district.id, routeCollection(req.endpoint));
  const fetchReq = { ...req };
  // Shared by every waiting client: one client going away must not cancel it for the others.
  delete fetchReq.signal;
  let res: ProxyResponse;
  try {
    res = await proxy.handle(fetchReq);
  } catch (err) {
    const negative = req.endpoint.kind === 'single' && err instanceof GatewayError && err.code === 'upstream_status' && err.status === 404;
    if (!negative || policy.negativeTtlMs === 0) throw err;
    return { response: notFound(req, err), ttl: { freshMs: policy.negativeTtlMs, staleMs: 0 }, meta: { requests: 1, ms: 0 } };
  }
  const meta: UpstreamCost = { requests: res.upstreamRequests, ms: res.upstreamMs };
  if (res.stale) meta.stale = true;
  const headers: Record<string, string> = {};
  for (const h of KEPT_HEADERS) if (res.headers[h] !== undefined) headers[h] = res.headers[h]!;
  headers[ROOT_HEADER] = req.hrefBase;
  const body = typeof res.body === 'string' ? Buffer.from(res.body) : (res.body ?? Buffer.alloc(0));
  const response: CachedResponse = { status: res.status, headers, body };
  if (res.status !== 200) return { response, meta };
  if (forms) {
    response.digest = forms.digest(body);
    const encoded = await forms.encodeAll(body, headers['content-type']);
    if (encoded) response.encoded = encoded;
  }
  // Built from stale data: kept as stale only, so the next read refreshes it.
  const freshMs = res.stale ? 0 : Math.min(ttlMs, res.freshForMs ?? ttlMs);
  return { response, ttl: { freshMs, staleMs }, meta };
}

/** The district says this object does not exist: the status-info answer in the caller's version. */
function notFound(req: ProxyRequest, err: GatewayError): CachedResponse {
  const body = statusInfoBody(req.version, { codeMajor: err.codeMajor, codeMinor: err.codeMinor, description: err.description });
  return {
    status: 404,
    headers: { 'content-type': 'application/json; charset=utf-8', [ROOT_HEADER]: req.hrefBase },
    body: Buffer.from(JSON.stringify(body)),
  };
}

/** Where an answer goes: the district-form root it must carry and the root the client used. */
export interface AnswerRoots {
  hrefBase: string;
  clientRoot: string;
}

/** Whether a cached answer built on `built` must be re-pointed for this request. */
export function needsRepoint(headers: Readonly<Record<string, string>>, roots: AnswerRoots): boolean {
  const built = headers[ROOT_HEADER];
  return (built !== undefined && built !== roots.hrefBase) || (roots.clientRoot !== roots.hrefBase && headers.link !== undefined);
}

/**
 * An answer built for another origin (a Host or X-Forwarded-Host of another request; the
 * page is cached once, however many names the gateway is reached by) or another form of
 * the path: hrefs and links re-pointed at this request's. Costs a string replace, and only
 * on the rare answer that needs it; the common one is served as stored.
 */
export function repoint<R extends Pick<ProxyResponse, 'headers' | 'body'> & Pick<CachedResponse, 'digest' | 'encoded'>>(res: R, built: string, roots: AnswerRoots): void {
  const headers: Record<string, string> = { ...res.headers };
  if (headers.link !== undefined) headers.link = headers.link.replaceAll(built, roots.clientRoot);
  if (built !== roots.hrefBase && res.body !== null) {
    const text = typeof res.body === 'string' ? res.body : res.body.toString('utf8');
    res.body = Buffer.from(text.replaceAll(built, roots.hrefBase));
    // Another body: the stored digest and codings were of the stored one.
    delete res.digest;
    delete res.encoded;
  }
  res.headers = headers;
}
