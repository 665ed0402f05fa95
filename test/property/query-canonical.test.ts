// Fuzzing query parsing and cache-key canonicalization: arbitrary raw queries fail only with
// the typed 4xx error; queries the code documents as equivalent (parameter order, percent-
// encoding, explicit paging defaults, the spelling of a `fields` list) share a key; queries
// that mean something different never do.
import { isDeepStrictEqual } from 'node:util';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { cacheKey, canonicalQuery } from '../../src/core/cache-key.js';
import { GatewayError } from '../../src/core/errors.js';
import type { EndpointKind } from '../../src/core/oneroster/endpoints.js';
import { readFields, readSort } from '../../src/core/oneroster/selection.js';
import { readFilter } from '../../src/core/oneroster/filter-fields.js';
import { parseFilter } from '../../src/core/oneroster/filter.js';
import { DEFAULT_LIMIT, parseRawQuery, readPageQuery, type PageQuery } from '../../src/core/oneroster/query.js';
import { anyText, encodeVariant, encodingChoices, rawQueryPiece } from './arbitraries.js';

const QUERY_CODES = new Set(['invalid_query', 'invalid_filter', 'invalid_selection', 'invalid_sort']);
type Outcome = { key: string; query: PageQuery } | { code: string };

/** What the route plan does with a raw query (parse, check, filter against 1.1 users), then the cache key. */
function outcome(kind: EndpointKind, raw: string): Outcome {
  try {
    const query = readPageQuery(kind, parseRawQuery(raw));
    const filter = query.params.find(([k]) => k === 'filter')?.[1];
    const wrapper = kind === 'single' ? 'user' : 'users';
    if (filter !== undefined) query.filter = readFilter('v1p1', wrapper, filter);
    // As the route plan does: sort and fields named against the model, fields sent as checked.
    const sort = query.params.find(([k]) => k === 'sort')?.[1];
    if (sort !== undefined) readSort('v1p1', wrapper, sort);
    const fields = query.params.find(([k]) => k === 'fields')?.[1];
    if (fields !== undefined) {
      const list = readFields('v1p1', wrapper, fields).join(',');
      query.params = query.params.map(([k, v]) => [k, k === 'fields' ? list : v]);
    }
    const key = cacheKey({ upstreamVersion: 'v1p1', responseVersion: 'v1p1', resourceUrl: 'http://gw/ims/oneroster/v1p1/users', query });
    return { key, query };
  } catch (e) {
    if (e instanceof GatewayError && QUERY_CODES.has(e.code) && e.status === 400) return { code: e.code };
    throw e;
  }
}
const sameOutcome = (a: Outcome, b: Outcome) => ('key' in a && 'key' in b ? a.key === b.key : 'code' in a && 'code' in b && a.code === b.code);

const kind = fc.constantFrom<EndpointKind>('collection', 'single', 'write');

// A query as a client means it: each OneRoster parameter at most once, from small vocabularies
// so that near-collisions (a space, a case, a leading zero) come up often.
const FIELD_NAMES = ['sourcedId', 'givenName', 'familyName', 'status', 'role', ' givenName', 'email '];
const VALUES = {
  limit: fc.oneof({ weight: 4, arbitrary: fc.constantFrom('1', '5', '05', '100', '10000') }, fc.constantFrom('0', '10001', 'abc', '', '+5')),
  offset: fc.oneof({ weight: 4, arbitrary: fc.constantFrom('0', '00', '1', '5') }, fc.constantFrom('-1', '')),
  sort: fc.constantFrom('familyName', ' familyName', 'familyName ', 'familyName\t', 'FamilyName', 'givenName', '', ' '),
  orderBy: fc.constantFrom('asc', 'desc', 'ASC', ' asc', ''),
  filter: fc.constantFrom("givenName='x'", "givenName='x '", "givenName='X'", " givenName='x' ", "givenName = 'x'", "givenName='x' AND role='student'", "givenName='x", '', ' '),
  fields: fc.array(fc.constantFrom(...FIELD_NAMES, '', ' '), { maxLength: 4 }).map((f) => f.join(',')),
};
const PARAMS = Object.keys(VALUES) as Array<keyof typeof VALUES>;
const model = fc.record(VALUES, { requiredKeys: [] });
type Model = Partial<Record<'limit' | 'offset' | 'sort' | 'orderBy' | 'filter' | 'fields', string>>;

