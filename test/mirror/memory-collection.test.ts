import { describe, expect, it } from 'vitest';
import { parseFilter } from '../../src/core/oneroster/filter.js';
import { MemoryCollection } from '../../src/mirror/memory-collection.js';

const recs = Array.from({ length: 50 }, (_, i) => ({
  sourcedId: `u-${String(i).padStart(2, '0')}`,
  role: i % 10 === 0 ? 'teacher' : 'student',
  grade: i % 5,
  org: { sourcedId: i < 25 ? 'o1' : 'o2' },
}));
const col = () => new MemoryCollection(new Map(recs.map((r) => [r.sourcedId, r])), 1000);
const ids = (page: { records: Array<Record<string, unknown>> }) => page.records.map((r) => r.sourcedId);

describe('MemoryCollection', () => {
  it('keeps the ids restriction when an equality index is the narrower candidate list', () => {
    // 5 teachers; 20 ids asked: the index's list is narrower, and only u-10 is in both.
    const page = col().query({ collection: 'users', ids: recs.slice(5, 25).map((r) => r.sourcedId), where: parseFilter("role='teacher'"), offset: 0, limit: 100 });
    expect(ids(page)).toEqual(['u-10', 'u-20']);
    expect(page.total).toBe(2);
  });

  it('finds a number by its numeric and its text form once each, never twice', () => {
    const c = col();
    expect(c.query({ collection: 'users', where: parseFilter("grade='3'"), offset: 0, limit: 100 }).total).toBe(10);
    expect(c.query({ collection: 'users', where: parseFilter("grade='03'"), offset: 0, limit: 100 }).total).toBe(10);
    expect(c.query({ collection: 'users', where: parseFilter("grade='3' AND org.sourcedId='o1'"), offset: 0, limit: 100 }).total).toBe(5);
  });

  it('answers OR filters by scanning, and sorts descending with the default order reversed', () => {
    const page = col().query({ collection: 'users', where: parseFilter("role='teacher' OR grade='4'"), desc: true, offset: 0, limit: 3 });
    expect(page.total).toBe(15);
    expect(ids(page)).toEqual(['u-49', 'u-44', 'u-40']);
  });
});

describe('MemoryCollection planning', () => {
  it('keeps an OR beside an indexed clause (a route constraint AND a client OR filter)', () => {
    const where = { kind: 'and', left: parseFilter("org.sourcedId='o1'"), right: parseFilter("role='teacher' OR grade='4'") } as const;
    const page = col().query({ collection: 'users', where, offset: 0, limit: 100 });
    expect(ids(page)).toEqual(['u-00', 'u-04', 'u-09', 'u-10', 'u-14', 'u-19', 'u-20', 'u-24']);
  });

  it('pages an index list directly, both directions, with the total of the whole list', () => {
    const c = col();
    const asc = c.query({ collection: 'users', where: parseFilter("org.sourcedId='o2'"), offset: 3, limit: 4 });
    expect(asc.total).toBe(25);
    expect(ids(asc)).toEqual(['u-28', 'u-29', 'u-30', 'u-31']);
    const desc = c.query({ collection: 'users', where: parseFilter("org.sourcedId='o2'"), desc: true, offset: 23, limit: 10 });
    expect(ids(desc)).toEqual(['u-26', 'u-25']);
    expect(c.query({ collection: 'users', where: parseFilter("org.sourcedId='o2'"), offset: 30, limit: 10 })).toEqual({ records: [], total: 25 });
  });

  it('still applies the ids when an index was narrower', () => {
    const page = col().query({ collection: 'users', ids: ['u-00', 'u-01', 'u-02', 'u-03', 'u-04', 'u-05', 'u-06', 'u-07', 'u-08', 'u-09', 'u-10'], where: parseFilter("role='teacher'"), offset: 0, limit: 10 });
    expect(ids(page)).toEqual(['u-00', 'u-10']);
  });
});
