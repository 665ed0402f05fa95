import { describe, expect, it } from 'vitest';
import { negotiateEncoding, type ContentCoding } from '../../../src/core/http/accept-encoding.js';
import { entityTag, ifNoneMatchNames } from '../../../src/core/http/etag.js';

const BOTH: ContentCoding[] = ['br', 'gzip'];

describe('Accept-Encoding negotiation (RFC 9110 §12.5.3)', () => {
  it.each([
    // header, offered, expected
    [undefined, BOTH, 'identity'],
    ['', BOTH, 'identity'],
    ['gzip', BOTH, 'gzip'],
    ['br', BOTH, 'br'],
    ['gzip, deflate, br', BOTH, 'br'], // alike: the gateway's order
    ['gzip, deflate, br', ['gzip', 'br'], 'gzip'],
    ['gzip, deflate', BOTH, 'gzip'], // requests, axios
    ['gzip;q=1.0, br;q=0.5', BOTH, 'gzip'],
    ['br;q=0.2, gzip;q=0.8', BOTH, 'gzip'],
    ['gzip;q=0, br', BOTH, 'br'],
    ['gzip;q=0', BOTH, 'identity'],
    ['br;q=0, gzip;q=0', BOTH, 'identity'],
    ['*', BOTH, 'br'],
    ['*;q=0.5, br;q=0', BOTH, 'gzip'],
    ['*;q=0', BOTH, 'identity'], // refuses identity too: the header is disregarded
    ['identity', BOTH, 'identity'],
    ['identity;q=1, gzip;q=0.5', BOTH, 'identity'],
    ['gzip, identity;q=0', BOTH, 'gzip'],
    ['identity;q=0', BOTH, 'identity'],
    ['deflate', BOTH, 'identity'],
    ['x-gzip', BOTH, 'gzip'],
    ['GZIP', BOTH, 'gzip'],
    ['gzip;q=0.001', BOTH, 'gzip'],
    ['gzip;q=1.5, br;q=2', BOTH, 'identity'], // malformed q: ignored
    ['gzip;q=abc', BOTH, 'identity'],
    ['gzip;level=1', BOTH, 'identity'], // no such parameter
    ['gzip, gzip;q=0', BOTH, 'gzip'], // named twice: the first
    [' ,, gzip ,', BOTH, 'gzip'],
    ['gzip', [], 'identity'], // compression off
  ] as Array<[string | undefined, ContentCoding[], string]>)('%j offering %j -> %s', (header, offered, expected) => {
    expect(negotiateEncoding(header, offered)).toBe(expected);
  });

  it('reads no more than 64 members of a hostile header', () => {
    const header = `${Array.from({ length: 10_000 }, (_, i) => `x${i}`).join(', ')}, gzip`;
    expect(negotiateEncoding(header, BOTH)).toBe('identity');
  });
});

describe('entity tags and If-None-Match (RFC 9110 §13.1.2)', () => {
  const tag = entityTag('abc', 'identity');
  it('gives each coding of one body its own strong tag', () => {
    expect(tag).toBe('"abc"');
    expect(entityTag('abc', 'gzip')).toBe('"abc-gzip"');
    expect(new Set([tag, entityTag('abc', 'gzip'), entityTag('abc', 'br')]).size).toBe(3);
  });
  it.each([
    ['"abc"', true],
    ['W/"abc"', true], // weak comparison
    ['"x", "abc"', true],
    [' "x" ,W/"abc" ', true],
    ['*', true],
    ['"abc-gzip"', false],
    ['abc', false], // not quoted
    ['"ab"', false],
    ['', false],
  ])('%j names "abc": %s', (header, names) => {
    expect(ifNoneMatchNames(header, tag)).toBe(names);
  });
  it('reads no more than 64 tags of a hostile header', () => {
    expect(ifNoneMatchNames(`${'"x", '.repeat(10_000)}"abc"`, tag)).toBe(false);
  });
});
