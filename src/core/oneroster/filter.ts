// OneRoster `filter` query parameter (oneroster-reference.md §2.2): parse, print, rewrite, evaluate.
import { GatewayError } from '../errors.js';

export type FilterPredicate = '=' | '!=' | '>' | '>=' | '<' | '<=' | '~';
export type FilterNode =
  | { kind: 'clause'; field: string; predicate: FilterPredicate; value: string }
  | { kind: 'and' | 'or'; left: FilterNode; right: FilterNode };
export type FilterClause = Extract<FilterNode, { kind: 'clause' }>;

/** Ed-Fi's 1.2 server ceiling; also bounds the work one request can ask of local evaluation. */
export const MAX_FILTER_CLAUSES = 20;

const PREDICATES: ReadonlySet<string> = new Set(['=', '!=', '>', '>=', '<', '<=', '~']);
const FIELD = /[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*/y;
const FIELD_EXACT = /^[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*$/;
const PREDICATE_CHARS = /[=!<>~]+/y;
const WORD = /[A-Za-z0-9_]+/y;
const NUMERIC = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

function fail(message: string): never {
  throw new GatewayError('invalid_filter', `Invalid filter: ${message}.`);
}

/** Bounded so a megabyte filter cannot become a megabyte error message. */
function quote(s: string): string {
  return s.length > 20 ? `${JSON.stringify(s.slice(0, 20))}...` : JSON.stringify(s);
}

function found(text: string, pos: number): string {
  return pos >= text.length ? 'found end of filter' : `found ${quote(text.slice(pos, pos + 21))}`;
}

/**
 * Grammar: clause ((AND|OR) clause)*, no parentheses, AND binding tighter than OR; the result is an
 * OR-chain of AND-chains, both left-associative. Positions in messages are 1-based characters.
 */
export function parseFilter(text: string): FilterNode {
  if (typeof text !== 'string') fail('expected a string');
  let pos = 0;
  const skipSpace = (): void => {
    while (text[pos] === ' ' || text[pos] === '\t') pos++;
  };
  const match = (re: RegExp): string | undefined => {
    re.lastIndex = pos;
    const m = re.exec(text);
    if (m) pos = re.lastIndex;
    return m?.[0];
  };

  const clause = (after: string): FilterClause => {
    skipSpace();
    const fieldAt = pos;
    const field = match(FIELD);
    if (field === undefined) fail(`expected a field name ${after}at character ${pos + 1}, ${found(text, pos)}`);
    if (text[pos] === '.') {
      fail(`field name at character ${fieldAt + 1} has an empty or invalid part, ${found(text, fieldAt)}`);
    }
    skipSpace();
    const predAt = pos;
    const predicate = match(PREDICATE_CHARS);
    if (predicate === undefined) fail(`expected a predicate after ${quote(field)} at character ${pos + 1}, ${found(text, pos)}`);
    if (!PREDICATES.has(predicate)) {
      fail(`unknown predicate ${quote(predicate)} at character ${predAt + 1} (allowed: = != > >= < <= ~)`);
    }
    skipSpace();
    if (text[pos] !== "'") fail(`expected a single-quoted value after ${JSON.stringify(predicate)} at character ${pos + 1}, ${found(text, pos)}`);
    // OneRoster has no escape for a quote inside a value, so the next quote always closes it.
    const close = text.indexOf("'", pos + 1);
    if (close < 0) fail(`missing closing quote for the value starting at character ${pos + 1}`);
    const value = text.slice(pos + 1, close);
    pos = close + 1;
    return { kind: 'clause', field, predicate: predicate as FilterPredicate, value };
  };

  skipSpace();
  if (pos === text.length) fail('the filter is empty');
  const ors: FilterNode[] = [];
  let ands: FilterNode = clause('');
  let count = 1;
  for (;;) {
    skipSpace();
    if (pos === text.length) break;
    const opAt = pos;
    const word = match(WORD);
    const op = word?.toUpperCase();
    if (op !== 'AND' && op !== 'OR') fail(`expected AND or OR at character ${opAt + 1}, ${found(text, opAt)}`);
    if (pos < text.length && text[pos] !== ' ' && text[pos] !== '\t') fail(`expected a space after ${op} at character ${pos + 1}, ${found(text, pos)}`);
    if (++count > MAX_FILTER_CLAUSES) fail(`more than ${MAX_FILTER_CLAUSES} clauses (clause ${count} follows the ${op} at character ${opAt + 1})`);
    const next = clause(`after ${op} `);
    if (op === 'AND') {
      ands = { kind: 'and', left: ands, right: next };
    } else {
      ors.push(ands);
      ands = next;
    }
  }
  ors.push(ands);
  return ors.reduce((left, right) => ({ kind: 'or', left, right }));
}

/** The tree as an OR of AND-lists: the only shape parenthesis-free text can say. */
function disjunctiveForm(node: FilterNode): FilterClause[][] {
  if (node.kind === 'clause') return [[node]];
  const left = disjunctiveForm(node.left);
  const right = disjunctiveForm(node.right);
  if (node.kind === 'or') return [...left, ...right];
  return left.flatMap((l) => right.map((r) => [...l, ...r]));
}

function formatClause(c: FilterClause): string {
  // Refuse rather than print text that would parse as a different (possibly wider) filter.
  if (!FIELD_EXACT.test(c.field)) fail(`cannot express field name ${quote(c.field)}`);
  if (!PREDICATES.has(c.predicate)) fail(`cannot express predicate ${JSON.stringify(c.predicate)}`);
  if (c.value.includes("'")) fail(`cannot express a value containing a single quote (${quote(c.value)})`);
  return `${c.field}${c.predicate}'${c.value}'`;
}

/**
 * Canonical text. Trees of parsed shape print back exactly; other trees are printed with the same
 * meaning (AND is distributed over a nested OR), so the text can hold more clauses than the tree.
 */
export function formatFilter(node: FilterNode): string {
  return disjunctiveForm(node)
    .map((conj) => conj.map(formatClause).join(' AND '))
    .join(' OR ');
}

export function filterClauses(node: FilterNode): FilterClause[] {
  return node.kind === 'clause' ? [node] : [...filterClauses(node.left), ...filterClauses(node.right)];
}

export function mapFilterClauses(
  node: FilterNode,
  fn: (c: FilterClause) => FilterNode | undefined,
): FilterNode | undefined {
  if (node.kind === 'clause') return fn(node);
  const left = mapFilterClauses(node.left, fn);
  if (left === undefined) return undefined;
  const right = mapFilterClauses(node.right, fn);
  return right === undefined ? undefined : { kind: node.kind, left, right };
}

/*
 * Evaluation, chosen to agree with how OneRoster servers answer the same filter:
 * - A dotted field walks objects; every array met on the way fans out, and a clause holds if it holds
 *   for ANY reached value (`orgs.sourcedId='x'`, `grades='09'`). `!=` holds if NO reached value equals.
 *   Missing fields, nulls and empty arrays reach nothing: `!=` holds, every other predicate fails.
 * - Booleans compare as 'true'/'false' because servers disagree on JSON vs string booleans.
 * - A JSON number compares numerically when the filter value is numeric (`score>'9'` holds for 10);
 *   everything else compares as strings by UTF-16 code unit, which orders ISO dates correctly
 *   (a date-time on the filter day sorts after the bare date, so `>'2015-01-01'` includes that day).
 * - `~` is a case-insensitive substring test (as Ed-Fi's LIKE); `=` and `!=` are case-sensitive.
 */
export function matchesFilter(node: FilterNode, record: unknown): boolean {
  if (node.kind !== 'clause') {
    return node.kind === 'and'
      ? matchesFilter(node.left, record) && matchesFilter(node.right, record)
      : matchesFilter(node.left, record) || matchesFilter(node.right, record);
  }
  const reached: unknown[] = [];
  collect(record, node.field.split('.'), 0, reached);
  if (node.predicate === '!=') return !reached.some((v) => compare(v, '=', node.value));
  return reached.some((v) => compare(v, node.predicate, node.value));
}

/**
 * The filter as a predicate, its paths split once: the same meaning as matchesFilter, for
 * evaluating one filter over many records (the mirror scans whole collections with it).
 */
export function compileFilter(node: FilterNode): (record: unknown) => boolean {
  if (node.kind !== 'clause') {
    const left = compileFilter(node.left);
    const right = compileFilter(node.right);
    return node.kind === 'and' ? (r) => left(r) && right(r) : (r) => left(r) || right(r);
  }
  const path = node.field.split('.');
  const { value } = node;
  if (node.predicate === '!=') return (r) => !reaches(r, path, 0, (v) => compare(v, '=', value));
  const predicate = node.predicate;
  return (r) => reaches(r, path, 0, (v) => compare(v, predicate, value));
}

/** Whether any value reached along `path` (fanning out over arrays, as collect does) passes `test`. */
function reaches(value: unknown, path: string[], i: number, test: (v: unknown) => boolean): boolean {
  if (Array.isArray(value)) {
    for (const item of value) if (reaches(item, path, i, test)) return true;
    return false;
  }
  if (i === path.length) return value !== null && value !== undefined && test(value);
  if (typeof value !== 'object' || value === null) return false;
  const key = path[i] as string;
  return Object.hasOwn(value, key) && reaches((value as Record<string, unknown>)[key], path, i + 1, test);
}

function collect(value: unknown, path: string[], i: number, out: unknown[]): void {
  if (Array.isArray(value)) {
    for (const item of value) collect(item, path, i, out);
  } else if (i === path.length) {
    if (value !== null && value !== undefined) out.push(value);
  } else if (typeof value === 'object' && value !== null) {
    const key = path[i] as string;
    // Own properties only, so `constructor` or `__proto__` never reach Object.prototype.
    if (Object.hasOwn(value, key)) collect((value as Record<string, unknown>)[key], path, i + 1, out);
  }
}

function compare(actual: unknown, predicate: FilterPredicate, expected: string): boolean {
  let a: string | number;
  let b: string | number;
  if (typeof actual === 'number' && NUMERIC.test(expected)) {
    a = actual;
    b = Number(expected);
  } else if (typeof actual === 'string' || typeof actual === 'number' || typeof actual === 'boolean') {
    a = String(actual);
    b = expected;
  } else {
    return false; // objects (e.g. a GUIDRef addressed without a sub-field) equal no filter value
  }
  switch (predicate) {
    case '=': return a === b;
    case '!=': return a !== b;
    case '>': return a > b;
    case '>=': return a >= b;
    case '<': return a < b;
    case '<=': return a <= b;
    case '~': return String(actual).toLowerCase().includes(expected.toLowerCase());
  }
}

/** Whether `=` with this filter value also equals JSON numbers (`score='9'` holds for 9 and for 9.0). */
export function isNumericFilterValue(value: string): boolean {
  return NUMERIC.test(value);
}
