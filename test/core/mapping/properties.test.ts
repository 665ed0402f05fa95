// Properties of the v1p1 ⇄ v1p2 mappers over generated records (arbitraries.ts) and queries.
// Suspected mapper bugs found while writing these are pinned in known-bugs.test.ts; where a
// property here steps around one, the generator says which.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Version } from '../../../src/core/oneroster/endpoints.js';
import { filterClauses, formatFilter, parseFilter, type FilterNode, type FilterPredicate } from '../../../src/core/oneroster/filter.js';
import { mapRecord, translateQuery, type MapContext } from '../../../src/core/oneroster/mapping/index.js';
import type { Entity } from '../../../src/core/oneroster/model.js';
import { readPageQuery } from '../../../src/core/oneroster/query.js';
import { entitySchemas, V1P1_GUID_TYPES, validationIssues } from '../../support/oneroster-schemas.js';
import {
  ENTITIES_11,
  ENTITIES_ALL,
  FIELDS_11,
  FIELDS_12,
  fieldNames,
  PATH_OF_TYPE,
  record11,
  record12,
  textArb,
  V1P1_ROLES,
  V1P1_SEX,
  V1P2_ADMIN_ROLES,
  vendorExtrasArb,
  type Json,
  type Kind,
  type V1p1Entity,
} from './arbitraries.js';
import { HREF_BASE } from './context.js';

const RUNS = 100;

/** Knows every org and class: org ids starting `dist-` are districts, `sch-` schools; a class's school is derived from its id. */
const ctx: MapContext = {
  hrefBase: HREF_BASE,
  orgType: (id) => (id.startsWith('dist-') ? 'district' : id.startsWith('sch-') ? 'school' : undefined),
  classSchool: (id) => `sch-of-${id}`,
};

const DIRECTIONS: ReadonlyArray<readonly [Version, Version]> = [
  ['v1p1', 'v1p2'],
  ['v1p2', 'v1p1'],
  ['v1p1', 'v1p1'],
  ['v1p2', 'v1p2'],
];

const isObject = (v: unknown): v is Json => !!v && typeof v === 'object' && !Array.isArray(v);
const schemaOf = (version: Version, entity: Entity) => (entitySchemas[version] as Record<string, Parameters<typeof validationIssues>[0]>)[entity]!;

function expectValidIn(version: Version, entity: Entity, value: unknown): void {
  const issues = validationIssues(schemaOf(version, entity), value);
  expect(issues, `${entity} not valid ${version}: ${JSON.stringify(value)}`).toEqual([]);
}

// ---------------------------------------------------------------------------------------------
// Round trip 1.1 → 1.2 → 1.1
// ---------------------------------------------------------------------------------------------

/** A 1.1 GUIDRef the gateway built: exactly href/sourcedId/type, a 1.1 type word, href on the gateway's 1.1 root naming the id. */
function expectGatewayRef11(ref: unknown, sourcedId: unknown, where: string): void {
  expect(isObject(ref), where).toBe(true);
  const r = ref as Json;
  expect(Object.keys(r).sort(), where).toEqual(['href', 'sourcedId', 'type']);
  expect(r.sourcedId, where).toBe(sourcedId);
  expect(V1P1_GUID_TYPES as readonly unknown[], where).toContain(r.type);
  const href = r.href as string;
  expect(href.startsWith(`${HREF_BASE}/v1p1/`), `${where}: ${href}`).toBe(true);
  const segments = href.slice(`${HREF_BASE}/v1p1/`.length).split('/');
  expect(segments.length, `${where}: ${href}`).toBe(2);
  expect(segments[0], `${where}: ${href}`).toBe(PATH_OF_TYPE[r.type as string]);
  expect(decodeURIComponent(segments[1]!), `${where}: ${href}`).toBe(sourcedId);
}

