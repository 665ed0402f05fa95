import { GatewayError } from '../core/errors.js';
import { ENDPOINTS } from '../core/oneroster/endpoints.js';
import { rewriteHrefs } from '../core/oneroster/hrefs.js';
import { mapRecord, mappingNeeds, translateQuery, type Json, type TranslatedQuery } from '../core/oneroster/mapping/index.js';
import { entityOfWrapper, type Entity } from '../core/oneroster/model.js';
import { withoutPaging, type QueryPairs } from '../core/oneroster/query.js';
import { createDerivedReads } from './derived-reads.js';
import { answerLocally, pick, readWhole, type WholeRead } from './local-query.js';
import type { Lookups } from './lookups.js';
import { stitchPages } from './paging.js';
import type { ProxyRequest, ProxyResponse } from './proxy-types.js';
import { readJsonObject, readListPage, withUpstreamCalls, type UpstreamCalls } from './upstream-calls.js';
import { parseJson } from './upstream-errors.js';

// A caller of one OneRoster version reading or writing a district of the other: the query
// is translated, the district's answer mapped record by record, and what cannot be asked of
// the district exactly is evaluated here over its data (core/oneroster/mapping). A 1.2
// route a 1.1 district lacks is derived from its 1.1 data where that data exists
// (derived-reads.ts), else answered 501.

export interface VersionBridgeOptions {
  lookups: Lookups;
  /** Most records the gateway reads to evaluate a filter or sort itself. */
  maxLocalRecords: number;
  /** Most bytes one derived read (a 1.2 route a 1.1 district lacks) may read from the district. Default 64 MiB. */
  maxDerivedBytes?: number;
}

const isObject = (v: unknown): v is Json => !!v && typeof v === 'object' && !Array.isArray(v);

export function createVersionBridge(options: VersionBridgeOptions) {
  const { lookups } = options;
  const maxLocalBytes = options.maxDerivedBytes ?? 64 * 1024 * 1024;
  const derived = createDerivedReads({ mapAll, maxRecords: options.maxLocalRecords, maxBytes: maxLocalBytes });
  // Every route endpoints.ts marks as derived must have a derivation: checked once, at start-up.
  for (const ep of ENDPOINTS) {
    for (const v of ep.derivedOn ?? []) {
      if (!derived.find(ep, v, 'v1p2')) throw new Error(`createVersionBridge: no derivation of ${ep.method} ${ep.template} on ${v} districts`);
    }
  }

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
    const mapped = records.map((r) => mapRecord(entity, r, from, to, ctx));
    // GUIDRefs are rebuilt; a vendor's href kept under metadata still points at the district.
    if (!toDistrict) {
      const rewrite = { upstreamBase: req.district.upstreamBase, gatewayBase: req.hrefBase };
      for (const r of mapped) if (isObject(r.metadata)) rewriteHrefs(r.metadata, rewrite);
    }
    return mapped;
  }

  /** Every record of the (looser) selection, for the gateway to filter, sort and page. */
  function wholeSelection(calls: UpstreamCalls, req: ProxyRequest): WholeRead {
    return {
      page: async (params: QueryPairs) => readListPage(await calls.send(params), req),
      maxRecords: options.maxLocalRecords,
      tooMany: () =>
        new GatewayError(
          'invalid_filter',
          `This filter or sort cannot be passed to district "${req.district.id}" (OneRoster ${req.district.version}) as asked, and evaluating it at the gateway would read more than ${options.maxLocalRecords} records. Narrow it with fields both versions share.`,
        ),
      // As much as a derived read may hold, or the district's own answer cap when that is larger.
      maxBytes: Math.max(maxLocalBytes, req.district.maxBodyBytes),
      tooLarge: () =>
        new GatewayError(
          'upstream_too_large',
          `Evaluating this filter or sort at the gateway would read more than ${Math.max(maxLocalBytes, req.district.maxBodyBytes)} bytes from district "${req.district.id}". Narrow it with fields both versions share.`,
        ),
    };
  }

  async function collection(calls: UpstreamCalls, req: ProxyRequest, entity: Entity, t: TranslatedQuery): Promise<ProxyResponse> {
    const { query } = req;
    if (t.local) {
      const records = await mapAll(calls, req, entity, await readWhole(wholeSelection(calls, req), t.params));
      return answerLocally(calls, req, records, { ...t.local, fields: t.fields });
    }
    const first = readListPage(await calls.send(t.params), req);
    const others = withoutPaging(t.params);
    const result = await stitchPages({
      first,
      query: { ...query, params: withoutPaging(query.params) },
      maxPages: req.district.maxStitchPages,
      fetchPage: async (offset, limit) => readListPage(await calls.send([...others, ['limit', String(limit)], ['offset', String(offset)]]), req),
      linkBase: req.linkBase,
      maxBytes: req.district.maxBodyBytes,
      districtId: req.district.id,
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
        const derive = derived.find(endpoint, district.version, req.version);
        if (derive) return withUpstreamCalls(req, (calls) => derive(calls, req));
        throw new GatewayError(
          'version_not_supported',
          `District "${district.id}" speaks OneRoster ${district.version}, which has no ${endpoint.method} ${endpoint.template}.`,
        );
      }
      const entity = entityOf(req);
      return withUpstreamCalls(req, async (calls) => {
        if (endpoint.kind === 'write') return write(calls, req, entity);
        const t = translateQuery(entity, req.version, district.version, req.query, req.query.filter);
        if (endpoint.kind === 'collection') return collection(calls, req, entity, t);
        const body = readJsonObject(await calls.send(t.params), district.id);
        const record = singleRecord(body, endpoint.wrapper);
        if (!isObject(record)) throw new GatewayError('upstream_bad_response', `District "${district.id}" answered without a "${endpoint.wrapper}" object.`);
        const [mapped] = await mapAll(calls, req, entity, [record]);
        return calls.response(200, JSON.stringify({ [endpoint.wrapper]: pick(mapped!, t.fields) }));
      });
    },
  };
}

export type VersionBridge = ReturnType<typeof createVersionBridge>;