/** The meaning of an accepted query, written from the documentation, not from the key code. */
function meaning(k: EndpointKind, q: PageQuery): unknown {
  const get = (name: string) => q.params.find(([n]) => n === name)?.[1];
  const fields = get('fields');
  const filter = get('filter');
  return {
    paging: k === 'collection' ? [q.limit, q.offset] : null,
    sort: get('sort') ?? null,
    orderBy: get('orderBy') ?? null,
    fields: fields === undefined ? null : [...new Set(fields.split(',').map((f) => f.trim()).filter(Boolean))].sort(),
    filter: filter === undefined ? null : parseFilter(filter),
  };
}

const plain = (m: Model) => Object.entries(m).map(([k, v]) => `${k}=${encodeURIComponent(v)}`).join('&');

/** Another spelling of the same query: order, encoding, defaults, the `fields` list and ignored extras. */
const respelling = fc.record({
  order: fc.array(fc.double({ noNaN: true }), { minLength: 8, maxLength: 8 }),
  enc: encodingChoices,
  explicitLimit: fc.boolean(),
  explicitOffset: fc.boolean(),
  fieldsOrder: fc.array(fc.double({ noNaN: true }), { minLength: 8, maxLength: 8 }),
  fieldsDup: fc.boolean(),
  fieldsPad: fc.constantFrom('', ' ', ',', ', '),
  filterPad: fc.constantFrom('', ' ', '\t', ' \t '),
  extras: fc.subarray(['x=1', 'Limit=7', 'page=2', 'FILTER=zz', 'limit%20=9', 'callback=%3Cscript%3E']),
  question: fc.boolean(),
});
type Respelling = typeof respelling extends fc.Arbitrary<infer T> ? T : never;

function respell(m: Model, r: Respelling): string {
  const pairs: Array<[string, string]> = Object.entries(m);
  if (r.explicitLimit && m.limit === undefined) pairs.push(['limit', String(DEFAULT_LIMIT)]);
  if (r.explicitOffset && m.offset === undefined) pairs.push(['offset', '0']);
  const out = pairs.map(([k, v]): [string, string] => {
    if (k === 'fields') {
      const names = v.split(',');
      const order = names.map((n, i) => [r.fieldsOrder[i % 8]!, n] as const).sort((a, b) => a[0] - b[0]).map(([, n]) => n);
      if (r.fieldsDup && order.length > 0) order.push(order[0]!);
      return [k, order.join(',') + r.fieldsPad];
    }
    if (k === 'filter' && v.trim() !== '') return [k, `${r.filterPad}${v}${r.filterPad}`];
    return [k, v];
  });
  const encoded = out.map(([k, v]) => `${encodeVariant(k, r.enc)}=${encodeVariant(v, [...r.enc].reverse())}`);
  const all = [...encoded, ...r.extras].map((p, i) => [r.order[i % 8]! + i / 1000, p] as const).sort((a, b) => a[0] - b[0]).map(([, p]) => p);
  return (r.question ? '?' : '') + all.join('&');
}

describe('raw query parsing', () => {
  const named = fc.tuple(fc.constantFrom('limit', 'offset', 'sort', 'orderBy', 'filter', 'fields', 'x'), anyText).map(([k, v]) => `${k}=${v}`);
  const rawQuery = fc.oneof(
    anyText,
    fc.array(rawQueryPiece, { maxLength: 30 }).map((p) => p.join('')),
    fc.array(named, { minLength: 1, maxLength: 4 }).map((p) => p.join('&')),
  );

  it('parseRawQuery returns pairs or throws invalid_query 400', () => {
    fc.assert(
      fc.property(rawQuery, (raw) => {
        try {
          return parseRawQuery(raw).every(([k, v]) => typeof k === 'string' && typeof v === 'string');
        } catch (e) {
          return e instanceof GatewayError && e.code === 'invalid_query' && e.status === 400;
        }
      }),
      { numRuns: 3000 },
    );
  });

  it('parse, check and cache key: a key or a 400 query error, never another exception, for any raw query', () => {
    fc.assert(
      fc.property(kind, rawQuery, (k, raw) => {
        outcome(k, raw);
      }),
      { numRuns: 3000 },
    );
  });

  it('readPageQuery answers arbitrary decoded pairs with a page query or a 400', () => {
    const name = fc.oneof(fc.constantFrom('limit', 'offset', 'sort', 'orderBy', 'filter', 'fields'), fc.string({ maxLength: 6 }));
    const value = fc.oneof(anyText, fc.stringMatching(/^[0-9]{0,12}$/), fc.constant('x'.repeat(5000)));
    fc.assert(
      fc.property(kind, fc.array(fc.tuple(name, value), { maxLength: 8 }), (k, pairs) => {
        try {
          const q = readPageQuery(k, pairs);
          return Number.isInteger(q.limit) && q.limit >= 1 && Number.isInteger(q.offset) && q.offset >= 0;
        } catch (e) {
          return e instanceof GatewayError && QUERY_CODES.has(e.code) && e.status === 400;
        }
      }),
      { numRuns: 2000 },
    );
  });
});