function expectSameValue(kind: Kind, before: unknown, after: unknown, where: string): void {
  switch (kind) {
    case 'bool':
      expect(after, where).toBe(String(before).toLowerCase());
      return;
    case 'num':
      expect(after, where).toBe(Number(before));
      return;
    case 'ref':
      expectGatewayRef11(after, (before as Json).sourcedId, where);
      return;
    case 'refs': {
      const ids = (before as Json[]).map((r) => r.sourcedId);
      expect(Array.isArray(after), where).toBe(true);
      expect((after as Json[]).map((r) => r.sourcedId), where).toEqual(ids);
      (after as Json[]).forEach((r, i) => expectGatewayRef11(r, ids[i], `${where}[${i}]`));
      return;
    }
    default:
      expect(after, where).toEqual(before);
  }
}

/** Every field 1.1 and 1.2 both define keeps its value; vendor fields come back under metadata; nothing else appears. */
function expectRoundTrip(entity: V1p1Entity, original: Json, extras: Json, back: Json): void {
  const in12 = fieldNames('v1p2', entity);
  for (const [key, def] of Object.entries(FIELDS_11[entity])) {
    if (!in12.has(key) || key === 'metadata') continue;
    if (original[key] === undefined) expect(back[key], key).toBeUndefined();
    else expectSameValue(def.kind, original[key], back[key], key);
  }
  const metadata = Object.keys(extras).length > 0 ? { ...(original.metadata as Json | undefined), ...extras } : original.metadata;
  expect(back.metadata, 'metadata').toEqual(metadata);
  const in11 = fieldNames('v1p1', entity);
  expect(Object.keys(back).filter((k) => !in11.has(k)), 'keys 1.1 does not define').toEqual([]);
  if (entity === 'users') {
    expect(back.role, 'role').toBe(original.role);
    expectSameValue('refs', original.orgs, back.orgs, 'orgs');
  }
}

describe('1.1 → 1.2 → 1.1 keeps every field both versions define', () => {
  it.each(ENTITIES_11)('%s', (entity) => {
    fc.assert(
      fc.property(record11(entity), vendorExtrasArb, (original, extras) => {
        const input = { ...original, ...extras };
        const v12 = mapRecord(entity, input, 'v1p1', 'v1p2', ctx);
        const back = mapRecord(entity, v12, 'v1p2', 'v1p1', ctx);
        expectRoundTrip(entity, original, extras, back);
      }),
      { numRuns: RUNS },
    );
  });

  it('users with role administrator keep the role (district or site administrator in 1.2 by org type)', () => {
    fc.assert(
      fc.property(record11('users', { override: { role: fc.constant('administrator') } }), (original) => {
        const v12 = mapRecord('users', original, 'v1p1', 'v1p2', ctx);
        const roles = v12.roles as Json[];
        expect(roles.map((r) => r.role)).toEqual(
          (original.orgs as Json[]).map((o) => (ctx.orgType(o.sourcedId as string) === 'district' ? 'districtAdministrator' : 'siteAdministrator')),
        );
        const back = mapRecord('users', v12, 'v1p2', 'v1p1', ctx);
        expectRoundTrip('users', original, {}, back);
        expect(back.role).toBe('administrator');
      }),
      { numRuns: RUNS },
    );
  });

  it('1.2 users become 1.1 users with the role held at primaryOrg (else the first primary role) and every role org, primaryOrg first', () => {
    const ADMIN: readonly string[] = V1P2_ADMIN_ROLES;
    fc.assert(
      fc.property(record12('users'), (original) => {
        const roles = original.roles as Json[];
        const primaryId = (original.primaryOrg as Json | undefined)?.sourcedId;
        const orgId = (r: Json) => (r.org as Json).sourcedId;
        const chosen = roles.find((r) => r.roleType === 'primary' && orgId(r) === primaryId) ?? roles.find((r) => r.roleType === 'primary')!;
        const role = ADMIN.includes(chosen.role as string) ? 'administrator' : chosen.role;
        const orgIds = [...new Set([...(primaryId === undefined ? [] : [primaryId]), ...roles.map(orgId)])];
        const out = mapRecord('users', original, 'v1p2', 'v1p1', ctx);
        expect(out.role).toBe(role);
        expectSameValue('refs', orgIds.map((sourcedId) => ({ sourcedId })), out.orgs, 'orgs');
        expect(out.username).toBe(original.username ?? original.email ?? original.identifier ?? original.sourcedId);
        for (const only12 of ['roles', 'primaryOrg', 'userMasterIdentifier', 'preferredFirstName', 'preferredMiddleName', 'preferredLastName', 'pronouns', 'userProfiles', 'resources']) {
          expect(out[only12], only12).toBeUndefined();
        }
      }),
      { numRuns: RUNS },
    );
  });
});

