import { encodeRfc3986 } from '../../rfc3986.js';
import type { Service, Version } from '../endpoints.js';
import { baseCollection, serviceOf } from '../collections.js';
import { versionRoot } from '../paths.js';

// GUIDRefs are rebuilt, never passed on: the type word comes from the field (1.1 servers use
// a wider vocabulary, e.g. `term`, `student`, where 1.2 fixes `academicSession`, `user`), and
// the href points at the gateway in the caller's version, so following it stays on the
// gateway and in the version the app speaks.

export interface GuidRef {
  href: string;
  sourcedId: string;
  type: string;
}

const PATHS: Readonly<Record<string, string>> = {
  // 1.1's narrower words link to the collection that holds every record of the kind: a
  // `term` ref may name a semester, and /terms/{id} would not find it.
  org: 'orgs', academicSession: 'academicSessions', term: 'academicSessions', gradingPeriod: 'academicSessions',
  course: 'courses', class: 'classes', user: 'users', student: 'users', teacher: 'users',
  enrollment: 'enrollments', demographics: 'demographics', resource: 'resources', category: 'categories',
  lineItem: 'lineItems', result: 'results', scoreScale: 'scoreScales', assessmentLineItem: 'assessmentLineItems',
  assessmentResult: 'assessmentResults',
};

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/** The service a GUIDRef's type lives under: its collection's (an unknown type is rostering). */
function serviceOfType(type: string): Service {
  const collection = Object.hasOwn(PATHS, type) ? baseCollection(PATHS[type]!) : undefined;
  return collection ? serviceOf(collection) : 'rostering';
}

/** `{hrefBase}/v1p1/terms/x` or `{hrefBase}/rostering/v1p2/academicSessions/x`. */
export function hrefFor(hrefBase: string, version: Version, type: string, sourcedId: string): string {
  const path = PATHS[type] ?? `${type}s`;
  // A lone surrogate cannot be percent-encoded; one bad id must not fail the page.
  return `${hrefBase}${versionRoot(version, serviceOfType(type))}/${path}/${encodeRfc3986(sourcedId.replace(LONE_SURROGATE, '\uFFFD'))}`;
}

/** The sourcedId of a GUIDRef, or of a bare id string some servers send instead. */
export function refId(value: unknown): string | undefined {
  if (typeof value === 'string') return value || undefined;
  if (value && typeof value === 'object') {
    const id = (value as { sourcedId?: unknown }).sourcedId;
    if (typeof id === 'string' && id) return id;
    if (typeof id === 'number') return String(id);
  }
  return undefined;
}

export function guidRef(hrefBase: string, version: Version, type: string, value: unknown): GuidRef | undefined {
  const id = refId(value);
  return id === undefined ? undefined : { href: hrefFor(hrefBase, version, type, id), sourcedId: id, type };
}
