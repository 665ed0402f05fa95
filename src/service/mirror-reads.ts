// Rostering reads answered from a district's mirrored copy instead of the district: the
// route's meaning over the whole data (core/oneroster/relationships.ts), the client's filter,
// sort and page pushed down to the store, and records in the district's version mapped to
// the caller's (the version bridge's mappers), so any rostering route of either version is
// answered for any mirrored district, including the routes its own server lacks.
import { withoutPaging } from '../core/oneroster/query.js';
import { GatewayError } from '../core/errors.js';
import { parseFilter, matchesFilter, type FilterNode } from '../core/oneroster/filter.js';
import { listHeaders } from '../core/oneroster/links.js';
import { translateQuery, type Json } from '../core/oneroster/mapping/index.js';
import { entityOfWrapper, type Entity } from '../core/oneroster/model.js';
import { districtFilter, districtPath, planRoute, sessionOfSchool, type ListPlan, type RoutePlan } from '../core/oneroster/relationships.js';
import { readFields } from '../core/oneroster/selection.js';
import { MIRROR_ROOT } from '../mirror/pull-page.js';
import { deltaClause, inQueryOrder, mergedPage, observedRecord, sliceStart, type DeltaClause } from '../mirror/observed.js';
import { pageBody } from '../mirror/record-text.js';
import type { CopyMeta, MirrorCollection, MirrorPage, MirrorQuery, MirrorStore, ObservedChange } from '../mirror/types.js';
import { answerLocally, pick } from './local-query.js';
import { createRecordMapper } from './mirror-records.js';
import type { ProxyRequest, ProxyResponse } from './proxy-types.js';

export interface MirrorSource {
  /** The copy reads of this district are answered from, if it has one. */
  serving(districtId: string): CopyMeta | undefined;
  /** A copy a client pinned (`snapshot`), while it is retained; undefined once it is not (or never was). */
  pinned(districtId: string, version: string): Promise<CopyMeta | undefined>;
  readonly store: MirrorStore;
}

export interface MirrorReadsOptions {
  mirror: MirrorSource;
  /** Most records read to answer one request the store cannot page itself (a cross-version filter, a join). */
  maxLocalRecords: number;
}

const JSON_TYPE = 'application/json; charset=utf-8';
/** Copies' changes-since lists kept for delta reads (the pages of a few concurrent delta pulls). */
const SINCE_MEMO = 16;
const and = (a: FilterNode | undefined, b: FilterNode | undefined): FilterNode | undefined => (a && b ? { kind: 'and', left: a, right: b } : (a ?? b));
const param = (req: ProxyRequest, name: string) => req.query.params.find(([k]) => k === name)?.[1];
const mapDefined = <T, R>(v: T | undefined, fn: (v: T) => R): R | undefined => (v === undefined ? undefined : fn(v));

/** The path's ids, in order. */
function pathIds(req: ProxyRequest): string[] {
  return req.endpoint.segments.flatMap((s, i) => (s === '{id}' ? [req.segments[i]!] : []));
}

/** The collections a plan reads: all must be in the copy. */
function collectionsOf(plan: RoutePlan): MirrorCollection[] {
  if (plan.kind === 'single') return [plan.collection];
  return [plan.collection, ...(plan.join ? [plan.join.via] : []), ...(plan.parent ? [plan.parent.collection] : [])];
}

function mirroredRoute(req: ProxyRequest): boolean {
  return req.endpoint.method === 'GET' && req.endpoint.service === 'rostering';
}

/** Whether the copy holds every collection the request's route reads. */
function holds(req: ProxyRequest, copy: CopyMeta): boolean {
  const plan = planRoute(req.endpoint.template, pathIds(req), copy.recordsVersion);
  return plan !== undefined && collectionsOf(plan).every((c) => copy.counts[c] !== undefined);
}

