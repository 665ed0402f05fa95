import { describe, expect, it } from 'vitest';
import { ENDPOINTS, matchEndpoint } from '../../src/core/oneroster/endpoints.js';
import { parseOneRosterPath } from '../../src/core/oneroster/paths.js';

describe('endpoint registry', () => {
  it('holds the 41 rostering reads of OneRoster 1.2 and the same set for 1.1', () => {
    const rostering = ENDPOINTS.filter((e) => e.service === 'rostering');
    expect(rostering).toHaveLength(41);
    expect(rostering.every((e) => e.versions.includes('v1p1') && e.versions.includes('v1p2'))).toBe(true);
  });

  it('applies the spec scope matrix: core, relationship, demographics', () => {
    const find = (m: string, t: string) => ENDPOINTS.find((e) => e.method === m && e.template === t)!;
    expect(find('GET', '/users').scopes).toEqual(['roster.readonly', 'roster-core.readonly']);
    expect(find('GET', '/classes/{id}/students').scopes).toEqual(['roster.readonly']);
    expect(find('GET', '/demographics/{id}').scopes).toEqual(['roster-demographics.readonly']);
    expect(find('PUT', '/lineItems/{id}').scopes).toEqual(['gradebook.createput']);
    expect(find('DELETE', '/results/{id}').scopes).toEqual(['gradebook.delete']);
    expect(find('GET', '/classes/{id}/resources').scopes).toEqual(['resource.readonly']);
  });

  it('matches templates, wrappers and kinds, and reports allowed methods', () => {
    const m = matchEndpoint('v1p1', undefined, 'GET', ['schools', 's1', 'classes', 'c1', 'students']);
    expect(m).toMatchObject({ ok: true, params: ['s1', 'c1'], endpoint: { wrapper: 'users', kind: 'collection' } });
    expect(matchEndpoint('v1p1', undefined, 'GET', ['demographics', 'd1'])).toMatchObject({ ok: true, endpoint: { wrapper: 'demographics', kind: 'single' } });
    expect(matchEndpoint('v1p1', undefined, 'POST', ['users'])).toEqual({ ok: false, reason: 'method_not_allowed', allowed: ['GET'] });
    expect(matchEndpoint('v1p1', undefined, 'GET', ['classes', 'c1', 'enrollments'])).toEqual({ ok: false, reason: 'not_found' });
    expect(matchEndpoint('v1p1', undefined, 'GET', ['scoreScales'])).toEqual({ ok: false, reason: 'not_found' });
    expect(matchEndpoint('v1p2', 'gradebook', 'GET', ['scoreScales'])).toMatchObject({ ok: true });
    // 1.2 services are part of the path: users are not under gradebook.
    expect(matchEndpoint('v1p2', 'gradebook', 'GET', ['users'])).toEqual({ ok: false, reason: 'not_found' });
    expect(matchEndpoint('v1p2', 'gradebook', 'PUT', ['results', 'r1'])).toMatchObject({ ok: true, endpoint: { kind: 'write' } });
  });

  it('parses version roots and decodes segments', () => {
    expect(parseOneRosterPath('/v1p1/users/a%20b')).toEqual({ version: 'v1p1', segments: ['users', 'a b'] });
    expect(parseOneRosterPath('/rostering/v1p2/users/')).toEqual({ version: 'v1p2', service: 'rostering', segments: ['users'] });
    expect(parseOneRosterPath('/v1p2/users')).toBeUndefined();
    expect(() => parseOneRosterPath('/v1p1/users/%E0%A4%A')).toThrow(/malformed/);
    expect(() => parseOneRosterPath('/v1p1/users/..')).toThrow(/segments/);
  });
});
