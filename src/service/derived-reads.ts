import { GatewayError } from '../core/errors.js';
import type { Endpoint, Version } from '../core/oneroster/endpoints.js';
import { refId, translateQuery, type Json } from '../core/oneroster/mapping/index.js';
import type { Entity } from '../core/oneroster/model.js';
import type { QueryPairs } from '../core/oneroster/query.js';
import { encodeRfc3986 } from '../core/rfc3986.js';
import type { UpstreamResponse } from '../upstream/types.js';
import { answerLocally, readWhole, type LocalQuery, type WholeRead } from './local-query.js';
import { readPage, type UpstreamPage } from './paging.js';
import type { ProxyRequest, ProxyResponse } from './proxy-types.js';
import { readJsonObject, type UpstreamCalls } from './upstream-calls.js';

// 1.2 reads a 1.1 district has no route for, answered from the 1.1 data that holds the
// same facts (endpoints.ts marks them `derivedOn`). What 1.1 has no data for at all
// (score scales, assessments) is not derived and stays 501.
//
// Every derivation is bounded: at most `maxStitchPages` requests to the district (the
// district's bound on the upstream pages behind one client answer), `maxRecords` records
// and `maxBytes` bytes; past a bound the answer is 502 upstream_too_large, never a
// silently partial list. The gateway then filters, sorts and pages the result itself.

const V11 = '/v1p1';

export interface DerivedReadsOptions {
  /** District records to the caller's version (the bridge's mapper, with its lookups). */
  mapAll(calls: UpstreamCalls, req: ProxyRequest, entity: Entity, records: readonly unknown[]): Promise<Json[]>;
  maxRecords: number;
  maxBytes: number;
}

export type Derivation = (calls: UpstreamCalls, req: ProxyRequest) => Promise<ProxyResponse>;

const isObject = (v: unknown): v is Json => !!v && typeof v === 'object' && !Array.isArray(v);
const enc = encodeRfc3986;
const isNotFound = (err: unknown) => err instanceof GatewayError && err.status === 404;

/** The upstream reads of one derivation, counted against its bounds. */
class Budget {
  private requests = 0;
  private bytes = 0;
  private records = 0;

  constructor(
    private readonly calls: UpstreamCalls,
    private readonly req: ProxyRequest,
    private readonly limits: { requests: number; bytes: number; records: number },
  ) {}

  private tooMuch(what: string): GatewayError {
    const { district, endpoint } = this.req;
    return new GatewayError(
      'upstream_too_large',
      `District "${district.id}" speaks OneRoster ${district.version}, which has no GET ${endpoint.template}; deriving the answer from its data would take more than ${what}.`,
    );
  }

  /** Throws before `n` more requests would pass the bound (parallel reads are checked as a whole). */
  reserve(n: number): void {
    if (this.requests + n > this.limits.requests) throw this.tooMuch(`${this.limits.requests} requests to the district`);
  }

  async get(path: string, query: QueryPairs): Promise<UpstreamResponse> {
    this.reserve(1);
    this.requests++;
    const res = await this.calls.send(query, undefined, path);
    this.bytes += res.body.length;
    if (this.bytes > this.limits.bytes) throw this.tooMuch(`${this.limits.bytes} bytes from the district`);
    return res;
  }

  async page(path: string, wrapper: string, query: QueryPairs): Promise<UpstreamPage> {
    const res = await this.get(path, query);
    const page = readPage(res, readJsonObject(res, this.req.district.id), wrapper);
    if (!page) throw new GatewayError('upstream_bad_response', `District "${this.req.district.id}" answered without a "${wrapper}" list.`);
    this.records += page.records.length;
    if (this.records > this.limits.records) throw this.tooMuch(`${this.limits.records} records`);
    return page;
  }

  /** A whole upstream list, every page, as readWhole reads it. */
  list(path: string, wrapper: string, more?: WholeRead['more']): WholeRead {
    return {
      page: (params) => this.page(path, wrapper, params),
      maxRecords: this.limits.records,
      tooMany: () => this.tooMuch(`${this.limits.records} records`),
      ...(more ? { more } : {}),
    };
  }

  async one(path: string, wrapper: string): Promise<Json | undefined> {
    const body = readJsonObject(await this.get(path, []), this.req.district.id);
    if (isObject(body[wrapper])) return body[wrapper];
    const objects = Object.entries(body).filter(([k, v]) => k !== 'statusInfoSet' && isObject(v));
    return objects.length === 1 ? (objects[0]![1] as Json) : undefined;
  }
}

const idOf = (r: unknown) => (isObject(r) ? refId(r.sourcedId) : undefined);

/** Records by sourcedId, first seen wins, in sourcedId order (what the sandbox and most servers default to). */
function unique(records: Iterable<unknown>): Json[] {
  const byId = new Map<string, Json>();
  for (const r of records) {
    const id = idOf(r);
    if (id !== undefined && !byId.has(id)) byId.set(id, r as Json);
  }
  return [...byId.keys()].sort().map((id) => byId.get(id)!);
}

/**
 * The class a 1.1 category is tied to, when the district says so: 1.1 categories have no
 * class, so vendors put it in a `class` GUIDRef or in metadata.
 */
function categoryClass(record: unknown): string | undefined {
  if (!isObject(record)) return undefined;
  const meta = isObject(record.metadata) ? record.metadata : {};
  return refId(record.class) ?? refId(meta.class) ?? refId(meta.classSourcedId);
}

