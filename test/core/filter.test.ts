import { isDeepStrictEqual } from 'node:util';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { GatewayError } from '../../src/core/errors.js';
import {
  MAX_FILTER_CLAUSES,
  filterClauses,
  formatFilter,
  mapFilterClauses,
  matchesFilter,
  parseFilter,
  type FilterClause,
  type FilterNode,
  type FilterPredicate,
} from '../../src/core/oneroster/filter.js';

const c = (field: string, predicate: FilterPredicate, value: string): FilterClause => ({ kind: 'clause', field, predicate, value });
const and = (left: FilterNode, right: FilterNode): FilterNode => ({ kind: 'and', left, right });
const or = (left: FilterNode, right: FilterNode): FilterNode => ({ kind: 'or', left, right });
const PREDICATES: FilterPredicate[] = ['=', '!=', '>', '>=', '<', '<=', '~'];

function parseError(text: string): GatewayError {
  try {
    parseFilter(text);
  } catch (e) {
    expect(e).toBeInstanceOf(GatewayError);
    return e as GatewayError;
  }
  throw new Error(`expected ${JSON.stringify(text)} to be rejected`);
}

describe('parseFilter', () => {
  it('parses a single clause and every predicate, longest operator first', () => {
    expect(parseFilter("familyName='jones'")).toEqual(c('familyName', '=', 'jones'));
    for (const p of PREDICATES) expect(parseFilter(`score${p}'5'`)).toEqual(c('score', p, '5'));
    expect(parseFilter("a>='1'")).toEqual(c('a', '>=', '1'));
    expect(parseFilter("a>'=1'")).toEqual(c('a', '>', '=1'));
    expect(parseFilter("a!='1'")).toEqual(c('a', '!=', '1'));
    expect(parseFilter("a=''")).toEqual(c('a', '=', ''));
  });

  it('builds left-associative chains with AND binding tighter than OR', () => {
    const [a, b, d, e] = ['a', 'b', 'd', 'e'].map((f) => c(f, '=', f));
    expect(parseFilter("a='a' AND b='b'")).toEqual(and(a!, b!));
    expect(parseFilter("a='a' OR b='b'")).toEqual(or(a!, b!));
    expect(parseFilter("a='a' AND b='b' AND d='d'")).toEqual(and(and(a!, b!), d!));
    expect(parseFilter("a='a' OR b='b' AND d='d'")).toEqual(or(a!, and(b!, d!)));
    expect(parseFilter("a='a' AND b='b' OR d='d' AND e='e'")).toEqual(or(and(a!, b!), and(d!, e!)));
    expect(parseFilter("a='a' OR b='b' OR d='d'")).toEqual(or(or(a!, b!), d!));
  });

  it('keeps values verbatim, including spaces, operators, keywords and double quotes', () => {
    expect(parseFilter("familyName='van der Berg' AND note=' x = y AND z OR \"q\" '")).toEqual(
      and(c('familyName', '=', 'van der Berg'), c('note', '=', ' x = y AND z OR "q" ')),
    );
  });

  it('accepts dotted fields of any depth', () => {
    expect(parseFilter("roles.role='student'")).toEqual(c('roles.role', '=', 'student'));
    expect(parseFilter("metadata.extra.key~'v'")).toEqual(c('metadata.extra.key', '~', 'v'));
    expect(parseFilter("AND='1' OR OR='2'")).toEqual(or(c('AND', '=', '1'), c('OR', '=', '2')));
  });

  it('is lenient about spaces, tabs and operator case, and prints canonical text', () => {
    const lenient = parseFilter(" \tgivenName \t!=\t 'Ana'  and\troles.role = 'x' Or  score>='9'\t");
    expect(lenient).toEqual(or(and(c('givenName', '!=', 'Ana'), c('roles.role', '=', 'x')), c('score', '>=', '9')));
    expect(formatFilter(lenient)).toBe("givenName!='Ana' AND roles.role='x' OR score>='9'");
    expect(parseFilter("a='1'AND b='2'")).toEqual(and(c('a', '=', '1'), c('b', '=', '2')));
  });

  it.each([
    ['', /empty/],
    ['  \t ', /empty/],
    ["givenName='Ana", /missing closing quote for the value starting at character 11/],
    ['givenName=Ana', /expected a single-quoted value after "=" at character 11/],
    ["givenName 'Ana'", /expected a predicate after "givenName" at character 11/],
    ["givenName", /expected a predicate after "givenName" at character 10, found end of filter/],
    ["a='1' AND", /expected a field name after AND at character 10, found end of filter/],
    ["a='1' AND  ", /expected a field name after AND/],
    ["a='1' OR AND b='2'", /expected a predicate after "AND"/],
    ["a=='1'", /unknown predicate "==" at character 2/],
    ["a=>'1'", /unknown predicate "=>"/],
    ["1abc='x'", /expected a field name at character 1, found "1abc='x'"/],
    ["roles..role='x'", /field name at character 1 has an empty or invalid part/],
    ["roles.='x'", /empty or invalid part/],
    ["a='1' b='2'", /expected AND or OR at character 7, found "b='2'"/],
    ["a='1' ANDb='2'", /expected AND or OR at character 7/],
    ["a='1'x", /expected AND or OR at character 6/],
    ["a='O'Brien'", /expected AND or OR at character 6, found "Brien'"/],
    ["a='1' AND\u00a0b='2'", /expected a space after AND/],
    ["(a='1')", /expected a field name at character 1/],
  ])('rejects %j', (text, message) => {
    const err = parseError(text);
    expect(err.code).toBe('invalid_filter');
    expect(err.status).toBe(400);
    expect(err.message).toMatch(message);
  });

  it(`allows ${MAX_FILTER_CLAUSES} clauses and rejects one more`, () => {
    const clauses = (n: number) => Array.from({ length: n }, (_, i) => `f${i}='${i}'`).join(' OR ');
    expect(filterClauses(parseFilter(clauses(MAX_FILTER_CLAUSES)))).toHaveLength(MAX_FILTER_CLAUSES);
    expect(parseError(clauses(MAX_FILTER_CLAUSES + 1)).message).toMatch(/more than 20 clauses/);
    expect(parseError(clauses(100_000)).code).toBe('invalid_filter');
  });

  it('bounds the message for huge input', () => {
    const err = parseError(`${'a'.repeat(1_000_000)}?`);
    expect(err.message.length).toBeLessThan(200);
    expect(parseFilter(`a='${'x'.repeat(1_000_000)}'`).kind).toBe('clause');
  });
});

