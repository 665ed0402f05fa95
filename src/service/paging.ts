import { GatewayError } from '../core/errors.js';
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

function idOf(record: unknown): unknown {
  return record && typeof record === 'object' ? (record as { sourcedId?: unknown }).sourcedId : undefined;
}

/**
 * True when `next` looks like `previous` sent again: same length, same first, middle and last
 * record. Catches a server that ignores `offset` even when its records have no sourcedId (the
 * id check then sees every record as new). Comparing three records, not the whole page, keeps
 * it cheap on 30 MB pages; honest pages that match on all three are repeats of data anyway.
 */
export function isRepeatedPage(previous: readonly unknown[], next: readonly unknown[]): boolean {
  const n = next.length;
  if (n === 0 || n !== previous.length) return false;
  return [0, n >> 1, n - 1].every((i) => JSON.stringify(previous[i]) === JSON.stringify(next[i]));
}

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
  const maxBytes = input.maxBytes ?? DEFAULT_MAX_BYTES;
  let bytes = first.bytes ?? 0;
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
    const previous = last;
    last = await input.fetchPage(query.offset + records.length, want - records.length);
    pages++;
    // A server that ignores `offset` repeats itself; stop instead of looping to maxPages. Ids
    // catch it when records have them; otherwise the page is the previous one again. Nothing
    // of a repeated page is used, so it does not count against maxBytes.
    if (isRepeatedPage(previous.records, last.records)) break;
    const fresh = last.records.filter((r) => {
      const id = idOf(r);
      return id === undefined || !seen.has(id);
    });
    if (last.records.length > 0 && fresh.length === 0) break;
    bytes += last.bytes ?? 0;
    if (bytes > maxBytes) throw tooLarge(input.districtId, maxBytes);
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

function tooLarge(districtId: string | undefined, maxBytes: number): GatewayError {
  const who = districtId === undefined ? 'the district' : `district "${districtId}"`;
  return new GatewayError(
    'upstream_too_large',
    `This page would be assembled from more than ${maxBytes} bytes of answers from ${who} (districts[].upstream.maxBodyBytes); ask for a smaller limit.`,
  );
}
