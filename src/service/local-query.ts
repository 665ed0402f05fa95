import type { GatewayError } from '../core/errors.js';
import { matchesFilter, type FilterNode } from '../core/oneroster/filter.js';
import { listHeaders } from '../core/oneroster/links.js';
import type { Json } from '../core/oneroster/mapping/index.js';
import { withoutPaging, type QueryPairs } from '../core/oneroster/query.js';
import { entityOfWrapper } from '../core/oneroster/model.js';
import { sortRecords } from '../core/oneroster/record-order.js';
import { districtFilter, districtPath } from '../core/oneroster/relationships.js';
import { walkPages } from '../core/page-walk.js';
import type { UpstreamPage } from './paging.js';
import type { ProxyRequest, ProxyResponse } from './proxy-types.js';
import type { UpstreamCalls } from './upstream-calls.js';

// What the gateway does when it answers a collection itself rather than the district:
// read a whole selection page by page, then filter, sort, page and select fields over the
// mapped records. Shared by the version bridge (a query the district cannot be asked) and
// the derived reads (a route the district does not have).

/** Upstream page size when the gateway reads a whole selection itself. */
export const LOCAL_PAGE = 1_000;

export function pick(record: Json, fields: readonly string[] | undefined): Json {
  if (!fields) return record;
  const out: Json = {};
  for (const f of fields) if (record[f] !== undefined) out[f] = record[f];
  return out;
}

export interface WholeRead {
  /** One upstream page of the selection (`params` with limit and offset added). */
  page(params: QueryPairs): Promise<UpstreamPage>;
  /** Most records to keep; one more and `tooMany` is thrown. */
  maxRecords: number;
  tooMany(): GatewayError;
  /** Most bytes of the district's answers to read (UpstreamPage.bytes); more and `tooLarge` is thrown. */
  maxBytes?: number;
  tooLarge?(): GatewayError;
  /**
   * Called after each page with the records read so far and whether the page ended the
   * selection; false stops reading (the caller then has what it needs, or will get the
   * rest more cheaply another way).
   */
  more?(page: UpstreamPage, read: readonly unknown[], ended: boolean): boolean;
}

/** Every record of a selection, page by page, until the district says it has ended (or repeats itself). */
export async function readWhole(read: WholeRead, params: QueryPairs): Promise<unknown[]> {
  const records: unknown[] = [];
  const bounded = read.maxBytes !== undefined && read.tooLarge !== undefined;
  const walk = walkPages({
    limit: LOCAL_PAGE,
    fetchPage: (offset, limit) => read.page([...params, ['limit', String(limit)], ['offset', String(offset)]]),
    ...(bounded ? { maxBytes: read.maxBytes } : {}),
  });
  for await (const { page, fresh, last } of walk) {
    for (const r of fresh) records.push(r);
    if (records.length > read.maxRecords) throw read.tooMany();
    if (read.more && !read.more(page, records, last)) break;
  }
  if (walk.stop === 'byte-cap' && read.tooLarge) throw read.tooLarge();
  return records;
}

export interface LocalQuery {
  filter?: FilterNode | undefined;
  sort?: string | undefined;
  desc: boolean;
  fields?: readonly string[] | undefined;
}

/** The client's page of `records` (already in the caller's version), with X-Total-Count and Link. */
export function answerLocally(calls: UpstreamCalls, req: ProxyRequest, records: Json[], raw: LocalQuery): ProxyResponse {
  const { query } = req;
  // A name ending at a GUIDRef means its sourcedId, as it does to a district (relationships.ts).
  const entity = entityOfWrapper(req.endpoint.wrapper);
  const q: LocalQuery = entity
    ? { ...raw, filter: raw.filter && districtFilter(req.version, entity, raw.filter), sort: raw.sort && districtPath(req.version, entity, raw.sort) }
    : raw;
  let selected = q.filter ? records.filter((r) => matchesFilter(q.filter!, r)) : records;
  if (q.sort) {
    const { sort } = q;
    selected = sortRecords(selected, sort, q.desc);
  }
  const total = selected.length;
  const page = selected.slice(query.offset, query.offset + query.limit).map((r) => pick(r, q.fields));
  const headers = listHeaders({ base: req.linkBase, params: withoutPaging(query.params), limit: query.limit, offset: query.offset, total, hasMore: query.offset + page.length < total });
  return calls.response(200, JSON.stringify({ [req.endpoint.wrapper]: page }), headers);
}
