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
    const { positions, rest, idsLeft } = this.plan(q);
    const sorted = q.sort !== undefined && q.sort !== 'sourcedId';
    if (positions && !rest && !idsLeft && !sorted && !q.exclude?.length) {
      // The index answered the whole query: the page is a slice of its list, whatever its length.
      const n = positions.length;
      const at = (i: number) => this.records[positions[q.desc ? n - 1 - i : i]!]!;
      const end = Math.min(n, q.offset + q.limit);
      const records: Json[] = [];
      for (let i = q.offset; i < end; i++) records.push(at(i));
      return { records, total: n };
    }
    let candidates: readonly Json[] = positions ? positions.map((p) => this.records[p]!) : this.records;
    if (idsLeft) {
      const ids = new Set(q.ids);
      candidates = candidates.filter((r) => ids.has(sourcedIdOf(r)!));
    }
    if (rest) candidates = candidates.filter(compileFilter(rest));
    if (q.exclude?.length) {
      const out = new Set(q.exclude);
      candidates = candidates.filter((r) => !out.has(sourcedIdOf(r)!));
    }
    if (sorted) candidates = sortRecords(candidates, q.sort!, q.desc === true);
    else if (q.desc) candidates = [...candidates].reverse();
    return { records: candidates.slice(q.offset, q.offset + q.limit), total: candidates.length };
  }

  /**
   * Where to start: the narrowest of the ids' positions and the equality indexes of the top
   * AND-chain (sizes first, copies last: `status='active'` names most of a collection), and
   * what is left to check on those records. An index list holds exactly the records its `=`
   * clause holds for (filter.ts compares numbers as numbers and everything else as text, and
   * the index keeps both), so that clause is not checked again.
   */
  private plan(q: MirrorQuery): { positions?: readonly number[]; rest?: FilterNode; idsLeft: boolean } {
    const clauses = q.where ? conjuncts(q.where) : [];
    let best: { lists: ReadonlyArray<readonly number[]>; size: number; clause?: FilterNode } | undefined;
    if (q.ids) {
      const list = [...new Set(q.ids)].flatMap((id) => this.positions.get(id) ?? []).sort((a, b) => a - b);
      best = { lists: [list], size: list.length };
    }
    for (const clause of clauses) {
      if (clause.kind !== 'clause' || clause.predicate !== '=') continue;
      const lists = this.equal(clause);
      const size = lists.reduce((n, l) => n + l.length, 0);
      if (!best || size < best.size) best = { lists, size, clause };
    }
    if (!best) return q.where ? { rest: q.where, idsLeft: false } : { idsLeft: false };
    const [first = [], second] = best.lists;
    // One list is in position order already; two (a number's text and numeric keys) are merged.
    const positions = second ? [...new Set([...first, ...second])].sort((a, b) => a - b) : first;
    const others = clauses.filter((c) => c !== best.clause);
    const rest = others.length > 0 ? others.reduce((left, right) => ({ kind: 'and', left, right })) : undefined;
    return { positions, ...(rest ? { rest } : {}), idsLeft: q.ids !== undefined && best.clause !== undefined };
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

/** What every match must satisfy: the top AND-chain's members (a clause, or an OR kept whole). */
function conjuncts(node: FilterNode): FilterNode[] {
  return node.kind === 'and' ? [...conjuncts(node.left), ...conjuncts(node.right)] : [node];
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
