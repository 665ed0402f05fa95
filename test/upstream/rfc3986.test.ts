import { describe, expect, it } from 'vitest';
import { buildQueryString, encodeRfc3986, parseQueryString } from '../../src/upstream/rfc3986.js';

describe('encodeRfc3986', () => {
  it('leaves only the unreserved set bare', () => {
    const unreserved = 'ABCXYZabcxyz0189-._~';
    expect(encodeRfc3986(unreserved)).toBe(unreserved);
  });

  it("encodes ! * ' ( ) which encodeURIComponent leaves bare", () => {
    expect(encodeRfc3986("!*'()")).toBe('%21%2A%27%28%29');
  });

  it('encodes space as %20, never +, and + itself', () => {
    expect(encodeRfc3986('a b+c')).toBe('a%20b%2Bc');
  });

  it('encodes = & / ? # % : and comparison operators', () => {
    expect(encodeRfc3986("status='active'")).toBe('status%3D%27active%27');
    expect(encodeRfc3986('a&b/c?d#e%f:g')).toBe('a%26b%2Fc%3Fd%23e%25f%3Ag');
    expect(encodeRfc3986('x>=1<2')).toBe('x%3E%3D1%3C2');
  });

  it('encodes unicode as UTF-8 with upper-case hex', () => {
    expect(encodeRfc3986('é')).toBe('%C3%A9');
    expect(encodeRfc3986('Zoë 😀')).toBe('Zo%C3%AB%20%F0%9F%98%80');
    expect(encodeRfc3986('\u00ff')).not.toMatch(/%[0-9A-F]?[a-f]/);
  });

  it('rejects a lone surrogate with a clear error', () => {
    expect(() => encodeRfc3986('\ud800')).toThrow(/surrogate/);
  });
});

describe('buildQueryString', () => {
  it('is empty for no parameters', () => {
    expect(buildQueryString([])).toBe('');
  });

  it('keeps order and duplicates, encoding keys and values', () => {
    const qs = buildQueryString([
      ['sort', 'familyName'],
      ['filter', "status='active' AND familyName~'o'"],
      ['fields', 'sourcedId,givenName'],
      ['sort', 'a'],
      ['we ird', '(x)'],
    ]);
    expect(qs).toBe(
      'sort=familyName&filter=status%3D%27active%27%20AND%20familyName~%27o%27&fields=sourcedId%2CgivenName&sort=a&we%20ird=%28x%29',
    );
  });
});

describe('parseQueryString', () => {
  it('round-trips buildQueryString, = and + included', () => {
    const pairs: Array<[string, string]> = [
      ['filter', "status='active'"],
      ['a+b', '1 + 1 = 2'],
      ['empty', ''],
      ['ü', '!*()'],
    ];
    expect(parseQueryString(buildQueryString(pairs))).toEqual(pairs);
  });

  it('splits on the first = only and reads + as space', () => {
    expect(parseQueryString("filter=status='a'&x=1+2&flag")).toEqual([
      ['filter', "status='a'"],
      ['x', '1 2'],
      ['flag', ''],
    ]);
  });
});
