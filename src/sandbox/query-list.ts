// Collection query parameters (limit, offset, sort, orderBy, fields, filter) and their
// application: filter first, then sort, then page, then project, as real servers do.

import { ERROR_STATUS, SandboxError } from './errors.js';
import { compare, matchesFilter, parseFilter, type Filter } from './query-filter.js';
import type { FieldCatalogue, Json } from './render-common.js';

const DEFAULT_LIMIT = 100;

export interface ListQuery {
  limit: number; // effective, after the maxPageSize clamp
  offset: number;
  sort: string; // a known field, sourcedId when none or unknown
  descending: boolean;
  fields?: string[];
  filter?: Filter;
}

export type QueryParams = ReadonlyMap<string, string>;

export function parseListQuery(params: QueryParams, catalogue: FieldCatalogue, maxPageSize?: number): ListQuery {
  const limit = integerParam(params, 'limit', DEFAULT_LIMIT, 1);
  const offset = integerParam(params, 'offset', 0, 0);
  const sortParam = params.get('sort');
  // Unknown sort fields fall back to sourcedId instead of failing, like 1.1 servers and Ed-Fi.
  const sort = sortParam !== undefined && Object.hasOwn(catalogue, sortParam) ? sortParam : 'sourcedId';
  const orderBy = params.get('orderBy');
  if (orderBy !== undefined && orderBy !== 'asc' && orderBy !== 'desc') {
    throw new SandboxError('invalidData', `orderBy must be asc or desc, got "${orderBy}"`);
  }
  const filterParam = params.get('filter');
  const fields = parseFields(params, catalogue);
  return {
    limit: maxPageSize !== undefined ? Math.min(limit, maxPageSize) : limit,
    offset,
    sort,
    descending: orderBy === 'desc',
    ...(fields ? { fields } : {}),
    ...(filterParam !== undefined && filterParam.trim() !== '' ? { filter: parseFilter(filterParam, catalogue) } : {}),
  };
}

function integerParam(params: QueryParams, name: string, fallback: number, min: number): number {
  const raw = params.get(name);
  if (raw === undefined) return fallback;
  const n = /^\d+$/.test(raw) ? Number(raw) : Number.NaN;
  if (!Number.isSafeInteger(n) || n < min) {
    throw new SandboxError('invalidData', `${name} must be an integer >= ${min}, got "${raw}"`, ERROR_STATUS.invalidData);
  }
  return n;
}

/** `fields=a,b`: every name must be a field of the entity (400 invalid_selection_field otherwise). */
export function parseFields(params: QueryParams, catalogue: FieldCatalogue): string[] | undefined {
  const raw = params.get('fields');
  if (raw === undefined) return undefined;
  const names = raw.split(',').map((f) => f.trim()).filter((f) => f !== '');
  if (names.length === 0) throw new SandboxError('invalidSelectionField', 'fields is empty');
  const unknown = names.filter((f) => !Object.hasOwn(catalogue, f));
  if (unknown.length > 0) throw new SandboxError('invalidSelectionField', `unknown selection field(s): ${unknown.join(', ')}`);
  return names;
}

export function project(record: Json, fields: readonly string[] | undefined): Json {
  if (!fields) return record;
  const out: Json = {};
  for (const f of fields) if (record[f] !== undefined) out[f] = record[f];
  return out;
}

export interface Page {
  items: Json[];
  total: number;
}

/**
 * `records` arrive in sourcedId order. Filter and sort look at the rendered JSON, exactly
 * what the client would see; only (sort key, record) pairs are kept while scanning and
 * the page is rendered again at the end, so large collections do not pile up in memory.
 */
export function applyListQuery<R>(records: readonly R[], q: ListQuery, render: (r: R) => Json): Page {
  const page = (ordered: readonly R[]): Json[] => ordered.slice(q.offset, q.offset + q.limit).map((r) => project(render(r), q.fields));
  if (!q.filter && q.sort === 'sourcedId') {
    return { items: page(q.descending ? records.slice().reverse() : records), total: records.length };
  }
  const kept: { key: string | number | undefined; record: R; index: number }[] = [];
  records.forEach((record, index) => {
    const json = render(record);
    if (q.filter && !matchesFilter(json, q.filter)) return;
    kept.push({ key: sortKey(json[q.sort]), record, index });
  });
  if (q.sort !== 'sourcedId' || q.descending) kept.sort(sorter(q.descending));
  return { items: page(kept.map((k) => k.record)), total: kept.length };
}

function sortKey(v: unknown): string | number | undefined {
  const first = Array.isArray(v) ? v[0] : v;
  if (typeof first === 'string' || typeof first === 'number') return first;
  if (typeof first === 'object' && first !== null && typeof (first as Json).sourcedId === 'string') return (first as Json).sourcedId as string;
  return undefined;
}

interface Keyed {
  key: string | number | undefined;
  index: number; // position in sourcedId order, the tie-breaker
}

/** Missing values sort last either way; ties keep sourcedId order so paging stays stable. */
function sorter(descending: boolean): (a: Keyed, b: Keyed) => number {
  return (a, b) => {
    if (a.key === undefined || b.key === undefined) {
      if (a.key === b.key) return a.index - b.index;
      return a.key === undefined ? 1 : -1;
    }
    const c = compare(a.key, b.key) * (descending ? -1 : 1);
    return c !== 0 ? c : a.index - b.index;
  };
}
