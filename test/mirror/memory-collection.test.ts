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
