// Fuzzing the `filter` parser and its field check (test/core/filter.test.ts holds the
// tree-first round trips; these start from text, most of it broken).
import { isDeepStrictEqual } from 'node:util';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { GatewayError } from '../../src/core/errors.js';
import { ENDPOINTS, type Version } from '../../src/core/oneroster/endpoints.js';
import { readFilter } from '../../src/core/oneroster/filter-fields.js';
import { MAX_FILTER_CLAUSES, filterClauses, formatFilter, parseFilter, type FilterNode } from '../../src/core/oneroster/filter.js';
import { entityOfWrapper, fieldsOf, knowsField } from '../../src/core/oneroster/model.js';
import { filterText, filterToken } from './arbitraries.js';

/** The outcome of a parse: the tree, or the GatewayError; anything else is rethrown. */
function attempt(fn: () => FilterNode): { node: FilterNode } | { error: GatewayError } {
  try {
    return { node: fn() };
  } catch (e) {
    if (e instanceof GatewayError) return { error: e };
    throw e;
  }
}

/** A client-safe invalid_filter refusal: 400, 1.2 codeMinor, a message that does not echo the input. */
function isFilterRefusal(e: GatewayError): boolean {
  return e.code === 'invalid_filter' && e.status === 400 && e.codeMinor === 'invalid_filter_field' && e.message.length < 300;
}

const wrappers = [...new Set(ENDPOINTS.map((e) => e.wrapper))];
const version = fc.constantFrom<Version>('v1p1', 'v1p2');

describe('parseFilter on arbitrary text', () => {
  it('returns a tree within the clause limit or a short invalid_filter 400, never another exception', () => {
    fc.assert(
      fc.property(filterText, (text) => {
        const r = attempt(() => parseFilter(text));
        if ('error' in r) return isFilterRefusal(r.error);
        const clauses = filterClauses(r.node);
        return clauses.length >= 1 && clauses.length <= MAX_FILTER_CLAUSES && clauses.every((c) => !c.value.includes("'"));
      }),
      { numRuns: 3000 },
    );
  });

  it('reads an accepted text back from its canonical form, and that form is a fixed point', () => {
    fc.assert(
      fc.property(filterText, (text) => {
        const r = attempt(() => parseFilter(text));
        if ('error' in r) return true;
        const canonical = formatFilter(r.node);
        return isDeepStrictEqual(parseFilter(canonical), r.node) && formatFilter(parseFilter(canonical)) === canonical;
      }),
      { numRuns: 2000 },
    );
  });

  it('stays iterative and bounded on very long input (no stack overflow, no echo)', () => {
    const piece = fc.oneof(filterToken.filter((t) => t.length > 0), fc.constantFrom("a='1' AND ", "a='1' OR ", '((((', "'", 'a', ' '));
    fc.assert(
      fc.property(piece, fc.integer({ min: 1_000, max: 200_000 }), fc.constantFrom('', "a='1'", "'", '('), (p, times, tail) => {
        const r = attempt(() => parseFilter(p.repeat(Math.ceil(times / p.length)) + tail));
        return 'node' in r || isFilterRefusal(r.error);
      }),
      { numRuns: 40 },
    );
  });
});

describe('readFilter: the filter checked against the fields of the caller version', () => {
  it('accepts exactly the parsed filters whose every field the entity knows, else invalid_filter 400', () => {
    fc.assert(
      fc.property(version, fc.constantFrom(...wrappers), filterText, (v, wrapper, text) => {
        const parsed = attempt(() => parseFilter(text));
        const read = attempt(() => readFilter(v, wrapper, text));
        if ('error' in read) return isFilterRefusal(read.error);
        const entity = entityOfWrapper(wrapper);
        if (!('node' in parsed) || !isDeepStrictEqual(parsed.node, read.node)) return false;
        if (entity === undefined) return true;
        // Own fields of the model only: never a name inherited from Object.prototype.
        const own = fieldsOf(v, entity) ?? {};
        return filterClauses(read.node).every((c) => knowsField(v, entity, c.field) && Object.hasOwn(own, c.field.split('.')[0]!));
      }),
      { numRuns: 2000 },
    );
  });

  it('refuses Object.prototype names as fields (regression: `constructor` passed the field check)', () => {
    for (const field of ['constructor', '__proto__', 'toString', 'hasOwnProperty', 'constructor.name']) {
      const r = attempt(() => readFilter('v1p1', 'users', `${field}='x'`));
      expect('error' in r && r.error.code).toBe('invalid_filter');
    }
  });

  it('treats wrappers that name no entity (Object.prototype keys included) as "no field check"', () => {
    const odd = fc.constantFrom('constructor', '__proto__', 'toString', 'hasOwnProperty', 'valueOf', '', 'nope');
    fc.assert(
      fc.property(version, odd, fc.constantFrom('hasOwnProperty', 'name', 'length', 'constructor'), (v, wrapper, field) => {
        expect(entityOfWrapper(wrapper)).toBeUndefined();
        expect(readFilter(v, wrapper, `${field}='x'`)).toEqual({ kind: 'clause', field, predicate: '=', value: 'x' });
      }),
    );
  });
});