describe('cache-key canonicalization', () => {
  it('is insensitive to order, percent-encoding, explicit paging defaults, fields spelling and ignored parameters', () => {
    fc.assert(
      fc.property(kind, model, respelling, respelling, (k, m, r1, r2) => sameOutcome(outcome(k, respell(m, r1)), outcome(k, respell(m, r2)))),
      { numRuns: 2000 },
    );
  });

  it('is idempotent: the canonical query reads back to the same key', () => {
    fc.assert(
      fc.property(kind, model, respelling, (k, m, r) => {
        const first = outcome(k, respell(m, r));
        if (!('key' in first)) return true;
        const again = outcome(k, canonicalQuery(first.query));
        return 'key' in again && again.key === first.key && canonicalQuery(again.query) === canonicalQuery(first.query);
      }),
      { numRuns: 2000 },
    );
  });

  it('never gives two queries of different meaning the same key', () => {
    // The second query is the first with one parameter dropped or given another near value.
    const change = fc.constantFrom(...PARAMS).chain((param) => fc.tuple(fc.constant(param), fc.option(VALUES[param], { freq: 4 })));
    const mostlyCollection = fc.oneof({ weight: 4, arbitrary: fc.constant<EndpointKind>('collection') }, kind);
    fc.assert(
      fc.property(mostlyCollection, model, change, (k, m1, [param, value]) => {
        const m2: Model = { ...m1 };
        if (value === null) delete m2[param];
        else m2[param] = value;
        const a = outcome(k, plain(m1));
        const b = outcome(k, plain(m2));
        if (!('key' in a) || !('key' in b) || a.key !== b.key) return true;
        return isDeepStrictEqual(meaning(k, a.query), meaning(k, b.query));
      }),
      { numRuns: 3000 },
    );
  });

  it('keeps the parts of a cache key apart (versions, resource URL, query)', () => {
    const version = fc.constantFrom('v1p1', 'v1p2');
    const url = fc.stringMatching(/^http:\/\/gw(:[0-9]{1,4})?\/ims\/oneroster\/v1p1\/[A-Za-z0-9%._~/-]{0,12}$/);
    const input = fc.record({ upstreamVersion: version, responseVersion: version, resourceUrl: url, raw: fc.constantFrom('', 'limit=5', 'sort=a', 'fields=a,b', 'limit=5&offset=1') });
    fc.assert(
      fc.property(input, input, (a, b) => {
        const key = (i: typeof a) => cacheKey({ ...i, query: readPageQuery('collection', parseRawQuery(i.raw)) });
        const sameInput = a.upstreamVersion === b.upstreamVersion && a.responseVersion === b.responseVersion && a.resourceUrl === b.resourceUrl && a.raw === b.raw;
        return sameInput === (key(a) === key(b));
      }),
      { numRuns: 2000 },
    );
  });

  it('regressions: a padded sort is refused (not served the page of the bare one); blank fields and sort and lone surrogates are refused', () => {
    // A district would sort an unknown (padded) field its own way; the gateway checks sort
    // names itself, so `sort=%20familyName` is a 400, not another district-sorted page.
    expect('key' in outcome('collection', 'sort=familyName')).toBe(true);
    expect(outcome('collection', 'sort=%20familyName')).toEqual({ code: 'invalid_sort' });
    for (const raw of ['fields=,', 'fields=%20', 'fields=%20,%20']) {
      expect(outcome('collection', raw)).toEqual({ code: 'invalid_selection' });
    }
    expect(outcome('collection', 'sort=%20')).toEqual({ code: 'invalid_sort' });
    // Decoded text with a lone surrogate (no UTF-8 form) used to reach the key builder's TypeError.
    expect(outcome('collection', 'sort=\ud800')).toEqual({ code: 'invalid_query' });
  });
});