// ---------------------------------------------------------------------------------------------
// Output validates against the target version
// ---------------------------------------------------------------------------------------------

/** 1.1 records that carry what 1.2 requires (a 1.1 org's identifier is optional, a 1.2 org's is not). */
function complete11(entity: V1p1Entity): fc.Arbitrary<Json> {
  return record11(entity, {
    emptyOptionalText: true,
    override: { ...(entity === 'users' ? { role: fc.constantFrom(...V1P1_ROLES) } : {}), ...(entity === 'orgs' ? { identifier: textArb } : {}) },
    require: entity === 'orgs' ? ['identifier'] : [],
  });
}

/**
 * 1.2 records that carry what 1.1 requires. The documented lossy points (reference §3.2) are
 * left out: a line item without resultValueMin/Max and a result without score have no valid 1.1
 * form.
 */
function complete12(entity: V1p1Entity): fc.Arbitrary<Json> {
  return record12(entity, {
    require: entity === 'lineItems' ? ['resultValueMin', 'resultValueMax'] : entity === 'results' ? ['score'] : [],
  });
}

describe('mapped records validate against the target version schema', () => {
  it.each(ENTITIES_11)('%s 1.1 → 1.2', (entity) => {
    fc.assert(
      fc.property(complete11(entity), vendorExtrasArb, (original, extras) => {
        expectValidIn('v1p2', entity, mapRecord(entity, { ...original, ...extras }, 'v1p1', 'v1p2', ctx));
      }),
      { numRuns: RUNS },
    );
  });

  it.each(ENTITIES_11)('%s 1.2 → 1.1', (entity) => {
    fc.assert(
      fc.property(complete12(entity), (original) => {
        expectValidIn('v1p2', entity, original); // the generator's own check
        expectValidIn('v1p1', entity, mapRecord(entity, original, 'v1p2', 'v1p1', ctx));
      }),
      { numRuns: RUNS },
    );
  });

  it.each(ENTITIES_11)('%s: mapping is idempotent in the target version', (entity) => {
    fc.assert(
      fc.property(fc.boolean(), complete11(entity), complete12(entity), (to12, r11, r12) => {
        const [from, to, rec]: [Version, Version, Json] = to12 ? ['v1p1', 'v1p2', r11] : ['v1p2', 'v1p1', r12];
        const out = mapRecord(entity, rec, from, to, ctx);
        expect(mapRecord(entity, out, to, to, ctx)).toStrictEqual(out);
      }),
      { numRuns: RUNS },
    );
  });

  it.each(ENTITIES_11)('%s: null fields map as absent ones, and the upstream href and 1.1 type word do not matter', (entity) => {
    fc.assert(
      fc.property(record11(entity), fc.array(fc.constantFrom(...Object.keys(FIELDS_11[entity])), { maxLength: 3 }), (original, nulled) => {
        const withNulls: Json = { ...original };
        const without: Json = { ...original };
        for (const k of nulled) {
          if (k === 'sourcedId') continue;
          withNulls[k] = null;
          delete without[k];
        }
        // Bare { sourcedId } refs: what the mapper rebuilds from.
        const bare = Object.fromEntries(
          Object.entries(without).map(([k, v]) => {
            const kind = FIELDS_11[entity][k]?.kind;
            if (kind === 'ref') return [k, { sourcedId: (v as Json).sourcedId }];
            if (kind === 'refs') return [k, (v as Json[]).map((r) => ({ sourcedId: r.sourcedId }))];
            return [k, v];
          }),
        );
        for (const to of ['v1p1', 'v1p2'] as const) {
          const expected = mapRecord(entity, without, 'v1p1', to, ctx);
          expect(mapRecord(entity, withNulls, 'v1p1', to, ctx)).toStrictEqual(expected);
          expect(mapRecord(entity, bare, 'v1p1', to, ctx)).toStrictEqual(expected);
        }
      }),
      { numRuns: RUNS },
    );
  });
});

