import { GatewayError } from '../../errors.js';
import type { Version } from '../endpoints.js';
import { filterClauses, formatFilter, type FilterNode } from '../filter.js';
import { fieldsOf, knowsField, type Entity } from '../model.js';
import type { PageQuery, QueryPairs } from '../query.js';
import { isSharedRole, roleToV1p1 } from './users.js';

// A query written in the caller's version, for a district of the other version. Each filter
// clause becomes an exact upstream clause, a looser one (a superset), or nothing (no
// constraint). Exact everywhere: the filter is forwarded. Otherwise the gateway reads the
// looser selection, maps it and evaluates the caller's filter itself, so the answer is
// never silently wrong. A sort on a field that does not translate is done here too.

type Clause = Extract<FilterNode, { kind: 'clause' }>;
type Translated = { node: FilterNode; exact: boolean } | undefined; // undefined: no constraint

export interface TranslatedQuery {
  /** Parameters for the district (limit and offset as asked when `local` is unset). */
  params: QueryPairs;
  /** Set when the gateway must read the whole selection and filter, sort and page it itself. */
  local?: { filter?: FilterNode; sort?: string; desc: boolean };
  /** A `fields` list to apply after mapping (caller's names). */
  fields?: string[];
}

/** Same name and meaning in both versions: a field both models define, addressed plainly or by GUIDRef sourcedId. */
function sameInBoth(entity: Entity, field: string): boolean {
  const [top, sub] = field.split('.');
  const own = (fields: ReturnType<typeof fieldsOf>) => (fields && Object.hasOwn(fields, top!) ? fields[top!] : undefined);
  const a = own(fieldsOf('v1p1', entity));
  const b = own(fieldsOf('v1p2', entity));
  if (!a || !b || a.kind !== b.kind || a.kind === 'open') return false;
  if (entity === 'users' && (top === 'role' || top === 'roles')) return false;
  if (entity === 'lineItems' && top === 'gradingPeriod') return false; // 1.1 falls back to academicSession
  if (sub === undefined) return true;
  if (a.kind === 'ref' || a.kind === 'refs') return sub === 'sourcedId';
  // metadata differs: vendor fields of the other version land there when mapped.
  return a.kind === 'objects';
}

function clause(c: Clause, field: string, value = c.value): FilterNode {
  return { kind: 'clause', field, predicate: c.predicate, value };
}

function translateClause(entity: Entity, c: Clause, to: Version): Translated {
  if (sameInBoth(entity, c.field)) return { node: c, exact: true };
  if (entity === 'users') {
    // 1.2 caller, 1.1 district: a role word both versions share is the user's one role.
    if (to === 'v1p1' && c.field === 'roles.role' && (c.predicate === '=' || c.predicate === '!=')) {
      if (isSharedRole(c.value)) return { node: clause(c, 'role'), exact: true };
      if (c.predicate === '=' && roleToV1p1(c.value) === 'administrator') return { node: clause(c, 'role', 'administrator'), exact: false };
    }
    if (to === 'v1p1' && c.field === 'primaryOrg.sourcedId' && c.predicate === '=') return { node: clause(c, 'orgs.sourcedId'), exact: false };
    // 1.1 caller, 1.2 district: the 1.1 role is one of the user's 1.2 roles.
    if (to === 'v1p2' && c.field === 'role' && c.predicate === '=' && isSharedRole(c.value)) return { node: clause(c, 'roles.role'), exact: false };
  }
  return undefined;
}

function translateNode(entity: Entity, node: FilterNode, to: Version): Translated {
  if (node.kind === 'clause') return translateClause(entity, node, to);
  const left = translateNode(entity, node.left, to);
  const right = translateNode(entity, node.right, to);
  if (node.kind === 'and') {
    if (!left) return right && { node: right.node, exact: false };
    if (!right) return { node: left.node, exact: false };
    return { node: { kind: 'and', left: left.node, right: right.node }, exact: left.exact && right.exact };
  }
  if (!left || !right) return undefined; // one side unconstrained: so is the OR
  return { node: { kind: 'or', left: left.node, right: right.node }, exact: left.exact && right.exact };
}

function param(params: QueryPairs, name: string): string | undefined {
  return params.find(([k]) => k === name)?.[1];
}

/** `fields=a,b` in the caller's version: every name must be a field of the entity there. */
function readFields(entity: Entity, version: Version, text: string): string[] {
  const names = text.split(',').map((f) => f.trim()).filter(Boolean);
  const unknown = names.filter((f) => f.includes('.') || !knowsField(version, entity, f));
  if (unknown.length > 0) {
    throw new GatewayError('invalid_selection', `Unknown field(s) for ${entity} in OneRoster ${version}: ${unknown.slice(0, 5).join(', ')}.`);
  }
  return names;
}

/** The district's query for a caller of version `from` reading a district of version `to`. */
export function translateQuery(entity: Entity, from: Version, to: Version, query: PageQuery, filter: FilterNode | undefined): TranslatedQuery {
  const out: TranslatedQuery = { params: [] };
  const fields = param(query.params, 'fields');
  if (fields !== undefined) out.fields = readFields(entity, from, fields);

  const sort = param(query.params, 'sort');
  const orderBy = param(query.params, 'orderBy');
  if (sort !== undefined && !knowsField(from, entity, sort)) {
    throw new GatewayError('invalid_sort', `Cannot sort ${entity} by "${sort.slice(0, 64)}": not a OneRoster ${from} field.`);
  }
  const sortHere = sort !== undefined && !sameInBoth(entity, sort);

  let upstreamFilter: FilterNode | undefined;
  let filterHere = false;
  if (filter) {
    const t = translateNode(entity, filter, to);
    upstreamFilter = t?.node;
    filterHere = !t || !t.exact;
    // 1.1 servers take at most two clauses joined by one operator (reference §2.2).
    if (upstreamFilter && to === 'v1p1' && filterClauses(upstreamFilter).length > 2) {
      upstreamFilter = undefined;
      filterHere = true;
    }
  }
  if (upstreamFilter) out.params.push(['filter', formatFilter(upstreamFilter)]);
  if (sort !== undefined && !sortHere) out.params.push(['sort', sort]);
  if (orderBy !== undefined && !sortHere) out.params.push(['orderBy', orderBy]);

  if (filterHere || sortHere) {
    out.local = { desc: orderBy === 'desc' };
    if (filterHere) out.local.filter = filter!;
    if (sortHere) out.local.sort = sort!;
  } else {
    if (query.limitGiven) out.params.push(['limit', String(query.limit)]);
    if (param(query.params, 'offset') !== undefined) out.params.push(['offset', String(query.offset)]);
  }
  return out;
}
