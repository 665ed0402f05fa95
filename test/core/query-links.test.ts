import { describe, expect, it } from 'vitest';
import { buildLinkHeader, linkHasRel, listHeaders, parseTotalCount } from '../../src/core/oneroster/links.js';
import { parseRawQuery, readPageQuery } from '../../src/core/oneroster/query.js';
import { NO_REDACTION, redactDescription } from '../../src/core/redact.js';
import { readUpstreamStatusInfo } from '../../src/core/oneroster/status-info.js';
import { encodeRfc3986 } from '../../src/core/rfc3986.js';

describe('query parameters', () => {
  it('decodes form encoding and keeps only OneRoster parameters for the endpoint kind', () => {
    const pairs = parseRawQuery("?filter=familyName%3D'O%27Brien'+AND+status%3D'active'&limit=5&foo=bar&fields=sourcedId");
    expect(pairs[0]).toEqual(['filter', "familyName='O'Brien' AND status='active'"]);
    const q = readPageQuery('collection', pairs);
    expect(q.params.map(([k]) => k)).toEqual(['filter', 'limit', 'fields']);
    expect(q).toMatchObject({ limit: 5, offset: 0, limitGiven: true });
    expect(readPageQuery('single', pairs).params).toEqual([['fields', 'sourcedId']]);
    expect(readPageQuery('collection', []).limit).toBe(100);
  });

  it('rejects bad paging values, duplicates, empty filters and malformed encoding', () => {
    for (const bad of ['limit=0', 'limit=10001', 'limit=abc', 'offset=-1', 'orderBy=up', 'limit=1&limit=2']) {
      expect(() => readPageQuery('collection', parseRawQuery(bad)), bad).toThrow();
    }
    expect(() => readPageQuery('collection', parseRawQuery('filter='))).toThrow(expect.objectContaining({ code: 'invalid_filter' }));
    expect(() => parseRawQuery('filter=%ZZ')).toThrow(/malformed/);
  });

  it('encodes per RFC 3986', () => {
    expect(encodeRfc3986("a b'!*()=~")).toBe('a%20b%27%21%2A%28%29%3D~');
  });
});

describe('Link headers', () => {
  it('builds next, prev, first and last at the gateway, keeping other parameters', () => {
    const link = buildLinkHeader({ base: 'https://gw/ims/oneroster/v1p1/users', params: [['filter', "status='active'"]], limit: 10, offset: 10, total: 35, hasMore: false })!;
    expect(link).toContain('<https://gw/ims/oneroster/v1p1/users?filter=status%3D%27active%27&limit=10&offset=20>; rel="next"');
    expect(link).toContain('offset=0>; rel="prev"');
    expect(link).toContain('offset=0>; rel="first"');
    expect(link).toContain('offset=30>; rel="last"');
  });

  it('omits next on the last page and everything on a single page', () => {
    expect(buildLinkHeader({ base: 'b', params: [], limit: 10, offset: 0, total: 7, hasMore: false })).toBeUndefined();
    expect(buildLinkHeader({ base: 'b', params: [], limit: 10, offset: 20, total: 25, hasMore: false })).not.toContain('rel="next"');
    expect(buildLinkHeader({ base: 'b', params: [], limit: 10, offset: 0, hasMore: true })).toContain('rel="next"');
  });

  it("gives a list page's headers: X-Total-Count only when the total is known, Link only when there is one", () => {
    const input = { base: 'b', params: [], limit: 10, offset: 10, total: 35, hasMore: false };
    expect(listHeaders(input)).toEqual({ 'x-total-count': '35', link: buildLinkHeader(input) });
    expect(Object.keys(listHeaders(input))).toEqual(['x-total-count', 'link']);
    expect(listHeaders({ base: 'b', params: [], limit: 10, offset: 0, total: 7, hasMore: false })).toEqual({ 'x-total-count': '7' });
    expect(listHeaders({ base: 'b', params: [], limit: 10, offset: 0, hasMore: false })).toEqual({});
    expect(Object.keys(listHeaders({ base: 'b', params: [], limit: 10, offset: 0, hasMore: true }))).toEqual(['link']);
  });

  it('reads upstream Link and X-Total-Count leniently', () => {
    expect(linkHasRel('<http://x?offset=5>; rel="next", <http://x>; rel="last"', 'next')).toBe(true);
    expect(linkHasRel('http://x?offset=5; ref="next"', 'next')).toBe(true);
    expect(linkHasRel('<http://x>; rel="last"', 'next')).toBe(false);
    expect(parseTotalCount(' 42 ')).toBe(42);
    expect(parseTotalCount('many')).toBeUndefined();
  });
});

describe('upstream status info', () => {
  it('reads 1.1 arrays, 1.2 objects and flat strings; the description as written (redacted by the caller)', () => {
    expect(readUpstreamStatusInfo(404, { statusInfoSet: [{ imsx_codeMinor: 'unknown object', imsx_description: 'see https://sis.internal/x' }] })).toEqual({
      codeMinor: 'unknownobject',
      description: 'see https://sis.internal/x',
    });
    expect(redactDescription('see https://sis.internal/x', NO_REDACTION)).toBe('see [url]');
    expect(readUpstreamStatusInfo(400, { imsx_codeMinor: '__proto__' }).codeMinor).toBe('invaliddata');
    expect(
      readUpstreamStatusInfo(400, { imsx_CodeMinor: { imsx_codeMinorField: [{ imsx_codeMinorFieldValue: 'invalid_filter_field' }] } }).codeMinor,
    ).toBe('invalid_filter_field');
    expect(readUpstreamStatusInfo(429, '<html>').codeMinor).toBe('server_busy');
  });
});
