import { baseCollection, type BaseCollection } from './collections.js';
import type { Endpoint } from './endpoints.js';

// Generation tags: every cached page depends on a few tags, and a change bumps a few tags,
// so invalidation is O(tags) and never scans keys. A page of collection C depends on
//   all            everything of the district (purge)
//   c:C            everything of collection C (purge of a collection)
//   list:C         every list of C records (any change to a C record shifts offsets)
//   id:C:x         the single object x
//   rel:P:p        membership below parent p of P that is defined by enrollments
//                  (/classes/{c}/students, /users/{u}/classes, /schools/{s}/enrollments)

export const ALL_TAG = 'all';
export const collectionTag = (c: BaseCollection) => `c:${c}`;
export const listTag = (c: BaseCollection) => `list:${c}`;
export const idTag = (c: BaseCollection, id: string) => `id:${c}:${id}`;
export const relTag = (c: BaseCollection, id: string) => `rel:${c}:${id}`;

/** The base collection whose records a route answers with (its last collection segment). */
export function routeCollection(endpoint: Endpoint): BaseCollection | undefined {
  const names = endpoint.segments.filter((s) => s !== '{id}');
  return baseCollection(names[names.length - 1]!);
}

/** The tags a cached answer of this route depends on; `params` are the path's ids in order. */
export function tagsForRoute(endpoint: Endpoint, params: readonly string[]): string[] {
  const child = routeCollection(endpoint);
  if (!child) return [ALL_TAG];
  const segs = endpoint.segments;
  const tags = [ALL_TAG, collectionTag(child)];
  if (endpoint.kind === 'single') return [...tags, idTag(child, params[params.length - 1]!)];
  if (segs.length === 1) return [...tags, listTag(child)];
  // Nested: the innermost parent scopes the membership (schools/{s}/classes/{c}/students → class c).
  const parentIndex = segs.length - 2;
  const parent = baseCollection(segs[parentIndex - 1]!) ?? child;
  tags.push(relTag(parent, params[params.length - 1]!));
  // An enrollment list below a parent changes only with that parent's enrollments.
  if (child !== 'enrollments') tags.push(listTag(child));
  // Lists a district derives from other records change with those records too.
  for (const source of DERIVED_FROM[endpoint.template] ?? []) tags.push(listTag(source));
  return tags;
}

/**
 * Lists whose members a district computes from records of another collection: a class's
 * categories are those of its line items (1.2 servers, and the gateway on a 1.1 district);
 * a user's resources are those of the user's classes and courses.
 */
const DERIVED_FROM: Readonly<Record<string, readonly BaseCollection[]>> = Object.freeze(
  Object.assign(Object.create(null) as Record<string, readonly BaseCollection[]>, {
    '/classes/{id}/categories': ['lineItems'],
    '/users/{id}/resources': ['classes', 'courses', 'enrollments'],
  }),
);

/**
 * Collections a write to `collection` may change besides its own: deleting a line item
 * takes its results with it at most districts (and the same holds for assessment line items).
 */
const CASCADES: Partial<Record<BaseCollection, readonly BaseCollection[]>> = {
  lineItems: ['results'],
  assessmentLineItems: ['assessmentResults'],
};

function refId(value: unknown): string | undefined {
  if (value && typeof value === 'object') {
    const id = (value as { sourcedId?: unknown }).sourcedId;
    return typeof id === 'string' ? id : undefined;
  }
  return typeof value === 'string' ? value : undefined;
}

/** The tags a changed (or deleted, or tobedeleted) record of `collection` bumps. */
export function tagsForChange(collection: BaseCollection, record: Record<string, unknown>): string[] {
  const tags = [listTag(collection)];
  const id = refId(record.sourcedId);
  if (id) tags.push(idTag(collection, id));
  if (collection === 'enrollments') {
    for (const [field, parent] of [['class', 'classes'], ['school', 'orgs'], ['user', 'users']] as const) {
      const pid = refId(record[field]);
      if (pid) tags.push(relTag(parent, pid));
    }
  }
  return tags;
}

/**
 * The tags a gradebook write bumps before its response returns: the written object and
 * every list of its collection (which covers the class's lineItems and results, the line
 * item's results and the student's results).
 */
export function tagsForWrite(endpoint: Endpoint, params: readonly string[], body: unknown): string[] {
  const collection = baseCollection(endpoint.wrapper) ?? routeCollection(endpoint);
  if (!collection) return [ALL_TAG];
  const record = body && typeof body === 'object' ? ((body as Record<string, unknown>)[endpoint.wrapper] as Record<string, unknown> | undefined) : undefined;
  const own = endpoint.segments.length === 2 && endpoint.method !== 'POST' ? params[0] : undefined;
  const tags = tagsForChange(collection, { ...(record && typeof record === 'object' && !Array.isArray(record) ? record : {}), ...(own ? { sourcedId: own } : {}) });
  // A delete may take single records of the other collection with it (each result of the
  // line item): every page of it goes. Any other write changes at most its lists.
  for (const other of CASCADES[collection] ?? []) tags.push(endpoint.method === 'DELETE' ? collectionTag(other) : listTag(other));
  return [...new Set(tags)];
}
