import { GatewayError } from '../errors.js';
import type { Version } from './endpoints.js';
import { filterClauses, parseFilter, type FilterNode } from './filter.js';
import { entityOfWrapper, knowsField } from './model.js';

/**
 * A `filter` as the caller wrote it, parsed and checked against the fields of the entity in
 * the caller's version, so a typo or a field of the other version is a 400 before any
 * upstream call (1.2 lists unknown filter fields under 400 invalid_filter_field).
 */
export function readFilter(version: Version, wrapper: string, text: string): FilterNode {
  const node = parseFilter(text);
  const entity = entityOfWrapper(wrapper);
  if (!entity) return node;
  for (const c of filterClauses(node)) {
    if (!knowsField(version, entity, c.field)) {
      throw new GatewayError(
        'invalid_filter',
        `"${c.field.slice(0, 64)}" is not a field of ${entity} in OneRoster ${version}; filter on a field of that version's model.`,
      );
    }
  }
  return node;
}
