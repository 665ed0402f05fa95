import { GatewayError } from '../core/errors.js';
import { matchesFilter } from '../core/oneroster/filter.js';
import { buildLinkHeader } from '../core/oneroster/links.js';
import { mapRecord, mappingNeeds, translateQuery, type Json, type TranslatedQuery } from '../core/oneroster/mapping/index.js';
import { entityOfWrapper, type Entity } from '../core/oneroster/model.js';
import type { QueryPairs } from '../core/oneroster/query.js';
import type { Lookups } from './lookups.js';
import { stitchPages, type UpstreamPage } from './paging.js';
import type { ProxyRequest, ProxyResponse } from './proxy-service.js';
import { readJsonObject, readListPage, UpstreamCalls } from './upstream-calls.js';
import { parseJson } from './upstream-errors.js';

// A caller of one OneRoster version reading or writing a district of the other: the query
// is translated, the district's answer mapped record by record, and what cannot be asked of
// the district exactly is evaluated here over its data (core/oneroster/mapping).

/** Upstream page size when the gateway reads a whole selection itself. */
const LOCAL_PAGE = 1_000;

export interface VersionBridgeOptions {
  lookups: Lookups;
  /** Most records the gateway reads to evaluate a filter or sort itself. */
  maxLocalRecords: number;
}

const isObject = (v: unknown): v is Json => !!v && typeof v === 'object' && !Array.isArray(v);

function pick(record: Json, fields: readonly string[] | undefined): Json {
  if (!fields) return record;
  const out: Json = {};
  for (const f of fields) if (record[f] !== undefined) out[f] = record[f];
  return out;
}

function sortValue(record: Json, path: string): string | number | undefined {
  let v: unknown = record;
  for (const part of path.split('.')) {
    if (Array.isArray(v)) v = v[0];
    v = isObject(v) ? v[part] : undefined;
  }
  if (Array.isArray(v)) v = v[0];
  return typeof v === 'number' || typeof v === 'string' ? v : undefined;
}

function compare(a: string | number | undefined, b: string | number | undefined): number {
  if (a === b) return 0;
  if (a === undefined) return 1; // absent last
  if (b === undefined) return -1;
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  return String(a) < String(b) ? -1 : 1;
}

