// Records of a mirrored copy in the version a caller speaks: the version bridge's mappers, with
// the facts a mapping needs (org types, classes' schools) read from the same copy. Shared by
// the mirrored reads and the change feed.
import { mapRecord, mappingNeeds, refId, type Json, type MapContext } from '../core/oneroster/mapping/index.js';
import type { Version } from '../core/oneroster/endpoints.js';
import type { Entity } from '../core/oneroster/model.js';
import { MIRROR_ROOT } from '../mirror/pull-page.js';
import type { CopyMeta, MirrorStore } from '../mirror/types.js';

export function createRecordMapper(store: MirrorStore) {
  /** Facts the cross-version mapping needs (org types, classes' schools), read from the same copy. */
  async function contextFor(copy: CopyMeta, entity: Entity, records: readonly Json[], to: Version): Promise<MapContext> {
    const needs = mappingNeeds(entity, records, copy.recordsVersion, to);
    const orgs = new Map<string, string | undefined>();
    const classes = new Map<string, string | undefined>();
    await Promise.all([
      ...[...needs.orgs].map(async (id) => orgs.set(id, ((await store.get(copy, 'orgs', id))?.type as string | undefined) ?? undefined)),
      ...[...needs.classes].map(async (id) => classes.set(id, refId((await store.get(copy, 'classes', id))?.school))),
    ]);
    return { hrefBase: MIRROR_ROOT, orgType: (id) => orgs.get(id), classSchool: (id) => classes.get(id) };
  }

  /** The copy's records (in the district's version) in version `to`; hrefs stay rooted at MIRROR_ROOT. */
  return async function toVersion(copy: CopyMeta, entity: Entity, records: readonly Json[], to: Version): Promise<Json[]> {
    if (to === copy.recordsVersion) return records as Json[];
    const ctx = await contextFor(copy, entity, records, to);
    return records.map((r) => mapRecord(entity, r, copy.recordsVersion, to, ctx));
  };
}
