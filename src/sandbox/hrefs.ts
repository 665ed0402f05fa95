// Where each GUIDRef type lives on this server, so hrefs are absolute and resolvable.
// 1.1 has one base; 1.2 splits rostering, gradebook and resources into three services.

import type { GuidRef } from './render-common.js';
import type { SandboxVersion } from './types.js';

const COLLECTION_OF: Record<string, string> = {
  org: 'orgs', academicSession: 'academicSessions', term: 'terms', gradingPeriod: 'gradingPeriods',
  course: 'courses', class: 'classes', user: 'users', student: 'students', teacher: 'teachers',
  enrollment: 'enrollments', demographics: 'demographics', category: 'categories', lineItem: 'lineItems',
  result: 'results', resource: 'resources', scoreScale: 'scoreScales', assessmentLineItem: 'assessmentLineItems',
  assessmentResult: 'assessmentResults',
};

const V1P2_SERVICE: Record<string, string> = {
  category: 'gradebook', lineItem: 'gradebook', result: 'gradebook', scoreScale: 'gradebook',
  assessmentLineItem: 'gradebook', assessmentResult: 'gradebook', resource: 'resources',
};

export const ONEROSTER_ROOT = '/ims/oneroster';

export function serviceBase(version: SandboxVersion, service: 'rostering' | 'gradebook' | 'resources'): string {
  return version === 'v1p1' ? `${ONEROSTER_ROOT}/v1p1` : `${ONEROSTER_ROOT}/${service}/v1p2`;
}

/**
 * GUIDRefs are immutable, so each (type, id) is built once and shared by every rendering;
 * on large rosters this saves most of the allocation a filtered request would do.
 */
export function makeRefBuilder(version: SandboxVersion, origin: string): (type: string, sourcedId: string) => GuidRef {
  const cache = new Map<string, Map<string, GuidRef>>(); // type -> id -> ref (no concatenated keys to hash)
  return (type, sourcedId) => {
    let byId = cache.get(type);
    if (!byId) cache.set(type, (byId = new Map()));
    const hit = byId.get(sourcedId);
    if (hit) return hit;
    const service = version === 'v1p2' ? (V1P2_SERVICE[type] ?? 'rostering') : 'rostering';
    const collection = COLLECTION_OF[type] ?? `${type}s`;
    const href = `${origin}${serviceBase(version, service as 'rostering')}/${collection}/${encodeURIComponent(sourcedId)}`;
    const ref = Object.freeze({ href, sourcedId, type });
    byId.set(sourcedId, ref);
    return ref;
  };
}
