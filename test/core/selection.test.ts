import { describe, expect, it } from 'vitest';
import { GatewayError, statusInfoBody } from '../../src/core/errors.js';
import { baseCollection } from '../../src/core/oneroster/collections.js';
import { parseRawQuery, readPageQuery } from '../../src/core/oneroster/query.js';
import { readFields, readSort } from '../../src/core/oneroster/selection.js';
import { buildRoutePlan } from '../../src/http/route-plan.js';
import { expectValid, statusInfoSchemas } from '../support/oneroster-schemas.js';

const PROTOTYPE_NAMES = ['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf'];

/** The error `fn` throws, for its code, status and codeMinor. */
function thrown(fn: () => unknown): GatewayError {
  try {
    fn();
  } catch (e) {
    if (e instanceof GatewayError) return e;
    throw e;
  }
  throw new Error('expected a GatewayError, nothing was thrown');
}

describe('readSort: one field of the entity in the caller version', () => {
  it('accepts a top-level field and the dotted names a filter may use', () => {
    for (const [version, name] of [
      ['v1p1', 'familyName'],
      ['v1p1', 'role'],
      ['v1p1', 'orgs.sourcedId'],
      ['v1p2', 'familyName'],
      ['v1p2', 'roles.role'],
      ['v1p2', 'primaryOrg.sourcedId'],
      ['v1p2', 'metadata.anything'],
    ] as const) {
      expect(readSort(version, 'users', name), `${version} ${name}`).toBe(name);
    }
  });

  it('refuses other names with invalid_sort (400 invalid_sort_field)', () => {
    const bad = [
      ['v1p1', 'nope'],
      ['v1p1', 'roles'], // 1.2 only
      ['v1p1', 'roles.role'],
      ['v1p2', 'role'], // 1.1 only
      ['v1p2', 'orgs.sourcedId'],
      ['v1p2', 'FamilyName'], // case-sensitive
      ['v1p2', ' familyName'], // as sent: padding would reach the district unchecked
      ['v1p2', 'familyName,givenName'], // one field
      ['v1p2', 'familyName.x'],
      ['v1p2', 'roles.nope'],
      ...PROTOTYPE_NAMES.map((n) => ['v1p2', n] as const),
    ] as const;
    for (const [version, name] of bad) {
      const err = thrown(() => readSort(version, 'users', name));
      expect([name, err.code, err.status, err.codeMinor]).toEqual([name, 'invalid_sort', 400, 'invalid_sort_field']);
    }
  });

  it('reads the entity from single and collection wrappers', () => {
    expect(readSort('v1p2', 'lineItems', 'learningObjectiveSet.source')).toBe('learningObjectiveSet.source');
    expect(thrown(() => readSort('v1p1', 'lineItems', 'scoreScale')).code).toBe('invalid_sort'); // 1.2 only
  });
});

describe('readFields: top-level fields of the entity in the caller version', () => {
  it('trims entries and drops repeats, keeping the order asked', () => {
    expect(readFields('v1p1', 'users', ' sourcedId, familyName,sourcedId,,role ')).toEqual(['sourcedId', 'familyName', 'role']);
    expect(readFields('v1p2', 'user', 'roles,primaryOrg,metadata')).toEqual(['roles', 'primaryOrg', 'metadata']);
  });

  it('refuses unknown, other-version, dotted and Object.prototype names with invalid_selection', () => {
    const bad = [
      ['v1p1', 'sourcedId,nope'],
      ['v1p1', 'preferredFirstName'], // 1.2 only
      ['v1p2', 'role'], // 1.1 only
      ['v1p2', 'roles.role'], // a projection keeps whole fields
      ['v1p2', 'givenname'],
      ...PROTOTYPE_NAMES.map((n) => ['v1p1', `sourcedId,${n}`] as const),
    ] as const;
    for (const [version, text] of bad) {
      const err = thrown(() => readFields(version, 'users', text));
      expect([text, err.code, err.status, err.codeMinor]).toEqual([text, 'invalid_selection', 400, 'invalid_selection_field']);
    }
    expect(thrown(() => readFields('v1p1', 'users', 'a,b,c,d,e,f,g')).description).toContain('"e"');
  });
});

