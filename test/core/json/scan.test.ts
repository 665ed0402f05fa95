import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { scanJson } from '../../../src/core/json/scan.js';

const PREFIX = 'https://sis.example.org/ims/oneroster';
const bytes = (s: string) => Buffer.from(s, 'utf8');
const accepts = (s: string) => {
  try {
    JSON.parse(s);
    return true;
  } catch {
    return false;
  }
};

/** What the scan must report, from the parsed value: href string values and prefixed string values, in document order. */
function expectedStrings(value: unknown, out: string[] = [], href = false): string[] {
  if (typeof value === 'string') {
    if (href || value.startsWith(PREFIX)) out.push(value);
  } else if (Array.isArray(value)) for (const v of value) expectedStrings(v, out);
  else if (value && typeof value === 'object') for (const [k, v] of Object.entries(value)) expectedStrings(v, out, k === 'href');
  return out;
}

// Values a district page is made of: records with hrefs (some prefixed, some not), odd strings and keys.
const text = fc.oneof(fc.string(), fc.constantFrom(PREFIX, `${PREFIX}/orgs/1`, 'href', '\\"', 'é\u2028', '\ud800'), fc.string().map((s) => `${PREFIX}${s}`));
const value = fc.letrec((tie) => ({
  node: fc.oneof({ depthSize: 'small', withCrossShrink: true }, tie('leaf'), tie('array'), tie('object')),
  leaf: fc.oneof(text, fc.double({ noNaN: true, noDefaultInfinity: true }), fc.integer(), fc.boolean(), fc.constant(null)),
  array: fc.array(tie('node'), { maxLength: 5 }),
  object: fc.dictionary(fc.oneof(fc.string(), fc.constantFrom('href', 'users', 'statusInfoSet')), tie('node'), { maxKeys: 5 }),
}));
// JSON texts as servers write them: compact, indented, or with odd whitespace around tokens.
const jsonText = fc.tuple(value.node, fc.constantFrom(undefined, 2, '\t'), fc.constantFrom('', ' ', '\r\n')).map(([v, indent, pad]) => `${pad}${JSON.stringify(v, null, indent)}${pad}`);

describe('scanJson', () => {
  it('accepts exactly what JSON.parse accepts: valid texts and any one-character edit of them', () => {
    const edit = fc.tuple(jsonText, fc.nat(), fc.constantFrom('delete', 'insert', 'replace'), fc.constantFrom(...'{}[]",:\\ 0123456789-+.eEtrufalsn\u0000\u001f\n\tx'.split('')));
    fc.assert(
      fc.property(edit, ([s, at, op, ch]) => {
        const i = s.length === 0 ? 0 : at % s.length;
        const t = op === 'delete' ? s.slice(0, i) + s.slice(i + 1) : op === 'insert' ? s.slice(0, i) + ch + s.slice(i) : s.slice(0, i) + ch + s.slice(i + 1);
        expect(scanJson(bytes(s)) !== undefined).toBe(true);
        expect(scanJson(bytes(t)) !== undefined).toBe(accepts(t));
      }),
      { numRuns: 3000 },
    );
  });

  it('refuses what JSON.parse refuses (a table of the grammar’s corners)', () => {
    const cases = ['', ' ', '{', '}', '[1,]', '{"a":1,}', '{"a" 1}', '{a:1}', "{'a':1}", '01', '-', '1.', '1.e5', '.5', '+1', '1e', '1e+', 'tru', 'nul', 'NaN', 'Infinity',
      '"\\x"', '"\\u12"', '"\\u12g4"', '"a\tb"', '"a\nb"', '"\u0000"', '"abc', '[1 2]', '{"a":1 "b":2}', '[]]', '{}{}', '\ufeff{}', '[1,,2]', '{,}', '"\\"'];
    for (const s of cases) expect([s, scanJson(bytes(s)) !== undefined]).toEqual([s, accepts(s)]);
    const ok = ['0', '-0', '1e5', '-1.5E-3', '"\\u00e9\\/\\b\\f\\n\\r\\t\\"\\\\"', 'true', ' null ', '[]', '{}', '[[],{}]', '{"":""}', '"\u2028"'];
    for (const s of ok) expect([s, scanJson(bytes(s)) !== undefined]).toEqual([s, true]);
  });

  it('names the top-level members, their kinds and spans, and counts the elements of array members', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string(), value.node, { maxKeys: 6 }), fc.constantFrom(undefined, 1), (obj, indent) => {
        const s = JSON.stringify(obj, null, indent);
        const b = bytes(s);
        const scan = scanJson(b)!;
        expect([...scan.members!.keys()].sort()).toEqual(Object.keys(obj).sort());
        for (const [k, m] of scan.members!) {
          // As the text says it (JSON has no -0: the object may, its text does not).
          const v = (JSON.parse(s) as Record<string, unknown>)[k];
          expect(JSON.parse(b.subarray(m.start, m.end).toString('utf8'))).toEqual(v);
          const kind = Array.isArray(v) ? 'array' : v === null || typeof v === 'boolean' ? 'literal' : typeof v;
          expect(m.kind).toBe(kind);
          if (Array.isArray(v)) expect(m.count).toBe(v.length);
        }
      }),
      { numRuns: 1000 },
    );
    expect(scanJson(bytes('[1,2]'))!.members).toBeUndefined();
    // A repeated key: the last one, as JSON.parse keeps it.
    const rep = scanJson(bytes('{"users":[1],"users":[1,2,3]}'))!;
    expect(rep.members!.get('users')!.count).toBe(3);
    // An escaped key is decoded.
    expect([...scanJson(bytes('{"us\\u0065rs":[]}'))!.members!.keys()]).toEqual(['users']);
  });

  it('reports every href string value and every string value starting with the prefix, never a key, in order', () => {
    fc.assert(
      fc.property(jsonText, (s) => {
        const b = bytes(s);
        const scan = scanJson(b, bytes(PREFIX))!;
        const found: string[] = [];
        for (let k = 0; k < scan.strings.length; k += 2) found.push(JSON.parse(b.subarray(scan.strings[k]!, scan.strings[k + 1]!).toString('utf8')) as string);
        expect(found).toEqual(expectedStrings(JSON.parse(s)));
      }),
      { numRuns: 2000 },
    );
    // An href key written with escapes is an href key all the same; an array's "href" is not one.
    const s = '{"h\\u0072ef":"x","href":"y","a":["href"],"k":{"href":{"href":"z"}},"\\u0068\\u0072\\u0065\\u0066":"w"}';
    const scan = scanJson(bytes(s))!;
    const found = [];
    for (let k = 0; k < scan.strings.length; k += 2) found.push(JSON.parse(s.slice(scan.strings[k], scan.strings[k + 1])));
    expect(found).toEqual(['x', 'y', 'z', 'w']);
  });

  it('reads a deeply nested text without recursion', () => {
    const deep = '['.repeat(100_000) + ']'.repeat(100_000);
    expect(scanJson(bytes(deep))).toBeDefined();
    expect(scanJson(bytes(deep.slice(1)))).toBeUndefined();
  });
});