// ---------------------------------------------------------------------------------------------
// Never throws; always a plain, null-free JSON object
// ---------------------------------------------------------------------------------------------

/** Why `v` is not plain JSON without nulls ([] when it is). */
function dirt(v: unknown, path = '$', out: string[] = []): string[] {
  if (v === null || v === undefined) out.push(`${path} is ${v}`);
  else if (Array.isArray(v)) v.forEach((x, i) => dirt(x, `${path}[${i}]`, out));
  else if (typeof v === 'object') {
    if (Object.getPrototypeOf(v) !== Object.prototype) out.push(`${path} is not a plain object`);
    for (const k of Object.keys(v)) dirt((v as Json)[k], `${path}.${k}`, out);
  } else if (!['string', 'number', 'boolean'].includes(typeof v)) out.push(`${path} is a ${typeof v}`);
  return out;
}

/** Boolean and number fields of every entity (1.2-only entities add scorePercentile). */
const BOOLEAN_OR_NUMBER_FIELDS: ReadonlySet<string> = new Set([
  'scorePercentile',
  ...[...Object.values(FIELDS_11), ...Object.values(FIELDS_12)].flatMap((t) =>
    Object.entries(t)
      .filter(([, d]) => d.kind === 'bool' || d.kind === 'num')
      .map(([k]) => k),
  ),
]);

function hasNullDeep(v: unknown): boolean {
  if (v === null) return true;
  if (Array.isArray(v)) return v.some(hasNullDeep);
  if (isObject(v)) return Object.values(v).some(hasNullDeep);
  return false;
}

function hasKeyDeep(v: unknown, key: string): boolean {
  if (Array.isArray(v)) return v.some((x) => hasKeyDeep(x, key));
  if (isObject(v)) return Object.hasOwn(v, key) || Object.values(v).some((x) => hasKeyDeep(x, key));
  return false;
}

const entityArb = fc.constantFrom(...ENTITIES_ALL);
const directionArb = fc.constantFrom(...DIRECTIONS);

describe('mapRecord never throws and returns a plain object without null', () => {
  it('for any JSON value as the record', () => {
    fc.assert(
      fc.property(entityArb, directionArb, fc.jsonValue(), (entity, [from, to], record) => {
        const out = mapRecord(entity, record, from, to, ctx);
        expect(dirt(out)).toEqual([]);
        expect(JSON.parse(JSON.stringify(out))).toStrictEqual(out);
      }),
      { numRuns: 200 },
    );
  });

  it('for any value at all as the record', () => {
    fc.assert(
      fc.property(entityArb, directionArb, fc.anything(), (entity, [from, to], record) => {
        const out = mapRecord(entity, record, from, to, ctx);
        expect(isObject(out) && Object.getPrototypeOf(out) === Object.prototype).toBe(true);
        expect(hasNullDeep(out)).toBe(false);
      }),
      { numRuns: 200 },
    );
  });

  it('for any JSON value in any field of an otherwise valid record (and keeps only target-version keys on top)', () => {
    const caseArb = fc.constantFrom(...ENTITIES_11).chain((entity) =>
      fc.record({
        entity: fc.constant(entity),
        direction: directionArb,
        r11: record11(entity),
        r12: record12(entity),
        key: fc.oneof(
          fc.constantFrom(...new Set([...fieldNames('v1p1', entity), ...fieldNames('v1p2', entity)])),
          fc.constantFrom('roles', 'role', 'orgs', 'primaryOrg', 'school', 'academicSession'),
          fc.string({ maxLength: 8 }),
        ),
        value: fc.jsonValue({ maxDepth: 3 }),
      }),
    );
    fc.assert(
      fc.property(caseArb, ({ entity, direction: [from, to], r11, r12, key, value }) => {
        const record = { ...(from === 'v1p1' ? r11 : r12), [key]: value };
        const out = mapRecord(entity, record, from, to, ctx);
        expect(dirt(out)).toEqual([]);
        const known = fieldNames(to, entity);
        expect(Object.keys(out).filter((k) => !known.has(k))).toEqual([]);
      }),
      { numRuns: 200 },
    );
  });
});

