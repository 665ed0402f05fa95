import { GatewayError } from '../errors.js';
import type { EndpointKind } from './endpoints.js';
import type { FilterNode } from './filter.js';

// The OneRoster query parameters (1.2 OpenAPI); anything else is not forwarded.
export const COLLECTION_PARAMS = ['limit', 'offset', 'sort', 'orderBy', 'filter', 'fields'] as const;
export const SINGLE_PARAMS = ['fields'] as const;

/** OneRoster's default page size (1.2 OpenAPI `limit` default). */
export const DEFAULT_LIMIT = 100;
/** Largest page the gateway assembles for one request. */
export const MAX_LIMIT = 10_000;
const MAX_PARAM_LENGTH = 4096;
const LONE_SURROGATE = /\p{Cs}/u;

export type QueryPairs = Array<[string, string]>;

/** The parameters of a page's query but its paging: what every page of one read shares. */
export function withoutPaging(params: QueryPairs): QueryPairs {
  return params.filter(([k]) => k !== 'limit' && k !== 'offset');
}

/** Decodes a raw query string as application/x-www-form-urlencoded ('+' is a space). */
export function parseRawQuery(raw: string): QueryPairs {
  const q = raw.startsWith('?') ? raw.slice(1) : raw;
  if (!q) return [];
  const out: QueryPairs = [];
  for (const part of q.split('&')) {
    if (!part) continue;
    const eq = part.indexOf('=');
    const k = eq < 0 ? part : part.slice(0, eq);
    const v = eq < 0 ? '' : part.slice(eq + 1);
    let pair: [string, string];
    try {
      pair = [decodeURIComponent(k.replace(/\+/g, ' ')), decodeURIComponent(v.replace(/\+/g, ' '))];
    } catch {
      throw new GatewayError('invalid_query', 'The query string has malformed percent-encoding.');
    }
    // A lone UTF-16 surrogate has no UTF-8 form: it could be neither forwarded nor keyed.
    if (LONE_SURROGATE.test(pair[0]) || LONE_SURROGATE.test(pair[1])) {
      throw new GatewayError('invalid_query', 'The query string holds a lone UTF-16 surrogate.');
    }
    out.push(pair);
  }
  return out;
}

export interface PageQuery {
  /**
   * The OneRoster parameters to forward, in the client's order. The route plan checks the
   * names in filter, sort and fields against the path version's model, and writes `fields`
   * back as the list it checked (trimmed, without repeats).
   */
  params: QueryPairs;
  /** The page the client asked for (defaults applied). */
  limit: number;
  offset: number;
  limitGiven: boolean;
  /** A collection read: limit and offset apply. */
  paged: boolean;
  /** The `filter` parameter, parsed and checked against the caller's version (route plan). */
  filter?: FilterNode;
  /**
   * The gateway's own `snapshot` parameter (a mirrored district's Link URLs carry it): the copy
   * the request is pinned to. Never forwarded: it is not in `params`.
   */
  snapshot?: string;
}

/** An X-Mirror-Version value: `epoch.copy`. */
const SNAPSHOT = /^[0-9a-f]{1,32}\.[1-9][0-9]{0,9}$/;

const BLANK_ERROR = { filter: 'invalid_filter', fields: 'invalid_selection', sort: 'invalid_sort' } as const;

function nonNegativeInt(name: string, value: string, min: number, max: number): number {
  if (!/^\d+$/.test(value)) throw new GatewayError('invalid_query', `${name} must be an integer from ${min} to ${max}.`);
  const n = Number(value);
  if (n < min || n > max) throw new GatewayError('invalid_query', `${name} must be an integer from ${min} to ${max}.`);
  return n;
}

/** Keeps the OneRoster parameters an endpoint accepts and checks their values. */
export function readPageQuery(kind: EndpointKind, pairs: QueryPairs): PageQuery {
  const allowed: readonly string[] = kind === 'collection' ? COLLECTION_PARAMS : kind === 'single' ? SINGLE_PARAMS : [];
  const seen = new Set<string>();
  const params: QueryPairs = [];
  let snapshot: string | undefined;
  for (const [k, v] of pairs) {
    if (k === 'snapshot' && kind !== 'write') {
      if (snapshot !== undefined) throw new GatewayError('invalid_query', 'Query parameter snapshot may be given only once.');
      if (!SNAPSHOT.test(v)) throw new GatewayError('invalid_query', 'snapshot must be the X-Mirror-Version of an earlier answer.');
      snapshot = v;
      continue;
    }
    if (!allowed.includes(k)) continue;
    if (seen.has(k)) throw new GatewayError('invalid_query', `Query parameter ${k} may be given only once.`);
    if (v.length > MAX_PARAM_LENGTH) throw new GatewayError('invalid_query', `Query parameter ${k} is longer than ${MAX_PARAM_LENGTH} characters.`);
    seen.add(k);
    params.push([k, v]);
  }
  const get = (k: string) => params.find(([name]) => name === k)?.[1];
  const limitRaw = get('limit');
  const offsetRaw = get('offset');
  const orderBy = get('orderBy');
  if (orderBy !== undefined && orderBy !== 'asc' && orderBy !== 'desc') {
    throw new GatewayError('invalid_query', 'orderBy must be asc or desc.');
  }
  for (const k of ['filter', 'fields', 'sort'] as const) {
    // Blank too: `fields=,` selects nothing (1.1 invalid_blank_selection_field), `sort=%20` names no field.
    if (get(k)?.replace(k === 'fields' ? /[\s,]/g : /\s/g, '') === '') {
      throw new GatewayError(BLANK_ERROR[k], `Query parameter ${k} may not be empty.`);
    }
  }
  return {
    params,
    limit: limitRaw === undefined ? DEFAULT_LIMIT : nonNegativeInt('limit', limitRaw, 1, MAX_LIMIT),
    offset: offsetRaw === undefined ? 0 : nonNegativeInt('offset', offsetRaw, 0, 2_000_000_000),
    limitGiven: limitRaw !== undefined,
    paged: kind === 'collection',
    ...(snapshot !== undefined ? { snapshot } : {}),
  };
}