export function createMirrorReads(options: MirrorReadsOptions) {
  const { mirror } = options;
  const { store } = mirror;
  if (!(options.maxLocalRecords >= 1)) throw new RangeError('createMirrorReads: maxLocalRecords must be >= 1');

  const toVersion = createRecordMapper(store);
  const toCaller = (req: ProxyRequest, copy: CopyMeta, entity: Entity, records: readonly Json[]) => toVersion(copy, entity, records, req.version);

  function answer(req: ProxyRequest, copy: CopyMeta, body: string | Buffer, headers: Record<string, string> = {}): ProxyResponse {
    return {
      status: 200,
      // The copy's version is also its change cursor: the feed from it holds what changed after it.
      headers: { 'content-type': JSON_TYPE, 'x-mirror-version': copy.version, 'x-change-cursor': copy.version, ...headers },
      // Kept hrefs point at MIRROR_ROOT: this request's root for the district takes its place.
      body: typeof body === 'string' ? body.replaceAll(MIRROR_ROOT, req.hrefBase) : body,
      upstreamRequests: 0,
      upstreamMs: 0,
    };
  }

  async function single(req: ProxyRequest, copy: CopyMeta, plan: Extract<RoutePlan, { kind: 'single' }>, entity: Entity): Promise<ProxyResponse> {
    const record = await store.get(copy, plan.collection, plan.id);
    if (!record || (plan.where && !matchesFilter(plan.where, record))) {
      throw new GatewayError('not_found', `District "${req.district.id}" has no ${req.endpoint.wrapper} "${plan.id.slice(0, 128)}".`);
    }
    const fields = fieldsOf(req, copy, entity);
    const [mapped] = await toCaller(req, copy, entity, [record]);
    return answer(req, copy, JSON.stringify({ [req.endpoint.wrapper]: pick(mapped!, fields) }));
  }

  function fieldsOf(req: ProxyRequest, copy: CopyMeta, entity: Entity): string[] | undefined {
    const text = param(req, 'fields');
    if (req.version !== copy.recordsVersion) return translateQuery(entity, req.version, copy.recordsVersion, req.query, undefined).fields;
    return text === undefined ? undefined : readFields(req.version, req.endpoint.wrapper, text);
  }

  /** Whether the plan's parent (a school of /schools/{id}/...) is in the copy: without it the answer is empty. */
  async function parentHeld(copy: CopyMeta, plan: ListPlan): Promise<boolean> {
    if (!plan.parent) return true;
    const parent = await store.get(copy, plan.parent.collection, plan.parent.id);
    return parent !== undefined && (!plan.parent.where || matchesFilter(plan.parent.where, parent));
  }

  function tooMany(copy: CopyMeta): GatewayError {
    return new GatewayError('invalid_filter', `Answering this from district "${copy.district}"'s mirror would read more than ${options.maxLocalRecords} records; narrow the filter.`);
  }

  /**
   * The client's filter, sort and order as the store reads them, standing in for the district
   * (for a caller of the other version: the part the version bridge would send the district),
   * and what the gateway itself would evaluate after mapping (`local`, the bridge's rule).
   */
  function storeQuery(req: ProxyRequest, copy: CopyMeta, plan: ListPlan, entity: Entity) {
    const cross = req.version !== copy.recordsVersion;
    const t = cross ? translateQuery(entity, req.version, copy.recordsVersion, req.query, req.query.filter) : undefined;
    const sent = (name: string) => (t ? t.params.find(([k]) => k === name)?.[1] : param(req, name));
    const filter = t ? mapDefined(sent('filter'), parseFilter) : req.query.filter;
    const sort = sent('sort');
    return {
      where: and(plan.where, filter && districtFilter(copy.recordsVersion, plan.collection, filter)),
      sort: mapDefined(sort, (s) => districtPath(copy.recordsVersion, plan.collection, s)),
      desc: sent('orderBy') === 'desc',
      local: t?.local,
      fields: t ? t.fields : fieldsOf(req, copy, entity),
    };
  }

  /** Changes since a time, per copy (a copy never changes, so neither do they): the pages of one delta pull ask once. */
  const sinceMemo = new Map<string, ObservedChange[]>();
  async function changesSince(copy: CopyMeta, collection: MirrorCollection, delta: DeltaClause): Promise<ObservedChange[]> {
    const key = `${copy.district}\u0000${copy.version}\u0000${collection}\u0000${delta.since}\u0000${delta.inclusive}`;
    const known = sinceMemo.get(key);
    if (known) return known;
    const changes = await store.changedSince(copy, collection, delta.since, delta.inclusive, options.maxLocalRecords);
    if (!changes) {
      throw new GatewayError('invalid_filter', `More than ${options.maxLocalRecords} ${collection} records of district "${copy.district}" changed since then; ask for a later time, or pull in full.`);
    }
    sinceMemo.set(key, changes);
    if (sinceMemo.size > SINCE_MEMO) sinceMemo.delete(sinceMemo.keys().next().value!);
    return changes;
  }

  /**
   * What a `dateLastModified>` read adds to the copy's own matches (mirror/observed.ts): the
   * records purged since then, as tombstones, and those whose content changed although their
   * own dateLastModified does not meet the clause, with the observed time (their stored form is
   * left out of the store's answer). A change the district timestamped is in the copy's answer
   * already. Undefined when the read has no such clause or a join (a join's route answers as
   * the district would).
   */
  async function observedFor(req: ProxyRequest, copy: CopyMeta, plan: ListPlan, where: FilterNode | undefined): Promise<{ exclude: string[]; records: Json[] } | undefined> {
    const delta = plan.join || plan.refine ? undefined : deltaClause(req.query.filter);
    if (!delta) return undefined;
    const exclude: string[] = [];
    const records: Json[] = [];
    for (const change of await changesSince(copy, plan.collection, delta)) {
      const served = observedRecord(change, delta);
      if (served === change.record) continue;
      if (change.op !== 'deleted') exclude.push(change.sourcedId);
      if (!where || matchesFilter(where, served)) records.push(served);
    }
    return exclude.length > 0 || records.length > 0 ? { exclude, records } : undefined;
  }

  async function list(req: ProxyRequest, copy: CopyMeta, plan: ListPlan, entity: Entity): Promise<ProxyResponse> {
    const held = await parentHeld(copy, plan);
    const { local, fields, ...order } = storeQuery(req, copy, plan, entity);
    const via = plan.join && { collection: plan.join.via, where: plan.join.where, pick: plan.join.pick };
    const observed = held ? await observedFor(req, copy, plan, order.where) : undefined;
    const base: Omit<MirrorQuery, 'offset' | 'limit'> = { collection: plan.collection, via, ...order, ...(observed?.exclude.length ? { exclude: observed.exclude } : {}) };
    if (!held || local || plan.refine) {
      // The store cannot finish it: every candidate is read in the district's order, then
      // refined, and filtered and sorted here as the version bridge would, and paged.
      let all: MirrorPage = !held ? { records: [], total: 0 } : await store.query(copy, { ...base, offset: 0, limit: options.maxLocalRecords + 1 });
      if (all.total > options.maxLocalRecords) throw tooMany(copy);
      if (plan.refine) all = await refined(copy, plan.refine.parentOrg, all);
      const records = await toCaller(req, copy, entity, [...all.records, ...(observed?.records ?? [])]);
      return answerLocally(localCalls(req, copy), pinnedReq(req, copy), records, { ...(local ?? { desc: false }), fields });
    }
    const { offset, limit } = req.query;
    let page: MirrorPage;
    if (observed && observed.records.length > 0) {
      // The copy's own matches (the changed ones left out) merged with the observed ones, in the query's order.
      const from = sliceStart(offset, observed.records.length);
      const slice = await store.query(copy, { ...base, offset: from, limit: offset + limit - from });
      const inOrder = (rs: readonly Json[]) => inQueryOrder(rs, order.sort, order.desc);
      page = { records: mergedPage(slice.records, from, observed.records, inOrder, offset, limit), total: slice.total + observed.records.length };
    } else page = await store.query(copy, { ...base, offset, limit });
    // Records as kept, in their own version: the store's text of them (PostgreSQL's json_agg,
    // never parsed here) or their texts joined (a memory store keeps them made).
    const asKept = req.version === copy.recordsVersion && fields === undefined;
    const fromText = asKept && page.text !== undefined;
    const records = fromText ? [] : (await toCaller(req, copy, entity, page.records)).map((r) => pick(r, fields));
    const size = fromText ? (page.size ?? page.records.length) : records.length;
    // Every page link pins this copy, so a client following them reads one version of the district.
    const params = [...withoutPaging(req.query.params), ['snapshot', copy.version] as [string, string]];
    const headers = listHeaders({ base: req.linkBase, params, limit, offset, total: page.total, hasMore: offset + size < page.total });
    const body = fromText
      ? `{${JSON.stringify(req.endpoint.wrapper)}:${page.text}}`
      : asKept
        ? pageBody(req.endpoint.wrapper, records, req.hrefBase)
        : JSON.stringify({ [req.endpoint.wrapper]: records });
    return answer(req, copy, body, headers);
  }

  async function refined(copy: CopyMeta, schoolId: string, page: MirrorPage): Promise<MirrorPage> {
    const school = await store.get(copy, 'orgs', schoolId);
    const records = school ? page.records.filter((r) => sessionOfSchool(r, school)) : [];
    return { records, total: records.length };
  }

  /** The request as answerLocally sees it: its page links pin the copy. */
  function pinnedReq(req: ProxyRequest, copy: CopyMeta): ProxyRequest {
    return { ...req, query: { ...req.query, params: [...req.query.params, ['snapshot', copy.version]] } };
  }

  /** What answerLocally needs of the upstream calls: only how to wrap the answer. */
  function localCalls(req: ProxyRequest, copy: CopyMeta) {
    return { response: (_status: number, body: string, headers: Record<string, string>) => answer(req, copy, body, headers) } as unknown as Parameters<typeof answerLocally>[0];
  }

  return {
    /** The copy that can answer this request, if the request is a rostering read of a mirrored district whose copy holds what it reads. */
    servable(req: ProxyRequest): CopyMeta | undefined {
      if (!mirroredRoute(req)) return undefined;
      const copy = mirror.serving(req.district.id);
      return copy && holds(req, copy) ? copy : undefined;
    },

    /** Whether the request is a read the mirror answers when the district has a copy (a pinned one must then come from the mirror). */
    mirroredRoute,

    /** The pinned copy that answers this request, while it is retained and holds what the request reads. */
    async pinned(req: ProxyRequest, version: string): Promise<CopyMeta | undefined> {
      const copy = await mirror.pinned(req.district.id, version);
      return copy && holds(req, copy) ? copy : undefined;
    },

    async answer(req: ProxyRequest, copy: CopyMeta): Promise<ProxyResponse> {
      const plan = planRoute(req.endpoint.template, pathIds(req), copy.recordsVersion)!;
      const entity = entityOfWrapper(req.endpoint.wrapper);
      if (!entity) throw new GatewayError('internal', `No model for ${req.endpoint.wrapper}.`);
      return plan.kind === 'single' ? single(req, copy, plan, entity) : list(req, copy, plan, entity);
    },
  };
}

export type MirrorReads = ReturnType<typeof createMirrorReads>;