// ---------------------------------------------------------------------------------------------
// translateQuery
// ---------------------------------------------------------------------------------------------

const BASE_FIELDS = ['sourcedId', 'status', 'dateLastModified'];

/** Filterable fields with the same name and meaning in both versions (reference §3.2). */
const SHARED_FILTER_FIELDS: Readonly<Record<V1p1Entity, readonly string[]>> = {
  orgs: [...BASE_FIELDS, 'name', 'type', 'identifier', 'parent.sourcedId', 'children.sourcedId'],
  academicSessions: [...BASE_FIELDS, 'title', 'type', 'startDate', 'endDate', 'schoolYear', 'parent.sourcedId'],
  courses: [...BASE_FIELDS, 'title', 'courseCode', 'grades', 'subjects', 'org.sourcedId', 'schoolYear.sourcedId'],
  classes: [...BASE_FIELDS, 'title', 'classCode', 'classType', 'location', 'course.sourcedId', 'school.sourcedId', 'terms.sourcedId', 'periods'],
  users: [...BASE_FIELDS, 'givenName', 'familyName', 'middleName', 'email', 'username', 'identifier', 'enabledUser', 'phone', 'grades', 'userIds.identifier', 'agents.sourcedId'],
  enrollments: [...BASE_FIELDS, 'role', 'primary', 'beginDate', 'endDate', 'user.sourcedId', 'class.sourcedId', 'school.sourcedId'],
  demographics: [...BASE_FIELDS, 'birthDate', 'sex', 'white', 'asian', 'hispanicOrLatinoEthnicity', 'countryOfBirthCode'],
  categories: [...BASE_FIELDS, 'title'],
  lineItems: [...BASE_FIELDS, 'title', 'description', 'assignDate', 'dueDate', 'class.sourcedId', 'category.sourcedId', 'resultValueMin', 'resultValueMax'],
  results: [...BASE_FIELDS, 'score', 'scoreStatus', 'scoreDate', 'comment', 'lineItem.sourcedId', 'student.sourcedId'],
  resources: [...BASE_FIELDS, 'title', 'vendorResourceId', 'vendorId', 'importance', 'roles'],
};

/** Fields only the caller's version has (or that moved), per caller version: no exact upstream equivalent. */
const CALLER_ONLY_FIELDS: Readonly<Record<Version, Partial<Record<V1p1Entity, readonly string[]>>>> = {
  v1p2: {
    users: ['preferredFirstName', 'preferredLastName', 'preferredMiddleName', 'pronouns', 'userMasterIdentifier', 'primaryOrg.sourcedId', 'resources.sourcedId', 'userProfiles.profileId', 'roles.roleType'],
    categories: ['weight'],
    lineItems: ['school.sourcedId', 'academicSession.sourcedId', 'scoreScale.sourcedId', 'gradingPeriod.sourcedId'],
    results: ['textScore', 'inProgress', 'late', 'missing', 'incomplete', 'class.sourcedId', 'scoreScale.sourcedId'],
  },
  v1p1: {
    users: ['role', 'orgs.sourcedId'],
    lineItems: ['gradingPeriod.sourcedId'],
  },
};

