// The pure parts of correct deltas: which clause a read asks after, how a change is served, and
// the merge of the store's page with the observed records, checked against the whole union.
import { describe, expect, it } from 'vitest';
import { parseFilter } from '../../src/core/oneroster/filter.js';
import type { Json } from '../../src/core/oneroster/mapping/types.js';
import { changeCursor, cursorOf, epochOf, readCursor } from '../../src/mirror/cursor.js';
import { deltaClause, inQueryOrder, mergedPage, observedRecord, sliceStart } from '../../src/mirror/observed.js';
import type { ObservedChange } from '../../src/mirror/types.js';

function prng(seed: number) {
  let s = seed >>> 0;
  return () => ((s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32);
}

describe('deltaClause', () => {
  it('finds the loosest dateLastModified> or >= clause anywhere in the filter', () => {
    expect(deltaClause(parseFilter("dateLastModified>'2024-05-01'"))).toMatchObject({ since: Date.parse('2024-05-01'), inclusive: false });
    const both = deltaClause(parseFilter("dateLastModified>'2024-04-01' OR dateLastModified>='2024-03-01T00:00:00Z' AND status='active'"));
    expect(both).toMatchObject({ since: Date.parse('2024-03-01T00:00:00Z'), inclusive: true });
    expect(deltaClause(parseFilter("dateLastModified<'2024-05-01'"))).toBeUndefined();
    expect(deltaClause(parseFilter("dateLastModified>'not a date'"))).toBeUndefined();
    expect(deltaClause(parseFilter("givenName>'2024-05-01'"))).toBeUndefined();
    expect(deltaClause(undefined)).toBeUndefined();
  });
});

describe('observedRecord', () => {
  const delta = deltaClause(parseFilter("dateLastModified>'2024-05-01T00:00:00.000Z'"))!;
  const at = Date.parse('2024-06-01T12:00:00.000Z');
  const change = (op: ObservedChange['op'], record: Json): ObservedChange => ({ seq: 2, collection: 'users', sourcedId: String(record.sourcedId), op, at, record });

  it('keeps a record whose own dateLastModified meets the clause, and gives the observed time to one whose does not', () => {
    const fresh = { sourcedId: 'a', status: 'active', dateLastModified: '2024-05-20T00:00:00.000Z' };
    expect(observedRecord(change('updated', fresh), delta)).toBe(fresh);
    const stale = { sourcedId: 'b', status: 'active', dateLastModified: '2023-01-01T00:00:00.000Z' };
    expect(observedRecord(change('updated', stale), delta)).toEqual({ ...stale, dateLastModified: '2024-06-01T12:00:00.000Z' });
    expect(stale.dateLastModified).toBe('2023-01-01T00:00:00.000Z');
  });

  it('serves a deletion as the last known record marked tobedeleted at the time it was seen gone', () => {
    expect(observedRecord(change('deleted', { sourcedId: 'c', status: 'active', givenName: 'Ann', dateLastModified: '2024-05-20T00:00:00.000Z' }), delta)).toEqual({
      sourcedId: 'c',
      status: 'tobedeleted',
      givenName: 'Ann',
      dateLastModified: '2024-06-01T12:00:00.000Z',
    });
  });
});

describe('mergedPage', () => {
  it('cuts every page of the union like the union sorted whole (random sorts, orders, pages, overlaps)', () => {
    const rnd = prng(7);
    for (let round = 0; round < 400; round++) {
      const n = Math.floor(rnd() * 40);
      const m = Math.floor(rnd() * 12);
      const rec = (i: number, kind: string): Json => ({ sourcedId: `${kind}${String(Math.floor(rnd() * 1000)).padStart(3, '0')}-${i}`, familyName: ['Ng', 'Ali', 'Zed', undefined][Math.floor(rnd() * 4)], grade: Math.floor(rnd() * 5) });
      const a = Array.from({ length: n }, (_, i) => rec(i, 'a'));
      const b = Array.from({ length: m }, (_, i) => rec(i, 'b'));
      const sort = [undefined, 'familyName', 'grade', 'sourcedId'][Math.floor(rnd() * 4)];
      const desc = rnd() < 0.5;
      const order = (rs: readonly Json[]) => inQueryOrder(rs, sort, desc);
      const whole = order([...a, ...b]);
      const limit = 1 + Math.floor(rnd() * 10);
      for (let offset = 0; offset <= whole.length + 2; offset += 1 + Math.floor(rnd() * 3)) {
        const from = sliceStart(offset, b.length);
        const slice = order(a).slice(from, offset + limit);
        const got = mergedPage(slice, from, b, order, offset, limit).map((r) => r.sourcedId);
        expect({ round, offset, got }).toEqual({ round, offset, got: whole.slice(offset, offset + limit).map((r) => r.sourcedId) });
      }
    }
  });
});

describe('change cursors', () => {
  it('round-trips copy ends and places inside a copy, any sourcedId', () => {
    for (const id of ['u1', 'ünï/cödé?&=#', '😀 x', 'a'.repeat(300)]) {
      const text = cursorOf('ab12', { seq: 42, collection: 'enrollments', sourcedId: id });
      expect(readCursor(text)).toEqual({ epoch: 'ab12', at: { seq: 42, collection: 'enrollments', sourcedId: id } });
      expect(text).toMatch(/^[0-9a-f]+\.[0-9]+\.[0-9]+\.[A-Za-z0-9_-]+$/);
    }
    expect(readCursor(cursorOf('ab12', { seq: 7 }))).toEqual({ epoch: 'ab12', at: { seq: 7 } });
    expect(changeCursor('ab12', { seq: 3, collection: 'orgs', sourcedId: 'o', op: 'created', at: 0, record: {} })).toBe(cursorOf('ab12', { seq: 3, collection: 'orgs', sourcedId: 'o' }));
    expect(epochOf('ab12.9')).toBe('ab12');
  });

  it('reads nothing it did not make', () => {
    for (const bad of ['', 'x', 'ab12', 'ab12.0', 'ab12.-1', 'AB12.1', 'ab12.1.9.dQ', 'ab12.1.1.', 'ab12.1.1.d=', 'ab12.99999999999', 'ab12.1.1.dQ.x', `ab12.1.1.${'A'.repeat(9000)}`]) {
      expect(readCursor(bad), bad).toBeUndefined();
    }
  });
});
