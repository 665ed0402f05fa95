import type { PageQuery } from './oneroster/query.js';
import { buildQueryString } from './rfc3986.js';

export interface CacheKeyInput {
  /** What the district speaks and what the caller asked for. */
  upstreamVersion: string;
  responseVersion: string;
  /** The gateway URL of the resource (origin and path form): Link headers and hrefs are built on it. */
  resourceUrl: string;
  query: PageQuery;
}

/**
 * One key per distinct answer. Parameters are sorted, paging defaults made explicit and
 * values normalized, so `?limit=5&offset=0` and `?offset=0&limit=5` share an entry, and
 * `?` shares one with `?limit=100&offset=0`.
 */
export function cacheKey(input: CacheKeyInput): string {
  return `${input.upstreamVersion}>${input.responseVersion} ${input.resourceUrl}?${canonicalQuery(input.query)}`;
}

// A PageQuery is immutable once read; callers that reuse one (the route plan cache) pay once.
const memo = new WeakMap<PageQuery, string>();

export function canonicalQuery(query: PageQuery): string {
  let canonical = memo.get(query);
  if (canonical === undefined) {
    canonical = computeCanonicalQuery(query);
    memo.set(query, canonical);
  }
  return canonical;
}

function computeCanonicalQuery(query: PageQuery): string {
  const pairs = new Map<string, string>();
  for (const [k, v] of query.params) pairs.set(k, v);
  const out: Array<[string, string]> = [];
  for (const [k, v] of pairs) {
    if (k === 'limit' || k === 'offset') continue;
    if (k === 'fields') out.push([k, normalizeFields(v)]);
    else if (k === 'orderBy') out.push([k, v.toLowerCase()]);
    // Only a filter's padding is meaningless (the parser skips it). A sort goes to the district
    // as sent, and a district may read ` familyName` otherwise than `familyName`.
    else out.push([k, k === 'filter' ? v.trim() : v]);
  }
  if (query.paged) out.push(['limit', String(query.limit)], ['offset', String(query.offset)]);
  out.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return buildQueryString(out);
}

/** `fields=b, a,b` and `fields=a,b` select the same fields. */
function normalizeFields(v: string): string {
  return [...new Set(v.split(',').map((f) => f.trim()).filter(Boolean))].sort().join(',');
}
