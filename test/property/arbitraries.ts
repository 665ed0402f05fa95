// fast-check arbitraries shared by the property and fuzz suites: text shaped like what
// clients send (filters, query strings) and edits that break it in small ways.
import fc from 'fast-check';

/** Any UTF-16 code unit, lone surrogates included. */
export const codeUnit = fc.integer({ min: 0, max: 0xffff }).map((n) => String.fromCharCode(n));

/** Arbitrary text: printable, full Unicode, binary and raw code units. */
export const anyText = fc.oneof(
  fc.string(),
  fc.string({ unit: 'grapheme' }),
  fc.string({ unit: 'binary' }),
  fc.string({ unit: codeUnit }),
);

export const FILTER_FIELDS = [
  'sourcedId', 'status', 'dateLastModified', 'givenName', 'familyName', 'role', 'roles.role',
  'orgs.sourcedId', 'primaryOrg.sourcedId', 'metadata.x', 'title', 'enabledUser', 'grades',
  'AND', 'or', 'nope', 'a.b.c', '_x9', 'constructor', '__proto__', 'toString', 'sourcedId.constructor',
] as const;
export const PREDICATES = ['=', '!=', '>', '>=', '<', '<=', '~'] as const;
const BAD_PREDICATES = ['==', '=>', '<>', '!', '=~', '!==', ''];

const ws = fc.constantFrom('', ' ', '  ', '\t', ' \t');
const filterValue = fc.oneof(
  fc.constantFrom('', 'x', 'Ana', 'student', '2023-01-01', '9', 'a AND b', 'x OR y', '"q"', ' sp ', 'é', '😀'),
  fc.string({ maxLength: 12 }).map((s) => s.replaceAll("'", '')),
  fc.string({ unit: 'grapheme', maxLength: 8 }).map((s) => s.replaceAll("'", '')),
);
const filterClause = fc
  .record({
    field: fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...FILTER_FIELDS) }, { weight: 1, arbitrary: fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_.]{0,6}$/) }),
    pre: ws,
    predicate: fc.oneof({ weight: 6, arbitrary: fc.constantFrom(...PREDICATES) }, { weight: 1, arbitrary: fc.constantFrom(...BAD_PREDICATES) }),
    mid: ws,
    value: filterValue,
  })
  .map((c) => `${c.field}${c.pre}${c.predicate}${c.mid}'${c.value}'`);
const operator = fc.constantFrom(' AND ', ' OR ', ' and ', ' or ', ' Or ', '\tAND\t', ' AND', 'AND ', ' XOR ', ' ');

/** Filters as the grammar writes them, up to a little past the 20-clause limit, sometimes in parentheses. */
export const grammarFilter = fc
  .record({
    first: filterClause,
    rest: fc.array(fc.tuple(operator, filterClause), { maxLength: 22 }),
    lead: ws,
    trail: ws,
    parens: fc.boolean(),
  })
  .map(({ first, rest, lead, trail, parens }) => {
    const body = first + rest.map(([op, c]) => op + c).join('');
    return `${lead}${parens ? `(${body})` : body}${trail}`;
  });

/** Pieces of the grammar and of what breaks it, to insert anywhere. */
export const filterToken = fc.constantFrom(
  ...PREDICATES, ...BAD_PREDICATES, "'", "''", '"', '(', ')', ' ', '\t', '\n', '\r', 'AND', 'OR', 'and', '.', '..',
  ',', '%', '%27', '\\', '\u0000', '\u00a0', '\u2028', '\ud800', '\udc00', '😀', 'é', '=\'', ' AND ', "x='1'",
);

export interface Edit {
  at: number;
  kind: 'insert' | 'delete' | 'replace';
  token: string;
}
export const edits = fc.array(
  fc.record({ at: fc.nat(), kind: fc.constantFrom('insert' as const, 'delete' as const, 'replace' as const), token: filterToken }),
  { maxLength: 4 },
);
export function applyEdits(text: string, list: readonly Edit[]): string {
  let out = text;
  for (const e of list) {
    const at = out.length === 0 ? 0 : e.at % (out.length + 1);
    if (e.kind === 'insert') out = out.slice(0, at) + e.token + out.slice(at);
    else if (e.kind === 'delete') out = out.slice(0, at) + out.slice(at + 1);
    else out = out.slice(0, at) + e.token + out.slice(at + 1);
  }
  return out;
}

/** Filter text: grammar-shaped, grammar-shaped then damaged, token soup, or anything. */
export const filterText = fc.oneof(
  { weight: 3, arbitrary: grammarFilter },
  { weight: 3, arbitrary: fc.tuple(grammarFilter, edits).map(([t, e]) => applyEdits(t, e)) },
  { weight: 2, arbitrary: fc.array(filterToken, { maxLength: 30 }).map((t) => t.join('')) },
  { weight: 2, arbitrary: anyText },
);

/**
 * A value as it may appear percent-encoded in a URL: each character as itself (when a URL may
 * carry it), as %XX of its UTF-8 bytes in either hex case, or a space as '+'.
 */
export function encodeVariant(value: string, choices: readonly number[]): string {
  let out = '';
  let i = 0;
  for (const ch of value) {
    const choice = choices[i++ % Math.max(1, choices.length)] ?? 0;
    const bytes = Buffer.from(ch, 'utf8');
    const encoded = [...bytes].map((b) => `%${b.toString(16).padStart(2, '0')}`).join('');
    const safe = /^[A-Za-z0-9\-._~!$'()*,;:@/]$/.test(ch);
    if (ch === ' ' && choice % 3 === 0) out += '+';
    else if (safe && choice % 3 !== 2) out += ch;
    else out += choice % 2 === 0 ? encoded.toUpperCase() : encoded.toLowerCase();
  }
  return out;
}
export const encodingChoices = fc.array(fc.nat({ max: 5 }), { minLength: 1, maxLength: 16 });

/** Raw query-string fragments: well-formed, malformed percent-encoding, separators. */
export const rawQueryPiece = fc.constantFrom(
  'limit', 'offset', 'sort', 'orderBy', 'filter', 'fields', 'x', '=', '&', '&&', '+', '%', '%2', '%zz', '%ZZ', '%E0%A4%A',
  '%C3%A9', '%ED%A0%80', '%F0%9F%98%80', '%00', '%25', '%26', '%3D', '%27', '%20', '?', '#', 'asc', 'desc', '-1', '0', '1',
  '100', '10001', '1e3', ' ', "givenName='x'", 'sourcedId,givenName', ',', 'é', '\ud800', '😀',
);
