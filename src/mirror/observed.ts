// What a `dateLastModified>` read of a mirrored district adds to the district's own answer
// (issue 16): records whose content the gateway saw change after the given time although the
// district did not move their dateLastModified, served with the time the gateway observed the
// change; and records the district purged since then, as tombstones (the last known record,
// `status: "tobedeleted"`, dateLastModified = when the gateway saw it disappear). Pure: the
// changes come from the store, the merge is done on pages the store already cut.
import { matchesFilter, type FilterClause, type FilterNode } from '../core/oneroster/filter.js';
import type { Json } from '../core/oneroster/mapping/types.js';
import { compareIds, sortRecords } from '../core/oneroster/record-order.js';
import { sourcedIdOf } from './memory-collection.js';
import type { ObservedChange } from './types.js';

export interface DeltaClause {
  /** The earliest time any `dateLastModified>` (or `>=`) clause of the filter asks after (ms epoch). */
  since: number;
  inclusive: boolean;
  /** That clause: a record that meets it on its own dateLastModified keeps it. */
  clause: FilterClause;
}

/** The filter's loosest `dateLastModified>`/`>=` clause, if it has one with a time JavaScript can read. */
export function deltaClause(filter: FilterNode | undefined): DeltaClause | undefined {
  let best: DeltaClause | undefined;
  const walk = (n: FilterNode): void => {
    if (n.kind !== 'clause') {
      walk(n.left);
      walk(n.right);
      return;
    }
    if (n.field !== 'dateLastModified' || (n.predicate !== '>' && n.predicate !== '>=')) return;
    const since = Date.parse(n.value);
    if (!Number.isFinite(since)) return;
    if (!best || since < best.since || (since === best.since && n.predicate === '>=')) best = { since, inclusive: n.predicate === '>=', clause: n };
  };
  if (filter) walk(filter);
  return best;
}

/** A change as the read serves it: a tombstone for a deletion, else the record, its dateLastModified the observed time when its own does not meet the clause. */
export function observedRecord(change: ObservedChange, delta: DeltaClause): Json {
  if (change.op === 'deleted') return tombstone(change);
  return matchesFilter(delta.clause, change.record) ? change.record : { ...change.record, dateLastModified: new Date(change.at).toISOString() };
}

/** A deletion as the gateway serves it (reads and feed alike): the last known record, tobedeleted when it was seen gone. */
export function tombstone(change: ObservedChange): Json {
  return { ...change.record, status: 'tobedeleted', dateLastModified: new Date(change.at).toISOString() };
}

/** Records in a query's order: sortRecords by `sort` (ties by sourcedId), or sourcedId order; desc reverses. */
export function inQueryOrder(records: readonly Json[], sort: string | undefined, desc: boolean): Json[] {
  if (sort && sort !== 'sourcedId') return sortRecords(records, sort, desc);
  const out = [...records].sort((a, b) => compareIds(sourcedIdOf(a) ?? '', sourcedIdOf(b) ?? ''));
  return desc ? out.reverse() : out;
}

/**
 * The page [offset, offset + limit) of the union of the store's records (A, the changed ones
 * left out) and the observed ones (B, few and all in hand), given the store's slice of A from
 * `aStart = max(0, offset - |B|)` of length `offset + limit - aStart` (or to A's end): at most
 * |B| of B come before any place, so that slice and B hold the page, and every record from the
 * slice's first on sits at aStart + its place among slice ∪ B.
 */
export function mergedPage(
  slice: readonly Json[],
  aStart: number,
  observed: readonly Json[],
  order: (records: readonly Json[]) => Json[],
  offset: number,
  limit: number,
): Json[] {
  const combined = order([...slice, ...observed]);
  return combined.slice(offset - aStart, offset - aStart + limit);
}

/** Where the store's slice starts for `mergedPage`. */
export const sliceStart = (offset: number, observedCount: number): number => Math.max(0, offset - observedCount);
