// Mapper edge cases the property tests found, each as the smallest input that showed it
// (nulls inside scalars, prototype-named keys, lone surrogates, required empty text,
// duplicate orgs, 1.2-only sex words, empty scores, null schools).
import { describe, expect, it } from 'vitest';
import type { Version } from '../../../src/core/oneroster/endpoints.js';
import { mapRecord, mappingNeeds } from '../../../src/core/oneroster/mapping/index.js';
import type { Entity } from '../../../src/core/oneroster/model.js';
import { entitySchemas, validationIssues } from '../../support/oneroster-schemas.js';
import { fixtureContext as ctx } from './context.js';

const schemaOf = (version: Version, entity: Entity) => (entitySchemas[version] as Record<string, Parameters<typeof validationIssues>[0]>)[entity]!;
const base = { sourcedId: 'x-1', status: 'active', dateLastModified: '2024-09-01T00:00:00Z' };

function nullsIn(v: unknown): boolean {
  if (v === null) return true;
  if (Array.isArray(v)) return v.some(nullsIn);
  if (v && typeof v === 'object') return Object.values(v).some(nullsIn);
  return false;
}

describe('mapper edge cases found by the property tests', () => {
  it('drops a boolean or number field that holds an array or object (no nulls leak)', () => {
    // convert.ts asBoolean/asNumber return non-scalars untouched (no withoutNulls).
    const out = mapRecord('demographics', { ...base, asian: [null] }, 'v1p1', 'v1p2', ctx);
    expect(nullsIn(out)).toBe(false);
  });

  it('moves a vendor field named like an Object.prototype member (toString) into metadata', () => {
    // convert.ts looks fields up with target[key] / source[key], which finds inherited members.
    const out = mapRecord('categories', { ...base, title: 'Homework', toString: 'vendor' }, 'v1p1', 'v1p2', ctx);
    expect(out).toStrictEqual({ ...base, title: 'Homework', metadata: { toString: 'vendor' } });
  });

  it('never lets a "__proto__" key from JSON.parse become the output\'s prototype', () => {
    const out = mapRecord('categories', JSON.parse('{"sourcedId":"x-1","title":"Homework","__proto__":{"polluted":true}}'), 'v1p1', 'v1p2', ctx);
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
    expect((out as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('maps a GUIDRef whose sourcedId holds a lone UTF-16 surrogate (legal JSON "\\ud800") without throwing', () => {
    // guid-refs.ts hrefFor -> encodeRfc3986 throws TypeError; one odd record fails the whole page.
    const record = JSON.parse('{"sourcedId":"sch-9","name":"X","type":"school","identifier":"9","parent":{"sourcedId":"\\ud800"}}');
    expect(() => mapRecord('orgs', record, 'v1p1', 'v1p2', ctx)).not.toThrow();
  });

  it('keeps an empty identifier on a 1.1 org, which 1.2 requires ("" is valid there)', () => {
    // convert.ts drops every "" string field for 1.2, not only optional ones.
    const out = mapRecord('orgs', { ...base, name: 'Lincoln Elementary', type: 'school', identifier: '' }, 'v1p1', 'v1p2', ctx);
    expect(validationIssues(schemaOf('v1p2', 'orgs'), out)).toEqual([]);
  });

  it('keeps an empty familyName (mononym) on a 1.1 user, which 1.2 requires', () => {
    const user = {
      ...base, username: 'suharto', enabledUser: 'true', givenName: 'Suharto', familyName: '', role: 'teacher',
      orgs: [{ href: '~/ims/oneroster/v1p1/orgs/sch-1', sourcedId: 'sch-1', type: 'org' }],
    };
    const out = mapRecord('users', user, 'v1p1', 'v1p2', ctx);
    expect(validationIssues(schemaOf('v1p2', 'users'), out)).toEqual([]);
  });

  it('gives a 1.1 user listing the same org twice one primary role at that org in 1.2', () => {
    // users.ts userToV1p2 makes one primary role per orgs[] entry without de-duplicating.
    const user = {
      ...base, username: 'tch', enabledUser: 'true', givenName: 'T', familyName: 'C', role: 'teacher',
      orgs: [{ sourcedId: 'sch-1', type: 'org' }, { sourcedId: 'sch-1', type: 'org' }],
    };
    const out = mapRecord('users', user, 'v1p1', 'v1p2', ctx);
    expect(validationIssues(schemaOf('v1p2', 'users'), out)).toEqual([]);
  });

  it('drops 1.2 sex "unspecified" / "other" for 1.1, whose vocabulary is male | female (reference §3.2, marked [U])', () => {
    const out = mapRecord('demographics', { ...base, sex: 'unspecified' }, 'v1p2', 'v1p1', ctx);
    expect(validationIssues(schemaOf('v1p1', 'demographics'), out)).toEqual([]);
  });

  it('drops an empty-string score from a 1.1 server: 1.2 score is a number', () => {
    // convert.ts asNumber keeps "" (and drops it nowhere), unlike "" text fields.
    const result = {
      ...base, lineItem: { sourcedId: 'li-1', type: 'lineItem' }, student: { sourcedId: 'stu-1', type: 'student' },
      scoreStatus: 'not submitted', score: '', scoreDate: '2024-09-10',
    };
    const out = mapRecord('results', result, 'v1p1', 'v1p2', ctx);
    expect(validationIssues(schemaOf('v1p2', 'results'), out)).toEqual([]);
  });

  it('looks up the school of a 1.1 line item with "school": null (null is absent)', () => {
    // gradebook.ts lineItemToV1p2 and convert.ts mappingNeeds test `school === undefined` only.
    const item = {
      ...base, title: 'Quiz', assignDate: '2024-09-02T08:00:00Z', dueDate: '2024-09-09T08:00:00Z',
      class: { sourcedId: 'cls-1', type: 'class' }, category: { sourcedId: 'cat-hw', type: 'category' },
      gradingPeriod: { sourcedId: 'gp-q1', type: 'gradingPeriod' }, resultValueMin: 0, resultValueMax: 10, school: null,
    };
    expect([...mappingNeeds('lineItems', [item], 'v1p1', 'v1p2').classes]).toEqual(['cls-1']);
    expect(mapRecord('lineItems', item, 'v1p1', 'v1p2', ctx).school).toMatchObject({ sourcedId: 'sch-1', type: 'org' });
  });

  it('writes -0 as 0, in model fields and vendor fields alike (JSON has no -0)', () => {
    const out = mapRecord('lineItems', { sourcedId: 'li', resultValueMin: -0, vendorScore: -0 }, 'v1p1', 'v1p2', ctx);
    expect(Object.is(out.resultValueMin, 0)).toBe(true);
    expect(Object.is((out.metadata as Record<string, unknown>).vendorScore, 0)).toBe(true);
  });
});