describe('route plan: sort and fields are checked against the path version', () => {
  const plan = (rest: string, query: string, method = 'GET') => buildRoutePlan(method, rest, query);

  it('refuses an unknown sort with invalid_sort and an unknown fields entry with invalid_selection, on both versions', () => {
    for (const rest of ['/v1p1/users', '/rostering/v1p2/users', '/v1p1/classes/c1/students', '/rostering/v1p2/schools/s1/teachers']) {
      expect([rest, thrown(() => plan(rest, 'sort=nope')).code]).toEqual([rest, 'invalid_sort']);
      expect([rest, thrown(() => plan(rest, 'sort=toString')).code]).toEqual([rest, 'invalid_sort']);
      expect([rest, thrown(() => plan(rest, 'fields=sourcedId,nope')).code]).toEqual([rest, 'invalid_selection']);
      expect([rest, thrown(() => plan(rest, 'fields=constructor')).code]).toEqual([rest, 'invalid_selection']);
    }
    // A field of the other version is unknown on this one.
    expect(thrown(() => plan('/rostering/v1p2/users', 'sort=role')).code).toBe('invalid_sort');
    expect(thrown(() => plan('/v1p1/users', 'sort=roles.role')).code).toBe('invalid_sort');
    expect(thrown(() => plan('/v1p1/users', 'fields=primaryOrg')).code).toBe('invalid_selection');
    // Both wrong: filter, then sort, then fields is the order of the checks.
    expect(thrown(() => plan('/gradebook/v1p2/lineItems', 'fields=title,nope&sort=nope')).code).toBe('invalid_sort');
    expect(thrown(() => plan('/gradebook/v1p2/lineItems', "sort=nope&filter=nope%3D'x'")).code).toBe('invalid_filter');
  });

  it('accepts known names and forwards the fields list as checked', () => {
    const p = plan('/rostering/v1p2/users', 'sort=roles.role&orderBy=desc&fields=sourcedId,%20familyName,sourcedId&limit=5');
    expect(p.query.params).toEqual([
      ['sort', 'roles.role'],
      ['orderBy', 'desc'],
      ['fields', 'sourcedId,familyName'],
      ['limit', '5'],
    ]);
    expect(plan('/v1p1/users', 'sort=role&fields=role').query.params).toEqual([['sort', 'role'], ['fields', 'role']]);
  });

  it('checks only fields on a single-object GET (its sort is not a parameter there)', () => {
    expect(thrown(() => plan('/v1p1/users/u1', 'fields=nope')).code).toBe('invalid_selection');
    expect(thrown(() => plan('/rostering/v1p2/users/u1', 'fields=role')).code).toBe('invalid_selection');
    expect(plan('/rostering/v1p2/users/u1', 'sort=nope&fields=roles').query.params).toEqual([['fields', 'roles']]);
  });

  it('reports a blank sort as invalid_sort, blank fields as invalid_selection', () => {
    expect(thrown(() => readPageQuery('collection', parseRawQuery('sort=%20'))).code).toBe('invalid_sort');
    expect(thrown(() => readPageQuery('collection', parseRawQuery('fields=%20,'))).code).toBe('invalid_selection');
  });

  it('renders invalid_sort_field in each version shape the schemas accept', () => {
    const err = thrown(() => plan('/rostering/v1p2/users', 'sort=nope'));
    for (const version of ['v1p1', 'v1p2'] as const) {
      const body = statusInfoBody(version, { codeMajor: err.codeMajor, codeMinor: err.codeMinor, description: err.description });
      expectValid(statusInfoSchemas[version], body, `${version} invalid_sort body`);
    }
  });
});

describe('baseCollection: own names only', () => {
  it('resolves base collections and aliases, and no Object.prototype member or unknown name', () => {
    expect(['users', 'students', 'teachers', 'schools', 'terms', 'gradingPeriods', 'scoreScales'].map(baseCollection)).toEqual([
      'users', 'users', 'users', 'orgs', 'academicSessions', 'academicSessions', 'scoreScales',
    ]);
    for (const name of [...PROTOTYPE_NAMES, 'isPrototypeOf', 'widgets', '']) expect([name, baseCollection(name)]).toEqual([name, undefined]);
  });
});