export function createVersionBridge(options: VersionBridgeOptions) {
  const { lookups } = options;

  function entityOf(req: ProxyRequest): Entity {
    const entity = entityOfWrapper(req.endpoint.wrapper);
    if (!entity) throw new GatewayError('internal', `No model for ${req.endpoint.wrapper}.`);
    return entity;
  }

  /** Records from the district to the caller, or (a write body) from the caller to the district, whose own URLs its refs then carry. */
  async function mapAll(calls: UpstreamCalls, req: ProxyRequest, entity: Entity, records: readonly unknown[], toDistrict = false): Promise<Json[]> {
    const [from, to] = toDistrict ? [req.version, req.district.version] : [req.district.version, req.version];
    const needs = mappingNeeds(entity, records, from, to);
    const ctx = await lookups.context(calls, req.district.id, req.district.version, toDistrict ? req.district.upstreamBase : req.hrefBase, needs);
    return records.map((r) => mapRecord(entity, r, from, to, ctx));
  }

  /** Every record of the (looser) selection, for the gateway to filter, sort and page. */
  async function readWhole(calls: UpstreamCalls, req: ProxyRequest, params: QueryPairs): Promise<unknown[]> {
    const records: unknown[] = [];
    const seen = new Set<unknown>();
    for (let offset = 0; ; ) {
      const page: UpstreamPage = readListPage(await calls.send([...params, ['limit', String(LOCAL_PAGE)], ['offset', String(offset)]]), req);
      const fresh = page.records.filter((r) => !isObject(r) || r.sourcedId === undefined || !seen.has(r.sourcedId));
      // A server that ignores offset repeats itself.
      if (page.records.length === 0 || fresh.length === 0) break;
      for (const r of fresh) {
        if (isObject(r)) seen.add(r.sourcedId);
        records.push(r);
      }
      if (records.length > options.maxLocalRecords) {
        throw new GatewayError(
          'invalid_filter',
          `This filter or sort cannot be passed to district "${req.district.id}" (OneRoster ${req.district.version}) as asked, and evaluating it at the gateway would read more than ${options.maxLocalRecords} records. Narrow it with fields both versions share.`,
        );
      }
      offset += page.records.length;
      if ((page.total !== undefined && offset >= page.total) || (page.hasLink && !page.hasNext)) break;
    }
    return records;
  }

  async function collection(calls: UpstreamCalls, req: ProxyRequest, entity: Entity, t: TranslatedQuery): Promise<ProxyResponse> {
    const { query } = req;
    const clientParams = query.params.filter(([k]) => k !== 'limit' && k !== 'offset');
    if (t.local) {
      const { filter, sort, desc } = t.local;
      let records = await mapAll(calls, req, entity, await readWhole(calls, req, t.params));
      if (filter) records = records.filter((r) => matchesFilter(filter, r));
      if (sort) records.sort((a, b) => (desc ? -1 : 1) * compare(sortValue(a, sort), sortValue(b, sort)));
      const total = records.length;
      const page = records.slice(query.offset, query.offset + query.limit).map((r) => pick(r, t.fields));
      const headers: Record<string, string> = { 'x-total-count': String(total) };
      const link = buildLinkHeader({ base: req.linkBase, params: clientParams, limit: query.limit, offset: query.offset, total, hasMore: query.offset + page.length < total });
      if (link) headers.link = link;
      return calls.response(200, JSON.stringify({ [req.endpoint.wrapper]: page }), headers);
    }
    const first = readListPage(await calls.send(t.params), req);
    const others = t.params.filter(([k]) => k !== 'limit' && k !== 'offset');
    const result = await stitchPages({
      first,
      query: { ...query, params: clientParams },
      maxPages: req.district.maxStitchPages,
      fetchPage: async (offset, limit) => readListPage(await calls.send([...others, ['limit', String(limit)], ['offset', String(offset)]]), req),
      linkBase: req.linkBase,
    });
    const records = (await mapAll(calls, req, entity, result.records)).map((r) => pick(r, t.fields));
    return calls.response(200, JSON.stringify({ [req.endpoint.wrapper]: records }), result.headers);
  }

  /** The one record of a single-object answer, under the spec's wrapper or a vendor's. */
  function singleRecord(body: Json, wrapper: string): unknown {
    if (isObject(body[wrapper])) return body[wrapper];
    const objects = Object.entries(body).filter(([k, v]) => k !== 'statusInfoSet' && isObject(v));
    return objects.length === 1 ? objects[0]![1] : undefined;
  }

  async function write(calls: UpstreamCalls, req: ProxyRequest, entity: Entity): Promise<ProxyResponse> {
    let body = req.body;
    if (body !== undefined) {
      const parsed = parseJson(Buffer.from(body));
      const value = parsed.ok && isObject(parsed.value) ? parsed.value : undefined;
      const record = value?.[req.endpoint.wrapper];
      if (!isObject(record)) throw new GatewayError('invalid_body', `The body must be {"${req.endpoint.wrapper}": {...}}.`);
      const [mapped] = await mapAll(calls, req, entity, [record], true);
      body = JSON.stringify({ [req.endpoint.wrapper]: mapped });
    }
    const res = await calls.send([], body);
    const parsed = res.status === 204 || res.body.length === 0 ? undefined : parseJson(res.body);
    if (!parsed?.ok || !isObject(parsed.value)) return calls.response(res.status, null);
    const record = parsed.value[req.endpoint.wrapper];
    if (!isObject(record)) return calls.response(res.status, JSON.stringify(parsed.value));
    const [mapped] = await mapAll(calls, req, entity, [record]);
    return calls.response(res.status, JSON.stringify({ [req.endpoint.wrapper]: mapped }));
  }

  return {
    async handle(req: ProxyRequest): Promise<ProxyResponse> {
      const { district, endpoint } = req;
      if (!endpoint.versions.includes(district.version)) {
        throw new GatewayError(
          'version_not_supported',
          `District "${district.id}" speaks OneRoster ${district.version}, which has no ${endpoint.method} ${endpoint.template}.`,
        );
      }
      const entity = entityOf(req);
      const calls = new UpstreamCalls(req);
      if (endpoint.kind === 'write') return write(calls, req, entity);
      const t = translateQuery(entity, req.version, district.version, req.query, req.query.filter);
      if (endpoint.kind === 'collection') return collection(calls, req, entity, t);
      const body = readJsonObject(await calls.send(t.params), district.id);
      const record = singleRecord(body, endpoint.wrapper);
      if (!isObject(record)) throw new GatewayError('upstream_bad_response', `District "${district.id}" answered without a "${endpoint.wrapper}" object.`);
      const [mapped] = await mapAll(calls, req, entity, [record]);
      return calls.response(200, JSON.stringify({ [endpoint.wrapper]: pick(mapped!, t.fields) }));
    },
  };
}

export type VersionBridge = ReturnType<typeof createVersionBridge>;
