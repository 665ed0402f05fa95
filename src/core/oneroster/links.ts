import { buildQueryString } from '../rfc3986.js';
import type { QueryPairs } from './query.js';

export interface LinkInput {
  /** Absolute URL of the collection at the gateway, without query. */
  base: string;
  /** The client's parameters other than limit and offset, kept in every link. */
  params: QueryPairs;
  limit: number;
  offset: number;
  total?: number;
  /** Whether more records follow this page (when no total is known). */
  hasMore: boolean;
}

/**
 * RFC 8288 Link header with first/prev/next/last pointing at the gateway. Built from the
 * page itself rather than rewritten from the upstream's header, which may be malformed
 * (missing brackets, `ref=`) and would expose the upstream's address.
 */
export function buildLinkHeader(input: LinkInput): string | undefined {
  const { base, params, limit, offset, total } = input;
  const url = (off: number) => {
    const q = buildQueryString([...params, ['limit', String(limit)], ['offset', String(off)]]);
    return `<${base}?${q}>`;
  };
  const links: string[] = [];
  const more = total !== undefined ? offset + limit < total : input.hasMore;
  if (more) links.push(`${url(offset + limit)}; rel="next"`);
  if (offset > 0) links.push(`${url(Math.max(0, offset - limit))}; rel="prev"`);
  if (offset > 0 || more) links.push(`${url(0)}; rel="first"`);
  if (total !== undefined && (offset > 0 || more)) {
    const last = total === 0 ? 0 : Math.floor((total - 1) / limit) * limit;
    links.push(`${url(last)}; rel="last"`);
  }
  return links.length > 0 ? links.join(', ') : undefined;
}

/** The headers of a list page the gateway answers: X-Total-Count when the total is known, then its Link header. */
export function listHeaders(input: LinkInput): Record<string, string> {
  const headers: Record<string, string> = {};
  if (input.total !== undefined) headers['x-total-count'] = String(input.total);
  const link = buildLinkHeader(input);
  if (link) headers.link = link;
  return headers;
}

/** Whether an upstream Link header has the relation; tolerant of missing brackets and `ref=`. */
export function linkHasRel(header: string | undefined, rel: string): boolean {
  if (!header) return false;
  return new RegExp(`\\b(?:rel|ref)\\s*=\\s*"?[^",;]*\\b${rel}\\b`, 'i').test(header);
}

/** X-Total-Count as a number, when present and sane. */
export function parseTotalCount(header: string | undefined): number | undefined {
  if (header === undefined || !/^\s*\d+\s*$/.test(header)) return undefined;
  const n = Number(header);
  return Number.isSafeInteger(n) ? n : undefined;
}
