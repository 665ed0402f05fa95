// A mirror query's `where` and `sort` as PostgreSQL, meaning exactly what core/oneroster's
// matchesFilter and sortRecords mean (the contract suite compares them on the same records).
// Pure: builds text and parameters, runs nothing. Every value and every path travels as a
// parameter (jsonpath `vars` for values); nothing a client sent is spliced into the SQL text.
//
// Where PostgreSQL and JavaScript could disagree, the row says so in `flags` (recordFlags) and
// the query falls back to JavaScript for that collection (postgres-query.ts):
// - jsonpath's lax mode unwraps one level of array per step; matchesFilter fans out over arrays
//   of arrays too (FLAG_NESTED);
// - PostgreSQL prints 1e21 as 1000000000000000000000, JavaScript as 1e+21 (FLAG_NESTED too);
// - PostgreSQL orders text by code point, JavaScript by UTF-16 code unit: they differ only
//   between a character above U+FFFF and one in U+E000..U+FFFF, so both must be present
//   (FLAG_ASTRAL with FLAG_HIGH_BMP in the rows or the values of `<`-like clauses, for those
//   clauses and sorts; FLAG_ID_ASTRAL with FLAG_ID_HIGH_BMP for the sourcedId order);
// - the columns of FIELD_COLUMNS (`class.sourcedId` as ref_class, `role` as f_role...) stand for
//   their fields only while a GUIDRef is an object with a string sourcedId and role and status are
//   strings (FLAG_REF_SHAPE marks any other shape: an array, a number, a bare string GUIDRef).
import type { FilterClause, FilterNode, FilterPredicate } from '../core/oneroster/filter.js';
import { isNumericFilterValue } from '../core/oneroster/filter.js';
import type { Json } from '../core/oneroster/mapping/types.js';

export const FLAG_NESTED = 1;
export const FLAG_ASTRAL = 2;
export const FLAG_HIGH_BMP = 4;
export const FLAG_REF_SHAPE = 8;
export const FLAG_ID_ASTRAL = FLAG_ASTRAL << 3;
export const FLAG_ID_HIGH_BMP = FLAG_HIGH_BMP << 3;

/** GUIDRef fields the relationship routes look records up by. */
export const REF_FIELDS: ReadonlySet<string> = new Set(['class', 'user', 'school', 'course']);

/**
 * Filter fields held in columns of their own (generated from doc, postgres-schema.ts v2) that
 * the relationship routes' indexes hold: a class's enrollments by role and status come from an
 * index alone. A column says exactly what its field says only while the field is a string (or
 * absent, or null); a record where it is anything else carries FLAG_REF_SHAPE.
 */
export const FIELD_COLUMNS: ReadonlyMap<string, string> = new Map([
  ...[...REF_FIELDS].map((f): [string, string] => [`${f}.sourcedId`, `ref_${f}`]),
  ['role', 'f_role'],
  ['status', 'f_status'],
]);

/** The columns a query's rows have (alias r): whereSql reads doc and the FIELD_COLUMNS columns. */
export const ROW_COLUMNS = `sourced_id, valid_from, flags, doc, ${[...FIELD_COLUMNS.values()].join(', ')}`;

const IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/;
const ASTRAL = /[\uD800-\uDFFF]/;
const HIGH_BMP = /[\uE000-\uFFFF]/;

export function textFlags(s: string): number {
  return (ASTRAL.test(s) ? FLAG_ASTRAL : 0) | (HIGH_BMP.test(s) ? FLAG_HIGH_BMP : 0);
}

/** Which of PostgreSQL's and JavaScript's differences this record could show (0 for almost every record). */
export function recordFlags(record: Json, sourcedId: string): number {
  let flags = textFlags(sourcedId) << 3;
  const walk = (v: unknown): void => {
    if (typeof v === 'string') flags |= textFlags(v);
    else if (typeof v === 'number') flags |= String(v).includes('e') ? FLAG_NESTED : 0;
    else if (Array.isArray(v)) {
      for (const item of v) {
        if (Array.isArray(item)) flags |= FLAG_NESTED;
        walk(item);
      }
    } else if (v && typeof v === 'object') for (const item of Object.values(v)) walk(item);
  };
  walk(record);
  const odd = (v: unknown) => v !== undefined && v !== null && typeof v !== 'string';
  for (const field of REF_FIELDS) {
    const ref = record[field];
    // A GUIDRef given as a bare string names its id too (core refId): the column would miss it.
    if (typeof ref === 'string' || Array.isArray(ref) || (ref && typeof ref === 'object' && odd((ref as Json).sourcedId))) flags |= FLAG_REF_SHAPE;
  }
  if (odd(record.role) || odd(record.status)) flags |= FLAG_REF_SHAPE;
  return flags;
}

