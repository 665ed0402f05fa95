// What each rostering read means over a district's whole data, for answering it from a copy
// of that data (the mirror) rather than asking the district: which collection, which records
// of it, and, for the routes that go through enrollments, which join. Written over the
// district's own records, so in its version's field names: a 1.1 user has `role` and
// `orgs[]`, a 1.2 user `roles[{role, org}]`.
//
// The meanings (reference §1.2; the same a conforming server gives them):
// - aliases narrow their base collection: /students and /teachers by role, /schools by org
//   type, /terms and /gradingPeriods by session type, and their single objects the same way;
// - a class's students and teachers are the users of its active enrollments in that role; a
//   user's classes the classes of the user's active enrollments (in that role for
//   /students/{id} and /teachers/{id});
// - a school's classes, enrollments and courses name it (`school`, `school`, `org`); its
//   students and teachers hold a role at it; its terms are the terms of the district (or of
//   the school, when sessions name an org), empty for an id that is not a school;
// - /schools/{s}/classes/{c}/... is the class's answer when the class is at that school,
//   else empty; a term's classes list it in `terms`, its grading periods have it as `parent`;
// - an unknown parent gives an empty list (the 1.2 OpenAPI lists no 404 for these), an
//   unknown single object 404.
import type { MirrorCollection } from './collections.js';
import type { Version } from './endpoints.js';
import { mapFilterClauses, type FilterNode } from './filter.js';
import { refId } from './mapping/guid-refs.js';
import type { Json } from './mapping/types.js';
import { fieldsOf, type Entity } from './model.js';

export type RoutePlan = ListPlan | { kind: 'single'; collection: MirrorCollection; id: string; where?: FilterNode };

export interface ListPlan {
  kind: 'list';
  collection: MirrorCollection;
  where?: FilterNode;
  /** Records of `via` matching `where` name the records of `collection` to list (by `pick.sourcedId`). */
  join?: { via: 'enrollments'; where: FilterNode; pick: 'user' | 'class' };
  /** A record that must exist (and match) for the list to be non-empty. */
  parent?: { collection: MirrorCollection; id: string; where?: FilterNode };
  /** A rule the filter grammar cannot say, applied to the listed records by the caller. */
  refine?: { parentOrg: string };
}

const eq = (field: string, value: string): FilterNode => ({ kind: 'clause', field, predicate: '=', value });
const and = (...nodes: FilterNode[]): FilterNode => nodes.reduce((left, right) => ({ kind: 'and', left, right }));

function hasRole(version: Version, role: string, org?: string): FilterNode {
  if (version === 'v1p1') return org === undefined ? eq('role', role) : and(eq('role', role), eq('orgs.sourcedId', org));
  return org === undefined ? eq('roles.role', role) : and(eq('roles.role', role), eq('roles.org.sourcedId', org));
}

const ACTIVE = eq('status', 'active');
const classMembers = (classId: string, role: string): ListPlan['join'] => ({ via: 'enrollments', where: and(eq('class.sourcedId', classId), eq('role', role), ACTIVE), pick: 'user' });
const userClasses = (userId: string, role?: string): ListPlan['join'] => ({
  via: 'enrollments',
  where: role === undefined ? and(eq('user.sourcedId', userId), ACTIVE) : and(eq('user.sourcedId', userId), eq('role', role), ACTIVE),
  pick: 'class',
});
const isSchool = eq('type', 'school');

