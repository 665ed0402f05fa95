import { buildLinkHeader, linkHasRel, parseTotalCount } from '../core/oneroster/links.js';
import type { PageQuery } from '../core/oneroster/query.js';
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
}

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
  };
  const total = parseTotalCount(res.headers['x-total-count']);
  if (total !== undefined) page.total = total;
  return page;
}

function idOf(record: unknown): unknown {
  return record && typeof record === 'object' ? (record as { sourcedId?: unknown }).sourcedId : undefined;
}

export interface StitchInput {
  first: UpstreamPage;
  query: PageQuery;
  maxPages: number;
  fetchPage(offset: number, limit: number): Promise<UpstreamPage>;
  linkBase: string;
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
 * short page, so a short page only ends the collection when the upstream says so: an
 * empty page, X-Total-Count reached, or a Link header without rel="next".
 */
export async function stitchPages(input: StitchInput): Promise<StitchResult> {
  const { first, query } = input;
  const want = query.limit;
  // A server that ignores `limit` may send more than asked: the page keeps what was asked.
  const records = first.records.slice(0, want);
  const seen = new Set(records.map(idOf));
  let last = first;
  let pages = 1;
  let ended = false;
  const isEnded = (p: UpstreamPage) =>
    p.records.length === 0 ||
    (first.total !== undefined && query.offset + records.length >= first.total) ||
    (first.total === undefined && p.hasLink && !p.hasNext);

  while (records.length < want) {
    if (isEnded(last)) {
      ended = true;
      break;
    }
    if (pages >= input.maxPages) break;
    last = await input.fetchPage(query.offset + records.length, want - records.length);
    pages++;
    const fresh = last.records.filter((r) => {
      const id = idOf(r);
      return id === undefined || !seen.has(id);
    });
    // A server that ignores `offset` repeats itself; stop instead of looping to maxPages.
    if (last.records.length > 0 && fresh.length === 0) break;
    for (const r of fresh.slice(0, want - records.length)) {
      seen.add(idOf(r));
      records.push(r);
    }
  }

  const headers: Record<string, string> = {};
  if (first.total !== undefined) headers['x-total-count'] = String(first.total);
  const link = buildLinkHeader({
    base: input.linkBase,
    params: query.params.filter(([k]) => k !== 'limit' && k !== 'offset'),
    limit: want,
    offset: query.offset,
    ...(first.total !== undefined ? { total: first.total } : {}),
    hasMore: !ended && records.length >= want && (!last.hasLink || last.hasNext),
  });
  if (link) headers['link'] = link;
  return { records, pages, changed: pages > 1 || records.length !== first.records.length, headers };
}
