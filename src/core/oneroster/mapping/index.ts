// v1p1 ⇄ v1p2: records, queries and the lookups a mapping needs. Pure: callers fetch.
export { mapRecord, mappingNeeds } from './convert.js';
export { hrefFor, refId } from './guid-refs.js';
export { translateQuery, type TranslatedQuery } from './query-translation.js';
export type { Json, MapContext, MapNeeds } from './types.js';
export { roleToV1p1, roleToV1p2 } from './users.js';