describe('formatFilter, filterClauses, mapFilterClauses', () => {
  const tree = parseFilter("a='1' OR b>'2' AND roles.role~'x'");

  it('lists clauses left to right and rewrites them', () => {
    expect(filterClauses(tree).map((k) => k.field)).toEqual(['a', 'b', 'roles.role']);
    const renamed = mapFilterClauses(tree, (k) => ({ ...k, field: k.field === 'roles.role' ? 'role' : k.field }));
    expect(renamed && formatFilter(renamed)).toBe("a='1' OR b>'2' AND role~'x'");
    expect(mapFilterClauses(tree, (k) => (k.predicate === '~' ? undefined : k))).toBeUndefined();
  });

  it('keeps the meaning of trees no parenthesis-free text can mirror', () => {
    const nested = and(c('a', '=', '1'), or(c('b', '=', '2'), c('d', '=', '3')));
    expect(formatFilter(nested)).toBe("a='1' AND b='2' OR a='1' AND d='3'");
    expect(formatFilter(and(c('a', '=', '1'), and(c('b', '=', '2'), c('d', '=', '3'))))).toBe("a='1' AND b='2' AND d='3'");
    const expanded = mapFilterClauses(tree, (k) => (k.field === 'a' ? or(c('x', '=', '1'), c('y', '=', '1')) : k));
    expect(expanded && formatFilter(expanded)).toBe("x='1' OR y='1' OR b>'2' AND roles.role~'x'");
  });

  it('refuses to print clauses that would be read back differently', () => {
    for (const bad of [c('a', '=', "x' OR b='y"), c('1a', '=', 'x'), c('a b', '=', 'x'), c('a', '==' as FilterPredicate, 'x')]) {
      expect(() => formatFilter(bad)).toThrow(expect.objectContaining({ code: 'invalid_filter' }));
    }
  });
});

