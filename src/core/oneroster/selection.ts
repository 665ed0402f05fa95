import { GatewayError } from '../errors.js';
import type { Version } from './endpoints.js';
import { entityOfWrapper, knowsField } from './model.js';

// `sort` and `fields` as the caller wrote them, checked against the entity's fields in the
// caller's (path) version by the route plan, before any upstream call. Left to the district,
// the answer to a bad name would depend on who is asked: 1.1 servers answer 200 with a
// warning (reference §4.2), 1.2 servers 400, and a district of the other version would be
// asked about a name its model does not even define.
//
// A sort names exactly one field, and the same names a filter may (model.ts `knowsField`): a
// top-level field of the entity, or `field.sub` where the model knows the sub-field (a
// GUIDRef's sourcedId, href or type; a structured field's known sub-field such as
// `roles.role`; anything below `metadata`). Names are case-sensitive and taken as sent: no
// padding and no comma list, because a sort is forwarded as sent and ` familyName` or
// `familyName,givenName` would reach the district unchecked. Whether a district orders by a
// dotted name is its own affair (the version bridge orders by it itself when it translates).
//
// `fields` names top-level fields only: a projection keeps or drops whole fields (the spec's
// `fields=givenName,familyName`, the version bridge's and the districts' projections).
// Entries are trimmed and repeats dropped, so `sourcedId, familyName` is `sourcedId,familyName`.

const MAX_NAME_IN_MESSAGE = 64;
const quote = (name: string) => `"${name.slice(0, MAX_NAME_IN_MESSAGE)}"`;

/** The `sort` of a collection read; 400 invalid_sort (invalid_sort_field) when it names no field of the entity in `version`. */
export function readSort(version: Version, wrapper: string, text: string): string {
  const entity = entityOfWrapper(wrapper);
  if (entity && !knowsField(version, entity, text)) {
    throw new GatewayError(
      'invalid_sort',
      `Cannot sort ${entity} by ${quote(text)}: sort names one field of ${entity} in OneRoster ${version}.`,
    );
  }
  return text;
}

/** The names of a `fields` list, trimmed and without repeats; 400 invalid_selection (invalid_selection_field) for a name that is not a top-level field of the entity in `version`. */
export function readFields(version: Version, wrapper: string, text: string): string[] {
  const names = [...new Set(text.split(',').map((f) => f.trim()).filter(Boolean))];
  const entity = entityOfWrapper(wrapper);
  if (!entity) return names;
  const unknown = names.filter((f) => f.includes('.') || !knowsField(version, entity, f));
  if (unknown.length > 0) {
    throw new GatewayError(
      'invalid_selection',
      `Unknown field(s) for ${entity} in OneRoster ${version}: ${unknown.slice(0, 5).map(quote).join(', ')}; fields lists top-level fields of that version's model.`,
    );
  }
  return names;
}
