import { collectionTag, idTag, listTag, routeCollection, tagsForChange, tagsForRoute } from '../core/oneroster/cache-tags.js';
import type { BaseCollection } from '../core/oneroster/collections.js';
import { ENDPOINTS } from '../core/oneroster/endpoints.js';

/**
 * Every tag a change of `collection` could bump, with the ids left out: list:C, c:C for
 * id:C:*, and for each rel:P:* the id-free tag (list:<child>, else c:<child>) of every route
 * below a P, so an enrollment takes /classes/{id}/students, /users/{id}/classes and
 * /schools/{id}/enrollments with it. Derived from cache-tags.ts, so the two never disagree.
 */
function collectionWideTags(collection: BaseCollection): string[] {
  const probe = '\u0000any';
  const tags = new Set<string>();
  for (const t of tagsForChange(collection, { sourcedId: probe, class: probe, school: probe, user: probe })) {
    if (!t.endsWith(probe)) tags.add(t);
    else if (t === idTag(collection, probe)) tags.add(collectionTag(collection));
    else {
      for (const ep of ENDPOINTS) {
        const child = ep.kind === 'write' ? undefined : routeCollection(ep);
        if (!child) continue;
        const route = tagsForRoute(ep, ep.segments.filter((x) => x === '{id}').map(() => probe));
        if (route.includes(t)) tags.add(route.includes(listTag(child)) ? listTag(child) : collectionTag(child));
      }
    }
  }
  return [...tags];
}

const WIDE_TAGS = new Map<BaseCollection, string[]>();

/** collectionWideTags, computed once per collection. */
export const wideTagsOf = (c: BaseCollection): string[] => WIDE_TAGS.get(c) ?? WIDE_TAGS.set(c, collectionWideTags(c)).get(c)!;