describe('filter properties', () => {
  const codeUnit = fc.integer({ min: 0, max: 0xffff }).map((n) => String.fromCharCode(n));
  const field = fc.oneof(
    fc.constantFrom('givenName', 'roles.role', 'orgs.sourcedId', 'metadata.extra.key', 'AND', 'or', '_x9'),
    fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_]{0,4}(\.[A-Za-z_][A-Za-z0-9_]{0,4}){0,3}$/),
  );
  const value = fc.oneof(fc.string({ unit: codeUnit }), fc.string()).map((v) => v.replaceAll("'", ''));
  const clause = fc.record({ field, predicate: fc.constantFrom(...PREDICATES), value }).map((k) => c(k.field, k.predicate, k.value));
  // Generated directly in parsed shape: an OR-chain of AND-chains, both left-associative, at most 20 clauses.
  const groups = fc.array(fc.array(clause, { minLength: 1, maxLength: 5 }), { minLength: 1, maxLength: 4 });
  const fromGroups = (gs: FilterClause[][]) => gs.map((g: FilterNode[]) => g.reduce(and)).reduce(or);
  const canonical = groups.map(fromGroups);

  // Properties return booleans rather than calling expect: a failing expect renders a diff on
  // every shrink step, which turns one failure into minutes of shrinking.
  it('parseFilter(formatFilter(t)) deep-equals t for trees in parsed shape', () => {
    fc.assert(fc.property(canonical, (t) => isDeepStrictEqual(parseFilter(formatFilter(t)), t)), { numRuns: 500 });
  });

  it('reads the same tree back whatever spacing and operator case surround it', () => {
    const ws = fc.stringMatching(/^[ \t]{0,3}$/);
    const ws1 = fc.stringMatching(/^[ \t]{1,3}$/);
    // Spellings are drawn up front rather than with fc.gen(): gen's replay never settles while the
    // tree shrinks, so a failure would shrink forever.
    const spelling = fc.record({ pre: ws, mid: ws, before: ws1, after: ws1, opCase: fc.constantFrom('upper', 'lower', 'title') });
    const spell = (op: string, how: string) => (how === 'upper' ? op : how === 'lower' ? op.toLowerCase() : op[0] + op.slice(1).toLowerCase());
    fc.assert(
      fc.property(groups, fc.array(spelling, { minLength: 20, maxLength: 20 }), ws, ws, (gs, spellings, lead, trail) => {
        const items = gs.flatMap((g, gi) => g.map((k, ki) => ({ k, op: ki > 0 ? 'AND' : gi > 0 ? 'OR' : '' })));
        const text = items.map(({ k, op }, j) => {
          const s = spellings[j]!;
          const join = op ? `${s.before}${spell(op, s.opCase)}${s.after}` : '';
          return `${join}${k.field}${s.pre}${k.predicate}${s.mid}'${k.value}'`;
        });
        return isDeepStrictEqual(parseFilter(`${lead}${text.join('')}${trail}`), fromGroups(gs));
      }),
      { numRuns: 300 },
    );
  });

  it('any input either parses or fails with invalid_filter, never another exception', () => {
    const tokens = fc
      .array(fc.constantFrom('a', 'roles.role', '1', '.', '=', '!=', '>=', '==', '~', "'", "'x y'", ' ', '\t', 'AND', 'or', '(', '\u0000', '\ud800'), { maxLength: 40 })
      .map((t) => t.join(''));
    const input = fc.oneof(fc.string(), fc.string({ unit: 'binary' }), fc.string({ unit: codeUnit }), tokens);
    fc.assert(
      fc.property(input, (text) => {
        try {
          const node = parseFilter(text);
          expect(filterClauses(node).length).toBeLessThanOrEqual(MAX_FILTER_CLAUSES);
        } catch (e) {
          expect(e).toBeInstanceOf(GatewayError);
          expect((e as GatewayError).code).toBe('invalid_filter');
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('formatFilter keeps the meaning of arbitrary trees (AND distributed over OR)', () => {
    const scalar = fc.oneof(fc.constantFrom('x', 'X', 'y', '10', '9', '', 'true'), fc.boolean(), fc.integer({ min: 8, max: 11 }), fc.constant(null));
    const slot = fc.oneof(scalar, fc.array(scalar, { maxLength: 3 }));
    const record = fc.record({ a: slot, b: slot, roles: fc.array(fc.record({ role: slot }), { maxLength: 3 }) }, { requiredKeys: [] });
    const leaf = fc
      .record({ field: fc.constantFrom('a', 'b', 'roles.role', 'missing'), predicate: fc.constantFrom(...PREDICATES), value: fc.constantFrom('x', 'x', '9', '10', '', 'true') })
      .map((k): FilterNode => c(k.field, k.predicate, k.value));
    const { tree } = fc.letrec((tie) => ({
      tree: fc.oneof({ maxDepth: 3 }, leaf, fc.record({ kind: fc.constantFrom('and' as const, 'or' as const), left: tie('tree'), right: tie('tree') })) as fc.Arbitrary<FilterNode>,
    }));
    // Five clauses distribute to at most twelve, inside the parse limit.
    const small = tree.filter((t) => filterClauses(t).length <= 5);
    fc.assert(
      fc.property(small, fc.array(record, { minLength: 1, maxLength: 5 }), (t, records) => {
        const reparsed = parseFilter(formatFilter(t));
        return records.every((r) => matchesFilter(reparsed, r) === matchesFilter(t, r));
      }),
      { numRuns: 500 },
    );
  });
});

describe('matchesFilter', () => {
  const guid = (type: string, sourcedId: string) => ({ href: `~/ims/oneroster/v1p1/${type}s/${sourcedId}`, sourcedId, type });
  const v1p1User = {
    sourcedId: 'u-1',
    status: 'active',
    dateLastModified: '2023-05-01T12:00:00.000Z',
    username: 'ana.lopez',
    enabledUser: true, // some 1.1 servers send JSON booleans
    givenName: 'Ana',
    familyName: 'Lopez',
    role: 'student',
    orgs: [guid('org', 'school-1'), guid('org', 'district-9')],
    grades: ['09'],
    middleName: null,
  };
  const v1p2User = {
    sourcedId: 'u-2',
    status: 'active',
    dateLastModified: '2024-01-15T08:30:00Z',
    enabledUser: 'false',
    givenName: 'Sam',
    familyName: 'Okafor',
    roles: [
      { roleType: 'primary', role: 'student', org: guid('org', 'school-1') },
      { roleType: 'secondary', role: 'aide', org: guid('org', 'school-2') },
    ],
    grades: ['09', '10'],
    userIds: [{ type: 'LDAP', identifier: 'sokafor' }],
    metadata: { extra: { key: 'Blue' } },
  };
  const m = (text: string, record: unknown) => matchesFilter(parseFilter(text), record);

  it('walks arrays of GUIDRefs and roles, matching if any element does', () => {
    expect(m("orgs.sourcedId='district-9'", v1p1User)).toBe(true);
    expect(m("orgs.sourcedId='school-2'", v1p1User)).toBe(false);
    expect(m("roles.role='aide'", v1p2User)).toBe(true);
    expect(m("roles.org.sourcedId='school-2'", v1p2User)).toBe(true);
    expect(m("roles.role!='aide'", v1p2User)).toBe(false);
    expect(m("roles.role!='teacher'", v1p2User)).toBe(true);
    expect(m("grades='09'", v1p1User)).toBe(true);
    expect(m("grades>'09'", v1p2User)).toBe(true);
    expect(m("grades>'09'", v1p1User)).toBe(false);
    expect(m("userIds.identifier='sokafor'", v1p2User)).toBe(true);
    expect(m("metadata.extra.key~'blu'", v1p2User)).toBe(true);
    expect(m("orgs='school-1'", v1p1User)).toBe(false);
  });

  it('compares JSON and string booleans alike', () => {
    expect(m("enabledUser='true'", v1p1User)).toBe(true);
    expect(m("enabledUser='false'", v1p1User)).toBe(false);
    expect(m("enabledUser='false'", v1p2User)).toBe(true);
    expect(m("enabledUser!='true'", v1p2User)).toBe(true);
  });

  it('orders dates as strings and JSON numbers numerically', () => {
    expect(m("dateLastModified>'2023-01-01'", v1p1User)).toBe(true);
    expect(m("dateLastModified>'2023-05-01'", v1p1User)).toBe(true);
    expect(m("dateLastModified>'2023-05-01T12:00:00.000Z'", v1p1User)).toBe(false);
    expect(m("dateLastModified>='2023-05-01T12:00:00.000Z'", v1p1User)).toBe(true);
    expect(m("dateLastModified<'2024-01-01'", v1p2User)).toBe(false);
    expect(m("score>'9'", { score: 10 })).toBe(true);
    expect(m("score<='9.5'", { score: 10 })).toBe(false);
    expect(m("score='10.0'", { score: 10 })).toBe(true);
    expect(m("score>'9'", { score: '10' })).toBe(false); // a string score compares as a string
    expect(m("score~'0'", { score: 10 })).toBe(true);
  });

  it('makes ~ case-insensitive and = case-sensitive', () => {
    expect(m("givenName~'AN'", v1p1User)).toBe(true);
    expect(m("familyName~'kaf'", v1p2User)).toBe(true);
    expect(m("givenName='ana'", v1p1User)).toBe(false);
    expect(m("givenName='Ana'", v1p1User)).toBe(true);
  });

  it('treats missing and null fields as matching only !=', () => {
    for (const record of [v1p1User, v1p2User, null, 'text', 42]) {
      expect(m("middleName!='x'", record)).toBe(true);
      expect(m("middleName='x'", record)).toBe(false);
      expect(m("middleName~''", record)).toBe(false);
      expect(m("middleName<'zzz'", record)).toBe(false);
    }
    expect(m("constructor!='x'", v1p1User)).toBe(true);
    expect(m("toString~''", v1p1User)).toBe(false);
    expect(m("role='admin'", Object.create({ role: 'admin' }))).toBe(false); // only own properties count
    expect(m("roles.role='student'", v1p1User)).toBe(false);
  });

  it('applies AND before OR', () => {
    expect(m("status='tobedeleted' OR givenName='Ana' AND role='student'", v1p1User)).toBe(true);
    expect(m("givenName='Ana' AND role='teacher' OR status='tobedeleted'", v1p1User)).toBe(false);
    expect(m("givenName='Sam' OR givenName='Ana' AND roles.role='student'", v1p1User)).toBe(false);
    expect(m("givenName='Ana' OR status='active' AND role='teacher'", v1p1User)).toBe(true);
  });
});
