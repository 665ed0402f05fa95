// One collection of one in-process copy: its records in sourcedId order, by id, and equality
// indexes built on first use. Immutable once built, so indexes are built once per copy and
// copies share the collections a pull or delta did not change.
import { compileFilter, isNumericFilterValue, type FilterClause, type FilterNode } from '../core/oneroster/filter.js';
import type { Json } from '../core/oneroster/mapping/types.js';
import { compareIds, sortRecords } from '../core/oneroster/record-order.js';
import type { MirrorPage, MirrorQuery } from './types.js';

/** A record's sourcedId as a string, or undefined when it has none (never stored). */
export function sourcedIdOf(record: Json): string | undefined {
  const id = record.sourcedId;
  return typeof id === 'string' && id !== '' ? id : typeof id === 'number' ? String(id) : undefined;
}

export class MemoryCollection {
  readonly records: readonly Json[];
  readonly byId: ReadonlyMap<string, Json>;
  private readonly positions = new Map<string, number>();
  private readonly indexes = new Map<string, Map<string, number[]>>();

  /** `byId` becomes the collection; `bytes` is what its records' JSON weighs. */
  constructor(byId: Map<string, Json>, readonly bytes: number) {
    const ids = [...byId.keys()].sort(compareIds);
    this.records = ids.map((id) => byId.get(id)!);
    this.byId = byId;
    ids.forEach((id, i) => this.positions.set(id, i));
  }

  query(q: MirrorQuery): MirrorPage {
    let candidates = this.candidates(q);
    // The narrowest list may be an index's: the ids still hold.
    if (q.ids) {
      const ids = new Set(q.ids);
      candidates = candidates.filter((r) => ids.has(sourcedIdOf(r)!));
    }
    if (q.where) {
      const test = compileFilter(q.where);
      candidates = candidates.filter(test);
    }
    if (q.sort && q.sort !== 'sourcedId') candidates = sortRecords(candidates, q.sort, q.desc === true);
    else if (q.desc) candidates = [...candidates].reverse();
    return { records: candidates.slice(q.offset, q.offset + q.limit), total: candidates.length };
  }

  /** The records a query can possibly match, in sourcedId order: by ids, by the narrowest equality index, or all. */
  private candidates(q: MirrorQuery): readonly Json[] {
    // Sizes first, copies last: `status='active'` names most of a collection, and only the
    // narrowest list is worth turning into records.
    let best: { lists: ReadonlyArray<readonly number[]>; size: number } | undefined;
    if (q.ids) {
      const list = [...new Set(q.ids)].flatMap((id) => this.positions.get(id) ?? []).sort((a, b) => a - b);
      best = { lists: [list], size: list.length };
    }
    for (const clause of q.where ? conjuncts(q.where) : []) {
      if (clause.kind !== 'clause' || clause.predicate !== '=') continue;
      const lists = this.equal(clause);
      const size = lists.reduce((n, l) => n + l.length, 0);
      if (!best || size < best.size) best = { lists, size };
    }
    if (!best) return this.records;
    const [first = [], second] = best.lists;
    // One list is in position order already; two (a number's text and numeric keys) are merged.
    const positions = second ? [...new Set([...first, ...second])].sort((a, b) => a - b) : first;
    return positions.map((p) => this.records[p]!);
  }

  /** The index lists (in position order) of the records `clause` (an `=`) can hold for; a superset is fine, the filter runs after. */
  private equal(clause: FilterClause): ReadonlyArray<readonly number[]> {
    const index = this.index(clause.field);
    const text = index.get(`s:${clause.value}`) ?? [];
    if (!isNumericFilterValue(clause.value)) return [text];
    return [text, index.get(`n:${Number(clause.value)}`) ?? []];
  }

  private index(field: string): Map<string, number[]> {
    let index = this.indexes.get(field);
    if (index) return index;
    index = new Map();
    const path = field.split('.');
    this.records.forEach((r, i) => {
      const keys = new Set<string>();
      reach(r, path, 0, keys);
      for (const k of keys) {
        const list = index!.get(k);
        if (list) list.push(i);
        else index!.set(k, [i]);
      }
    });
    this.indexes.set(field, index);
    return index;
  }
}

/** The clauses every match must satisfy (the top AND-chain); none for an OR. */
function conjuncts(node: FilterNode): FilterNode[] {
  return node.kind === 'and' ? [...conjuncts(node.left), ...conjuncts(node.right)] : node.kind === 'clause' ? [node] : [];
}

/** Index keys of the values a path reaches (as filter.ts reaches them): strings and booleans as text, numbers as numbers. */
function reach(value: unknown, path: string[], i: number, out: Set<string>): void {
  if (Array.isArray(value)) {
    for (const item of value) reach(item, path, i, out);
  } else if (i === path.length) {
    if (typeof value === 'string' || typeof value === 'boolean') out.add(`s:${String(value)}`);
    else if (typeof value === 'number') out.add(`n:${value}`).add(`s:${String(value)}`);
  } else if (value && typeof value === 'object' && Object.hasOwn(value, path[i]!)) {
    reach((value as Json)[path[i]!], path, i + 1, out);
  }
}
