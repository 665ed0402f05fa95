// A same-version list page read as the bytes the district sent: validated, its records counted
// and its hrefs re-rooted by one scan (core/json/scan.ts), never parsed or written again. This
// is the path of nearly every page of a sync: JSON.parse, the href walk and JSON.stringify of a
// 1000-record page cost the gateway about 15 ms of CPU, the scan about 2. A page that needs more
// than its hrefs re-rooted (a vendor wrapper, the district's own warnings, an href to drop,
// trimming or joining records) is left to the parsed path: undefined.
import { scanJson } from '../core/json/scan.js';
import { planReroot, writeReroot, type ByteRewrite, type Rerooted } from '../core/oneroster/href-bytes.js';
import { endsCollection } from '../core/page-walk.js';
import type { PageQuery } from '../core/oneroster/query.js';
import type { UpstreamResponse } from '../upstream/types.js';
import { readPage, type UpstreamPage } from './paging.js';
import { badContentReason } from './upstream-errors.js';

export interface BytePage {
  /** The page as the walker and the Link builder read it; its records are counted, not parsed (holes). */
  page: UpstreamPage;
  /**
   * The district's bytes, hrefs re-rooted, and where the gateway's root stands in them ([start,
   * end) pairs, for the last-stop redaction check). Written where the district's bytes lie when
   * they have room to grow (UpstreamResponse.room): once this is called, the response's own
   * body is not to be read again (the parsed path reads it: decide before calling).
   */
  write(): Rerooted;
}

/** `res` read without parsing, or undefined when it takes the parsed path (which also says what is wrong with it). */
export function readPageBytes(res: UpstreamResponse, wrapper: string, rewrite: ByteRewrite): BytePage | undefined {
  if (badContentReason(res)) return undefined;
  const scan = scanJson(res.body, rewrite.upstream);
  const list = scan?.members?.get(wrapper);
  if (!scan || list?.kind !== 'array' || scan.members!.has('statusInfoSet')) return undefined;
  const plan = planReroot(res.body, scan.strings, rewrite);
  if (!plan) return undefined;
  const page = readPage(res, { [wrapper]: new Array<unknown>(list.count) }, wrapper)!;
  let written: Rerooted | undefined;
  return { page, write: () => (written ??= writeReroot(res.body, plan, rewrite, res.room ?? 0)) };
}

/** The page is the client's page as it stands: as many records as asked, or fewer where the collection ends. */
export function isWholePage(page: UpstreamPage, query: Pick<PageQuery, 'limit' | 'offset'>): boolean {
  const n = page.records.length;
  return n === query.limit || (n < query.limit && endsCollection(page, query.offset));
}