const PREDICATES: FilterPredicate[] = ['=', '!=', '>', '>=', '<', '<=', '~'];
const filterValue = fc.string({ maxLength: 12 }).filter((s) => !s.includes("'"));
const clauseOn = (fields: readonly string[]): fc.Arbitrary<FilterNode> =>
  fc.record({ kind: fc.constant('clause' as const), field: fc.constantFrom(...fields), predicate: fc.constantFrom(...PREDICATES), value: filterValue });

/** A tree of 1..n clauses joined by AND/OR in any shape. */
function treeOf(clauses: fc.Arbitrary<FilterNode>[]): fc.Arbitrary<FilterNode> {
  return fc.tuple(...clauses, fc.array(fc.constantFrom('and' as const, 'or' as const), { minLength: clauses.length, maxLength: clauses.length }), fc.boolean()).map((parts) => {
    const ops = parts[clauses.length] as ('and' | 'or')[];
    const leftDeep = parts[clauses.length + 1] as boolean;
    const nodes = parts.slice(0, clauses.length) as FilterNode[];
    return nodes.reduce((acc, node, i) => ({ kind: ops[i]!, left: leftDeep ? acc : node, right: leftDeep ? node : acc }));
  });
}

function queryWith(filter: FilterNode | undefined, extra: Array<[string, string]> = []) {
  const pairs: Array<[string, string]> = [...extra];
  if (filter) pairs.push(['filter', formatFilter(filter)]);
  return readPageQuery('collection', pairs);
}

const pairCases = ENTITIES_11.flatMap((entity) =>
  (['v1p1', 'v1p2'] as const).map((from) => [entity, from, from === 'v1p1' ? 'v1p2' : 'v1p1'] as [V1p1Entity, Version, Version]),
);