/** The plan for a rostering GET, by its endpoint template and path ids; undefined for a route this does not cover. */
export function planRoute(template: string, params: readonly string[], version: Version): RoutePlan | undefined {
  const [a, b] = params;
  const list = (collection: MirrorCollection, rest: Omit<ListPlan, 'kind' | 'collection'> = {}): RoutePlan => ({ kind: 'list', collection, ...rest });
  const single = (collection: MirrorCollection, where?: FilterNode): RoutePlan => ({ kind: 'single', collection, id: a!, ...(where ? { where } : {}) });
  switch (template) {
    case '/orgs': return list('orgs');
    case '/orgs/{id}': return single('orgs');
    case '/schools': return list('orgs', { where: isSchool });
    case '/schools/{id}': return single('orgs', isSchool);
    case '/academicSessions': return list('academicSessions');
    case '/academicSessions/{id}': return single('academicSessions');
    case '/terms': return list('academicSessions', { where: eq('type', 'term') });
    case '/terms/{id}': return single('academicSessions', eq('type', 'term'));
    case '/gradingPeriods': return list('academicSessions', { where: eq('type', 'gradingPeriod') });
    case '/gradingPeriods/{id}': return single('academicSessions', eq('type', 'gradingPeriod'));
    case '/terms/{id}/gradingPeriods': return list('academicSessions', { where: and(eq('type', 'gradingPeriod'), eq('parent.sourcedId', a!)) });
    case '/terms/{id}/classes': return list('classes', { where: eq('terms.sourcedId', a!) });
    case '/courses': return list('courses');
    case '/courses/{id}': return single('courses');
    case '/courses/{id}/classes': return list('classes', { where: eq('course.sourcedId', a!) });
    case '/classes': return list('classes');
    case '/classes/{id}': return single('classes');
    case '/classes/{id}/students': return list('users', { join: classMembers(a!, 'student') });
    case '/classes/{id}/teachers': return list('users', { join: classMembers(a!, 'teacher') });
    case '/users': return list('users');
    case '/users/{id}': return single('users');
    case '/users/{id}/classes': return list('classes', { join: userClasses(a!) });
    case '/students': return list('users', { where: hasRole(version, 'student') });
    case '/students/{id}': return single('users', hasRole(version, 'student'));
    case '/students/{id}/classes': return list('classes', { join: userClasses(a!, 'student') });
    case '/teachers': return list('users', { where: hasRole(version, 'teacher') });
    case '/teachers/{id}': return single('users', hasRole(version, 'teacher'));
    case '/teachers/{id}/classes': return list('classes', { join: userClasses(a!, 'teacher') });
    case '/enrollments': return list('enrollments');
    case '/enrollments/{id}': return single('enrollments');
    case '/demographics': return list('demographics');
    case '/demographics/{id}': return single('demographics');
    case '/schools/{id}/classes': return list('classes', { where: eq('school.sourcedId', a!) });
    case '/schools/{id}/courses': return list('courses', { where: eq('org.sourcedId', a!) });
    case '/schools/{id}/enrollments': return list('enrollments', { where: eq('school.sourcedId', a!) });
    case '/schools/{id}/students': return list('users', { where: hasRole(version, 'student', a!) });
    case '/schools/{id}/teachers': return list('users', { where: hasRole(version, 'teacher', a!) });
    case '/schools/{id}/terms':
      return list('academicSessions', { where: eq('type', 'term'), parent: { collection: 'orgs', id: a!, where: isSchool }, refine: { parentOrg: a! } });
    case '/schools/{id}/classes/{id}/enrollments':
      return list('enrollments', { where: and(eq('class.sourcedId', b!), eq('school.sourcedId', a!)) });
    case '/schools/{id}/classes/{id}/students':
      return list('users', { join: classMembers(b!, 'student'), parent: { collection: 'classes', id: b!, where: eq('school.sourcedId', a!) } });
    case '/schools/{id}/classes/{id}/teachers':
      return list('users', { join: classMembers(b!, 'teacher'), parent: { collection: 'classes', id: b!, where: eq('school.sourcedId', a!) } });
    default:
      return undefined;
  }
}


/**
 * The refine rule of /schools/{id}/terms: a session that names an org belongs to that org;
 * one naming none belongs to every school of the district. `school` is the school record.
 */
export function sessionOfSchool(session: Json, school: Json): boolean {
  const org = refId(session.org);
  if (org === undefined) return true;
  return org === school.sourcedId || org === refId(school.parent);
}

// A client's filter and sort as the district reads them over its records. A name that ends at a
// GUIDRef (`school='x'`, `orgs!='x'`, `roles.org='x'`, `sort=course`) means the reference's
// sourcedId to a district (the sandbox compares and orders references so); the gateway's own
// evaluation (filter.ts, record-order.ts) reaches no value in an object. The mirror stands in
// for the district, so it spells the sourcedId out before the store evaluates the name.

/** Sub-fields of structured fields that hold a GUIDRef (the model names sub-fields, not their kinds). */
const REF_SUBS: Readonly<Record<string, readonly string[]>> = { 'users.roles': ['org'] };

/** `path` as the district reads it: with `.sourcedId` added when it ends at a GUIDRef. */
export function districtPath(version: Version, entity: Entity, path: string): string {
  const [top, sub, ...rest] = path.split('.');
  const fields = fieldsOf(version, entity);
  const spec = fields && Object.hasOwn(fields, top!) ? fields[top!] : undefined;
  if (!spec || rest.length > 0) return path;
  if (sub === undefined) return spec.kind === 'ref' || spec.kind === 'refs' ? `${path}.sourcedId` : path;
  return REF_SUBS[`${entity}.${top}`]?.includes(sub) ? `${path}.sourcedId` : path;
}

/** A filter as the district reads it (districtPath on every clause). */
export function districtFilter(version: Version, entity: Entity, node: FilterNode): FilterNode {
  return mapFilterClauses(node, (c) => ({ ...c, field: districtPath(version, entity, c.field) }))!;
}
