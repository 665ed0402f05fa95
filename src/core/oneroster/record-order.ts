// The order the gateway gives records it sorts itself (the version bridge, derived reads and
// the mirror, whose stores must agree with each other): a sort names a field path; a path
// through an array takes its first element; numbers compare as numbers when both are
// numbers, anything else as strings by UTF-16 code unit; a record without the field sorts
// last whichever the direction; ties keep sourcedId order.
import type { Json } from './mapping/types.js';

const isObject = (v: unknown): v is Json => !!v && typeof v === 'object' && !Array.isArray(v);

/** The value a record sorts by: a string or a number, else undefined (absent). */
export function sortValue(record: Json, path: string): string | number | undefined {
  let v: unknown = record;
  for (const part of path.split('.')) {
    if (Array.isArray(v)) v = v[0];
    v = isObject(v) && Object.hasOwn(v, part) ? v[part] : undefined;
  }
  if (Array.isArray(v)) v = v[0];
  return typeof v === 'number' || typeof v === 'string' ? v : typeof v === 'boolean' ? String(v) : undefined;
}

/** Ascending comparison of two sort values, absent last. */
export function compareSortValues(a: string | number | undefined, b: string | number | undefined): number {
  if (a === b) return 0;
  if (a === undefined) return 1;
  if (b === undefined) return -1;
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  const x = String(a);
  const y = String(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

/** Code-unit order of sourcedIds: the default order of every list the gateway builds. */
export function compareIds(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Sorts records (already in sourcedId order) by `path`, in place order kept for ties; a
 * descending sort reverses the comparison but still puts absent values last.
 */
export function sortRecords<T extends Json>(records: readonly T[], path: string, desc: boolean): T[] {
  const keyed = records.map((r, i) => ({ r, i, k: sortValue(r, path) }));
  keyed.sort((a, b) => {
    if (a.k === undefined || b.k === undefined) {
      if (a.k === b.k) return a.i - b.i;
      return a.k === undefined ? 1 : -1;
    }
    const c = compareSortValues(a.k, b.k);
    return c !== 0 ? (desc ? -c : c) : a.i - b.i;
  });
  return keyed.map((x) => x.r);
}