describe('translateQuery', () => {
  it.each(pairCases)('%s %s caller → %s district: a filter on shared fields is forwarded exactly', (entity, from, to) => {
    const clause = clauseOn(SHARED_FILTER_FIELDS[entity]);
    // 1.1 districts take at most two clauses (reference §2.2); 1.2 districts any number.
    const sizes = to === 'v1p1' ? fc.integer({ min: 1, max: 2 }) : fc.integer({ min: 1, max: 5 });
    const filterArb = sizes.chain((n) => treeOf(Array.from({ length: n }, () => clause)));
    fc.assert(
      fc.property(filterArb, fc.option(fc.integer({ min: 1, max: 500 }), { nil: undefined }), (filter, limit) => {
        const extra: Array<[string, string]> = limit === undefined ? [] : [['limit', String(limit)]];
        const t = translateQuery(entity, from, to, queryWith(filter, extra), filter);
        expect(t.local).toBeUndefined();
        expect(t.params.filter(([k]) => k === 'filter')).toEqual([['filter', formatFilter(filter)]]);
        if (limit !== undefined) expect(t.params).toContainEqual(['limit', String(limit)]);
      }),
      { numRuns: 50 },
    );
  });

  it.each(pairCases)('%s %s caller → %s district: a parsed one- or two-clause filter text on shared fields is forwarded as written', (entity, from, to) => {
    const clause = clauseOn(SHARED_FILTER_FIELDS[entity]).map((c) => formatFilter(c));
    const textArbF = fc.oneof(clause, fc.tuple(clause, fc.constantFrom('AND', 'OR'), clause).map(([a, op, b]) => `${a} ${op} ${b}`));
    fc.assert(
      fc.property(textArbF, (text) => {
        const filter = parseFilter(text);
        const t = translateQuery(entity, from, to, queryWith(filter), filter);
        expect(t.local).toBeUndefined();
        expect(t.params).toContainEqual(['filter', text]);
      }),
      { numRuns: 50 },
    );
  });

  it('more than two shared clauses for a 1.1 district are evaluated at the gateway', () => {
    const entities = ENTITIES_11;
    fc.assert(
      fc.property(
        fc.constantFrom(...entities).chain((e) =>
          fc.tuple(fc.constant(e), fc.integer({ min: 3, max: 5 }).chain((n) => treeOf(Array.from({ length: n }, () => clauseOn(SHARED_FILTER_FIELDS[e]))))),
        ),
        ([entity, filter]) => {
          const t = translateQuery(entity, 'v1p2', 'v1p1', queryWith(filter, [['limit', '10']]), filter);
          expect(t.local?.filter).toEqual(filter);
          expect(t.params.some(([k]) => k === 'filter' || k === 'limit' || k === 'offset')).toBe(false);
        },
      ),
      { numRuns: 50 },
    );
  });

  const onlyCases = pairCases.filter(([entity, from]) => CALLER_ONLY_FIELDS[from][entity] !== undefined);
  it.each(onlyCases)('%s %s caller → %s district: a filter naming a caller-only field is evaluated at the gateway', (entity, from, to) => {
    const only = CALLER_ONLY_FIELDS[from][entity]!;
    const shared = clauseOn(SHARED_FILTER_FIELDS[entity]);
    const filterArb = fc
      .tuple(fc.integer({ min: 0, max: 2 }), fc.integer({ min: 0, max: 2 }))
      .chain(([before, after]) => treeOf([...Array.from({ length: before }, () => shared), clauseOn(only), ...Array.from({ length: after }, () => shared)]));
    fc.assert(
      fc.property(filterArb, (filter) => {
        const t = translateQuery(entity, from, to, queryWith(filter, [['limit', '25'], ['offset', '50']]), filter);
        expect(t.local).toBeDefined();
        expect(t.local!.filter).toEqual(filter);
        expect(t.params.some(([k]) => k === 'limit' || k === 'offset')).toBe(false);
        // What is still sent upstream names only fields the district has.
        const sent = t.params.find(([k]) => k === 'filter')?.[1];
        if (sent !== undefined) {
          for (const c of filterClauses(parseFilter(sent))) expect(only, c.field).not.toContain(c.field);
        }
      }),
      { numRuns: 50 },
    );
  });

  it('role words: a 1.2 caller\'s roles.role for a word 1.1 shares is exact, a 1.2-only staff word is not', () => {
    for (const role of ['student', 'teacher', 'aide', 'guardian', 'parent', 'proctor', 'relative']) {
      const filter = parseFilter(`roles.role='${role}'`);
      const t = translateQuery('users', 'v1p2', 'v1p1', queryWith(filter), filter);
      expect(t.local, role).toBeUndefined();
      expect(t.params).toContainEqual(['filter', `role='${role}'`]);
    }
    for (const role of ['principal', 'districtAdministrator', 'siteAdministrator', 'counselor', 'systemAdministrator']) {
      const filter = parseFilter(`roles.role='${role}'`);
      const t = translateQuery('users', 'v1p2', 'v1p1', queryWith(filter), filter);
      expect(t.local?.filter, role).toEqual(filter);
      expect(t.params).toContainEqual(['filter', "role='administrator'"]);
    }
  });

  it.each(pairCases)('%s %s caller → %s district: sort on a shared field is forwarded, on a caller-only field done here', (entity, from, to) => {
    const sharedTop = SHARED_FILTER_FIELDS[entity].filter((f) => !f.includes('.'));
    const onlyTop = (CALLER_ONLY_FIELDS[from][entity] ?? []).filter((f) => !f.includes('.'));
    fc.assert(
      fc.property(fc.constantFrom(...sharedTop, ...onlyTop), fc.constantFrom('asc', 'desc'), (sort, orderBy) => {
        const t = translateQuery(entity, from, to, queryWith(undefined, [['sort', sort], ['orderBy', orderBy]]), undefined);
        if (onlyTop.includes(sort)) {
          expect(t.local).toEqual({ sort, desc: orderBy === 'desc' });
          expect(t.params.some(([k]) => k === 'sort')).toBe(false);
        } else {
          expect(t.local).toBeUndefined();
          expect(t.params).toEqual(expect.arrayContaining([['sort', sort], ['orderBy', orderBy]]));
        }
      }),
      { numRuns: 30 },
    );
  });
});