/** Positional parameters, every one sent as text and cast in the SQL. */
export class Params {
  readonly values: string[] = [];
  add(value: string | number, cast = 'text'): string {
    this.values.push(String(value));
    return `$${this.values.length}::${cast}`;
  }
  json(value: unknown): string {
    return this.add(JSON.stringify(value), 'text::jsonb');
  }
  path(value: string): string {
    return this.add(value, 'text::jsonpath');
  }
  /** A text[] parameter: a constant array to the planner, so `= ANY` can use an index or a hash. */
  texts(values: readonly string[]): string {
    return this.add(`{${values.map((v) => `"${v.replace(/[\\"]/g, '\\$&')}"`).join(',')}}`, 'text[]');
  }
}

export interface WhereSql {
  /** A condition every match meets; undefined when nothing could be said in SQL. */
  sql: string | undefined;
  /** The condition is the whole filter (else JavaScript finishes the filtering). */
  exact: boolean;
  /** The filter orders text (`>`, `>=`, `<`, `<=`). */
  ordered: boolean;
  /** textFlags of the values of its ordering clauses. */
  valueFlags: number;
  /** A FIELD_COLUMNS column was used (valid only without FLAG_REF_SHAPE rows). */
  refHint: boolean;
}

export interface WhereOptions {
  /** PostgreSQL has ICU's root collation, whose lower() is JavaScript's toLowerCase. */
  icu: boolean;
  /** Use the FIELD_COLUMNS columns (off once a collection holds FLAG_REF_SHAPE rows). */
  refHints: boolean;
}

/** The SQL for `node` over the row alias `r` (columns sourced_id, doc). */
export function whereSql(node: FilterNode, p: Params, options: WhereOptions): WhereSql {
  const out: WhereSql = { sql: undefined, exact: true, ordered: false, valueFlags: 0, refHint: false };
  out.sql = nodeSql(node, p, options, out);
  return out;
}

function nodeSql(node: FilterNode, p: Params, options: WhereOptions, out: WhereSql): string | undefined {
  if (node.kind === 'clause') {
    if (Object.hasOwn(CMP, node.predicate)) {
      out.ordered = true;
      out.valueFlags |= textFlags(node.value);
    }
    const sql = clauseSql(node, p, options, out);
    if (sql === undefined) out.exact = false;
    return sql;
  }
  const left = nodeSql(node.left, p, options, out);
  const right = nodeSql(node.right, p, options, out);
  if (node.kind === 'or') return left === undefined || right === undefined ? undefined : `(${left} OR ${right})`;
  if (left === undefined || right === undefined) return left ?? right;
  return `(${left} AND ${right})`;
}

/** `lax $."a"."b"`: the quotes keep a field named like a jsonpath keyword a plain key. */
function jsonPath(segments: readonly string[]): string {
  return `lax $${segments.map((s) => `."${s}"`).join('')}`;
}

const CMP: Record<Exclude<FilterPredicate, '~' | '!=' | '='>, (a: string, b: string) => boolean> = {
  '>': (a, b) => a > b,
  '>=': (a, b) => a >= b,
  '<': (a, b) => a < b,
  '<=': (a, b) => a <= b,
};

function clauseSql(c: FilterClause, p: Params, options: WhereOptions, out: WhereSql): string | undefined {
  const segments = c.field.split('.');
  if (!segments.every((s) => IDENT.test(s))) return undefined;
  const reached = `${jsonPath(segments)}[*]`;
  switch (c.predicate) {
    case '=':
      // A GUIDRef hint is the whole clause (see equalityHint); a containment hint only narrows it.
      return refHint(segments, c.value, p, options, out) ?? withHint(containmentHint(segments, c.value, p), equalsSql(reached, c.value, p));
    case '!=':
      return `(NOT ${equalsSql(reached, c.value, p)})`;
    case '~':
      if (!options.icu) return undefined;
      return `EXISTS (SELECT 1 FROM jsonb_path_query(r.doc, ${p.path(reached)}) v WHERE jsonb_typeof(v) IN ('string', 'number', 'boolean') AND strpos(lower((v #>> '{}') COLLATE "und-x-icu"), ${p.add(c.value.toLowerCase())}) > 0)`;
    default:
      return orderSql(reached, c.predicate, c.value, p);
  }
}