/**
 * GET /classes/{id}/categories: the categories of the class's line items, plus those tied
 * to the class. The line items come first (all pages; the district's 404 for an unknown
 * class is the answer). Then the category collection's first page: for most districts it
 * holds every category, so one request settles it. When it does not, the rest is read
 * only if that costs fewer requests than fetching the missing categories one by one, or
 * if the district ties categories to classes (those can only be found by reading them all).
 */
async function classCategories(b: Budget, req: ProxyRequest): Promise<unknown[]> {
  const classId = req.segments[1]!;
  const items = await readWhole(b.list(`${V11}/classes/${enc(classId)}/lineItems`, 'lineItems'), []);
  const wanted = new Set(items.flatMap((li) => (isObject(li) ? (refId(li.category) ?? []) : [])));
  const kept: unknown[] = [];
  const found = new Set<string>();
  let tied = false;
  let stoppedEarly = false;
  const keep = (r: unknown) => {
    const id = idOf(r);
    const owner = categoryClass(r);
    if (owner !== undefined) tied = true;
    if (id === undefined || (!wanted.has(id) && owner !== classId)) return;
    found.add(id);
    kept.push(r);
  };
  await readWhole(
    b.list(`${V11}/categories`, 'categories', (page, read, ended) => {
      page.records.forEach(keep);
      if (ended || tied) return true;
      const missing = [...wanted].filter((id) => !found.has(id)).length;
      // Unknown length (no X-Total-Count): one request per missing category is the known cost.
      const pagesLeft = page.total === undefined ? Infinity : Math.ceil((page.total - read.length) / page.records.length);
      stoppedEarly = pagesLeft > missing;
      return !stoppedEarly;
    }),
    [],
  );
  if (stoppedEarly) {
    const missing = [...wanted].filter((id) => !found.has(id));
    b.reserve(missing.length);
    const fetched = await Promise.all(
      missing.map((id) =>
        // A line item may name a category the district has since deleted.
        b.one(`${V11}/categories/${enc(id)}`, 'category').catch((err: unknown) => {
          if (isNotFound(err)) return undefined;
          throw err;
        }),
      ),
    );
    kept.push(...fetched.filter((r) => r !== undefined));
  }
  return kept;
}

/**
 * GET /users/{id}/resources: the resources of the user's classes and of those classes'
 * courses (1.1 `/users/{id}/classes`, `/classes/{id}/resources`, `/courses/{id}/resources`),
 * each once. A user with no classes is looked up, so an unknown one answers 404 as on 1.2.
 */
async function userResources(b: Budget, req: ProxyRequest): Promise<unknown[]> {
  const userId = req.segments[1]!;
  const classes = await readWhole(b.list(`${V11}/users/${enc(userId)}/classes`, 'classes'), []);
  if (classes.length === 0) {
    await b.get(`${V11}/users/${enc(userId)}`, []);
    return [];
  }
  const classIds = [...new Set(classes.flatMap((c) => idOf(c) ?? []))];
  const courseIds = [...new Set(classes.flatMap((c) => (isObject(c) ? (refId(c.course) ?? []) : [])))];
  const paths = [...classIds.map((id) => `${V11}/classes/${enc(id)}/resources`), ...courseIds.map((id) => `${V11}/courses/${enc(id)}/resources`)];
  // At least one request each: refuse before sending any rather than part way.
  b.reserve(paths.length);
  const lists = await Promise.all(
    paths.map((path) =>
      // A class or course removed since the user's classes were read has no resources.
      readWhole(b.list(path, 'resources'), []).catch((err: unknown) => {
        if (isNotFound(err)) return [];
        throw err;
      }),
    ),
  );
  return lists.flat();
}

const DERIVE: Readonly<Record<string, { entity: Entity; read: (b: Budget, req: ProxyRequest) => Promise<unknown[]> }>> = {
  '/classes/{id}/categories': { entity: 'categories', read: classCategories },
  '/users/{id}/resources': { entity: 'resources', read: userResources },
};

export function createDerivedReads(options: DerivedReadsOptions) {
  for (const key of ['maxRecords', 'maxBytes'] as const) {
    if (!Number.isInteger(options[key]) || options[key] < 1) throw new RangeError(`createDerivedReads: ${key} must be a positive integer`);
  }
  return {
    /** How to answer `endpoint` for a caller of `callerVersion` on a district of `districtVersion` that lacks it, if it can be derived. */
    find(endpoint: Endpoint, districtVersion: Version, callerVersion: Version): Derivation | undefined {
      if (endpoint.method !== 'GET' || districtVersion !== 'v1p1' || callerVersion !== 'v1p2') return undefined;
      if (!endpoint.derivedOn?.includes(districtVersion)) return undefined;
      const how = Object.hasOwn(DERIVE, endpoint.template) ? DERIVE[endpoint.template] : undefined;
      if (!how) return undefined;
      return async (calls, req) => {
        // Checks fields and sort names in the caller's version (400 before any upstream call).
        const t = translateQuery(how.entity, req.version, req.district.version, req.query, req.query.filter);
        const b = new Budget(calls, req, { requests: req.district.maxStitchPages, bytes: options.maxBytes, records: options.maxRecords });
        const records = await options.mapAll(calls, req, how.entity, unique(await how.read(b, req)));
        const param = (k: string) => req.query.params.find(([name]) => name === k)?.[1];
        const q: LocalQuery = { filter: req.query.filter, sort: param('sort'), desc: param('orderBy') === 'desc', fields: t.fields };
        return answerLocally(calls, req, records, q);
      };
    },
  };
}

export type DerivedReads = ReturnType<typeof createDerivedReads>;
