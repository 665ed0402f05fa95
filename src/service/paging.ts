import { GatewayError } from '../core/errors.js';
import { linkHasRel, listHeaders, parseTotalCount } from '../core/oneroster/links.js';
import { withoutPaging, type PageQuery } from '../core/oneroster/query.js';
import { isRepeatedPage, walkPages } from '../core/page-walk.js';
import type { UpstreamResponse } from '../upstream/types.js';

export interface UpstreamPage {
  /** The key holding the records (the spec's wrapper, or a vendor variant such as `students`). */
  key: string;
  records: unknown[];
  envelope: Record<string, unknown>;
  total?: number;
  /** The upstream sent a Link header; `hasNext` is then meaningful. */
  hasLink: boolean;
  hasNext: boolean;
  /** Length of the upstream body it was read from; what an assembled page is bounded by. */
  bytes?: number;
}

// The config default of districts[].upstream.maxBodyBytes, for callers that do not pass theirs.
const DEFAULT_MAX_BYTES = 32 * 1024 * 1024;

// Wrapper keys some servers use instead of the spec's (Moodle's client accepts these).
const VARIANTS: Record<string, string[]> = {
  users: ['students', 'teachers'],
  academicSessions: ['terms', 'gradingPeriods'],
};

export function readPage(res: UpstreamResponse, envelope: Record<string, unknown>, wrapper: string): UpstreamPage | undefined {
  let key = [wrapper, ...(VARIANTS[wrapper] ?? [])].find((k) => Array.isArray(envelope[k]));
  if (!key) {
    const arrays = Object.keys(envelope).filter((k) => Array.isArray(envelope[k]) && k !== 'statusInfoSet');
    if (arrays.length !== 1) return undefined;
    key = arrays[0]!;
  }
  const link = res.headers['link'];
  const page: UpstreamPage = {
    key,
    records: envelope[key] as unknown[],
    envelope,
    hasLink: !!link,
    hasNext: linkHasRel(link, 'next'),
    bytes: res.body.length,
  };
  const total = parseTotalCount(res.headers['x-total-count']);
  if (total !== undefined) page.total = total;
  return page;
}

// Moved to the page walker, which owns every stop rule; kept here for the callers of paging.
export { isRepeatedPage };

export interface StitchInput {
  first: UpstreamPage;
  query: PageQuery;
  maxPages: number;
  fetchPage(offset: number, limit: number): Promise<UpstreamPage>;
  linkBase: string;
  /**
   * Bound on the upstream bytes one assembled page may be built from (the district's
   * maxBodyBytes): each answer is already capped, but 100 of them would not be. Default 32 MiB.
   */
  maxBytes?: number;
  /** Named in the error when maxBytes is passed. */
  districtId?: string;
}

export interface StitchResult {
  records: unknown[];
  /** Upstream pages read, the first included. */
  pages: number;
  /** The records differ from the first upstream page (joined or trimmed). */
  changed: boolean;
  headers: Record<string, string>;
}

/**
 * Fills the client's page from as many upstream pages as it takes. Servers clamp `limit`
 * silently (Ed-Fi to 500, ClassLink to 10000), and clients such as Moodle stop at the first
 * short page, so a short page only ends the collection when the upstream says so (the
 * walker's rules: an empty page, X-Total-Count reached, or a Link header without rel="next").
 */
export async function stitchPages(input: StitchInput): Promise<StitchResult> {
  const { first, query } = input;
  const want = query.limit;
  const records: unknown[] = [];
  const maxBytes = input.maxBytes ?? DEFAULT_MAX_BYTES;
  const walk = walkPages({
    first,
    start: query.offset,
    limit: () => want - records.length,
    fetchPage: input.fetchPage,
    maxPages: input.maxPages,
    maxBytes,
  });
  let last = first;
  for await (const step of walk) {
    last = step.page;
    // A server that ignores `limit` may send more than asked: the page keeps what was asked.
    for (const r of step.fresh.slice(0, want - records.length)) records.push(r);
    if (records.length >= want) break;
  }
  if (walk.stop === 'byte-cap') throw tooLarge(input.districtId, maxBytes);

  const headers = listHeaders({
    base: input.linkBase,
    params: withoutPaging(query.params),
    limit: want,
    offset: query.offset,
    ...(first.total !== undefined ? { total: first.total } : {}),
    hasMore: !walk.ended && records.length >= want && (!last.hasLink || last.hasNext),
  });
  return { records, pages: walk.pages, changed: walk.pages > 1 || records.length !== first.records.length, headers };
}

/** A client page that would be built from more than one answer's worth of the district's bytes. */
export function tooLarge(districtId: string | undefined, maxBytes: number): GatewayError {
  const who = districtId === undefined ? 'the district' : `district "${districtId}"`;
  return new GatewayError(
    'upstream_too_large',
    `This page would be assembled from more than ${maxBytes} bytes of answers from ${who} (districts[].upstream.maxBodyBytes); ask for a smaller limit.`,
  );
}
