// The OneRoster filter grammar: `field op 'value'` predicates joined by AND / OR.
//
// Choices where the spec is silent (documented so tests and the gateway know them):
// - any number of predicates; AND binds tighter than OR (a OR b AND c = a OR (b AND c));
// - a value ends at the first quote that is followed by the end or by ` AND ` / ` OR `,
//   so values may contain quotes (O'Brien) without escaping;
// - `a.b` means: field a is an object, or an array of objects, and any element's b matches;
//   a GUIDRef compared directly (roles.org='x') compares its sourcedId;
// - `=` `!=` compare exactly; `~` is a case-insensitive "contains";
//   `> >= < <=` compare numerically when the record holds a JSON number, else as strings
//   (so ISO dates compare correctly); `!=` is true when no element equals the value.

import { SandboxError } from './errors.js';
import type { FieldCatalogue, Json } from './render-common.js';

export type FilterOp = '=' | '!=' | '>' | '>=' | '<' | '<=' | '~';

export interface Predicate {
  field: string;
  sub?: string;
  op: FilterOp;
  value: string;
}

/** OR of AND-groups. */
export type Filter = Predicate[][];

const FIELD_RE = /[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)?/y;
const OP_RE = /(>=|<=|!=|=|>|<|~)/y;
const LOGICAL_RE = /\s+(AND|OR)\s+/y;
const VALUE_END_RE = /^(?:\s*$|\s+(?:AND|OR)\s+)/;
const SWALLOWED_JOIN_RE = /'\s+(?:and|or)\s+[A-Za-z_][\w.]*\s*(?:>=|<=|!=|=|>|<|~)\s*'/i;

function bad(message: string): SandboxError {
  return new SandboxError('invalidFilterField', message);
}

export function parseFilter(expr: string, catalogue: FieldCatalogue): Filter {
  const groups: Predicate[][] = [[]];
  let pos = 0;
  for (;;) {
    const [pred, next] = parsePredicate(expr, pos, catalogue);
    (groups[groups.length - 1] as Predicate[]).push(pred);
    pos = next;
    if (expr.slice(pos).trim() === '') return groups;
    LOGICAL_RE.lastIndex = pos;
    const logical = LOGICAL_RE.exec(expr);
    if (!logical) throw bad(`malformed filter near "${expr.slice(pos)}": expected AND or OR`);
    if (logical[1] === 'OR') groups.push([]);
    pos = LOGICAL_RE.lastIndex;
  }
}

function parsePredicate(expr: string, start: number, catalogue: FieldCatalogue): [Predicate, number] {
  let pos = skipSpaces(expr, start);
  FIELD_RE.lastIndex = pos;
  const field = FIELD_RE.exec(expr)?.[0];
  if (!field) throw bad(`malformed filter near "${expr.slice(pos)}": expected a field name`);
  pos = skipSpaces(expr, pos + field.length);
  OP_RE.lastIndex = pos;
  const op = OP_RE.exec(expr)?.[0] as FilterOp | undefined;
  if (!op) throw bad(`malformed filter near "${expr.slice(pos)}": expected one of = != > >= < <= ~`);
  pos = skipSpaces(expr, pos + op.length);
  if (expr[pos] !== "'") throw bad(`malformed filter: the value for ${field} must be single-quoted`);
  const close = closingQuote(expr, pos + 1);
  if (close < 0) throw bad(`malformed filter: unterminated value for ${field}`);
  const [name, sub] = field.split('.') as [string, string | undefined];
  checkField(name, sub, catalogue);
  const value = expr.slice(pos + 1, close);
  // Embedded quotes are allowed, so `a='x' and b='y'` would otherwise read as one odd value.
  if (SWALLOWED_JOIN_RE.test(value)) throw bad('malformed filter: logical operators must be upper-case AND / OR');
  return [{ field: name, ...(sub ? { sub } : {}), op, value }, close + 1];
}

function closingQuote(expr: string, from: number): number {
  for (let i = expr.indexOf("'", from); i >= 0; i = expr.indexOf("'", i + 1)) {
    if (VALUE_END_RE.test(expr.slice(i + 1))) return i;
  }
  return -1;
}

function skipSpaces(s: string, pos: number): number {
  while (s[pos] === ' ') pos++;
  return pos;
}

function checkField(name: string, sub: string | undefined, catalogue: FieldCatalogue): void {
  if (!Object.hasOwn(catalogue, name)) throw bad(`unknown filter field: ${name}`);
  if (sub === undefined) return;
  const subs = catalogue[name];
  if (!subs || !(subs.includes('*') || subs.includes(sub))) throw bad(`unknown filter field: ${name}.${sub}`);
}

export function matchesFilter(record: Json, filter: Filter): boolean {
  return filter.some((group) => group.every((p) => matchesPredicate(record, p)));
}

function matchesPredicate(record: Json, p: Predicate): boolean {
  const values = candidates(record, p);
  if (p.op === '!=') return !values.some((v) => compare(v, p.value) === 0);
  return values.some((v) => test(v, p));
}

/** The scalar values a predicate looks at: the field itself, array elements, or sub-fields. */
function candidates(record: Json, p: Predicate): (string | number)[] {
  const raw = record[p.field];
  const items = Array.isArray(raw) ? raw : [raw];
  const out: (string | number)[] = [];
  for (const item of items) {
    const v = p.sub === undefined ? item : isObject(item) ? item[p.sub] : undefined;
    const scalar = toScalar(v);
    if (scalar !== undefined) out.push(scalar);
  }
  return out;
}

function toScalar(v: unknown): string | number | undefined {
  if (typeof v === 'string' || typeof v === 'number') return v;
  if (typeof v === 'boolean') return String(v);
  if (isObject(v) && typeof v.sourcedId === 'string') return v.sourcedId;
  return undefined;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function test(v: string | number, p: Predicate): boolean {
  if (p.op === '~') return String(v).toLowerCase().includes(p.value.toLowerCase());
  const c = compare(v, p.value);
  switch (p.op) {
    case '=': return c === 0;
    case '>': return c > 0;
    case '>=': return c >= 0;
    case '<': return c < 0;
    case '<=': return c <= 0;
    default: return false;
  }
}

const NUMBER_RE = /^-?\d+(?:\.\d+)?$/;

/** Numeric when the record's value is a JSON number (score, resultValueMax) and the other side is numeric; else code units. */
export function compare(a: string | number, b: string | number): number {
  if (typeof a === 'number') {
    const nb = typeof b === 'number' ? b : NUMBER_RE.test(b) ? Number(b) : Number.NaN;
    if (!Number.isNaN(nb)) return Math.sign(a - nb);
  }
  const as = String(a);
  const bs = String(b);
  return as < bs ? -1 : as > bs ? 1 : 0;
}