/** Some reached value equals `value`: a string equal to it, a boolean printed as it, a number equal to it when it is numeric. */
function equalsSql(reached: string, value: string, p: Params): string {
  const tests = ['@ == $s'];
  if (value === 'true' || value === 'false') tests.push(`@ == ${value}`);
  const n = Number(value);
  // A finite number is never equal to Infinity, so '1e999' needs no numeric test.
  if (isNumericFilterValue(value) && Number.isFinite(n)) tests.push('@ == $n');
  return `jsonb_path_exists(r.doc, ${p.path(`${reached} ? (${tests.join(' || ')})`)}, ${p.json({ s: value, n })})`;
}

function orderSql(reached: string, op: keyof typeof CMP, value: string, p: Params): string {
  const tests = [`@ ${op} $s`];
  for (const b of ['true', 'false']) if (CMP[op](b, value)) tests.push(`@ == ${b}`);
  const numeric = isNumericFilterValue(value);
  const n = Number(value);
  if (numeric && Number.isFinite(n)) tests.push(`@ ${op} $n`);
  else if (numeric && (n > 0 ? op[0] === '<' : op[0] === '>')) tests.push('@.type() == "number"');
  const path = `jsonb_path_exists(r.doc, ${p.path(`${reached} ? (${tests.join(' || ')})`)}, ${p.json({ s: value, n: Number.isFinite(n) ? n : 0 })})`;
  if (numeric) return path;
  // A number against a non-numeric value compares as its text (JavaScript's String(n), which is
  // PostgreSQL's text for every number without an exponent: the others are FLAG_NESTED rows).
  return `(${path} OR EXISTS (SELECT 1 FROM jsonb_path_query(r.doc, ${p.path(reached)}) v WHERE jsonb_typeof(v) = 'number' AND (v #>> '{}') COLLATE "C" ${op} ${p.add(value)}))`;
}

const withHint = (hint: string | undefined, exact: string) => (hint ? `(${hint} AND ${exact})` : exact);

/**
 * `class.sourcedId='x'`, `role='student'` and their kin as their column's equality (FIELD_COLUMNS),
 * which the relationship indexes serve in sourcedId order. It says exactly what the clause
 * says when the field is a string (a string never equals a number or a boolean in
 * matchesFilter's test); a row of any other shape carries FLAG_REF_SHAPE, and a collection
 * holding one is asked again without these columns.
 */
function refHint(segments: readonly string[], value: string, p: Params, options: WhereOptions, out: WhereSql): string | undefined {
  const column = options.refHints ? FIELD_COLUMNS.get(segments.join('.')) : undefined;
  if (!column) return undefined;
  out.refHint = true;
  return `r.${column} = ${p.add(value)}`;
}

/**
 * An extra condition the GIN index can serve for a path ending in sourcedId (never the whole
 * test): jsonb containment, one per way arrays can sit on the path.
 */
function containmentHint(segments: readonly string[], value: string, p: Params): string | undefined {
  if (segments[segments.length - 1] !== 'sourcedId') return undefined;
  const n = Number(value);
  const numeric = isNumericFilterValue(value);
  const leaves: unknown[] = [value];
  if (value === 'true' || value === 'false') leaves.push(value === 'true');
  if (numeric && Number.isFinite(n)) leaves.push(n);
  const variants: unknown[] = [];
  for (let mask = 0; mask < 2 ** segments.length; mask++) {
    for (const leaf of leaves) {
      variants.push(segments.reduceRight<unknown>((inner, key, i) => {
        const wrapped = mask & (1 << i) ? [inner] : inner;
        return { [key]: wrapped };
      }, leaf));
    }
  }
  if (variants.length > 8) return undefined;
  return `(${variants.map((v) => `r.doc @> ${p.json(v)}`).join(' OR ')})`;
}

/**
 * sortValue's path as jsonpath: at each step take the first element of an array (`[0]`, which
 * lax mode also applies to a non-array as itself). Undefined when the path is not plain fields.
 */
export function sortPath(sort: string): string | undefined {
  const segments = sort.split('.');
  if (!segments.every((s) => IDENT.test(s))) return undefined;
  return `lax $${segments.map((s) => `."${s}"[0]`).join('')}`;
}
