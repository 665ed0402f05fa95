// The 41 rostering read routes (identical relative paths in 1.1 and 1.2). Relationship
// routes answer 200 with an empty list for an unknown parent, since the 1.2 OpenAPI lists
// no 404 for them; single-object routes answer 404 unknownobject.

import { SandboxError } from './errors.js';
import type { CollectionName, EnrollmentRecord, RecordTypes } from './records.js';
import { compareIds } from './store.js';
import { param, route, type Route, type RouteContext, type RouteResult } from './route-types.js';

type Pred<C extends CollectionName> = (r: RecordTypes[C]) => boolean;

/** A list of the records of `collection` that satisfy `pred`, in sourcedId order. */
export function listOf<C extends CollectionName>(ctx: RouteContext, collection: C, wrapper: string, pred?: Pred<C>): RouteResult {
  const all = ctx.store.list(collection);
  return { kind: 'list', collection, wrapper, records: pred ? all.filter(pred) : all };
}

/** One record by :id, 404 unless it exists and satisfies `pred` (e.g. /schools/{id} must be a school). */
export function oneOf<C extends CollectionName>(ctx: RouteContext, collection: C, wrapper: string, pred?: Pred<C>): RouteResult {
  const id = param(ctx, 'id');
  const rec = ctx.store.get(collection, id);
  if (!rec || (pred && !pred(rec))) throw new SandboxError('unknownObject', `${wrapper} ${id} not found`);
  return { kind: 'one', collection, wrapper, record: rec };
}

export function idsList(ctx: RouteContext, collection: CollectionName, wrapper: string, ids: Iterable<string>): RouteResult {
  const records = [...new Set(ids)].sort(compareIds).flatMap((id) => ctx.store.get(collection, id) ?? []);
  return { kind: 'list', collection, wrapper, records };
}

/** Live (not tobedeleted) enrollments of a class, optionally of one role. */
function classEnrollments(ctx: RouteContext, classId: string, role?: string): readonly EnrollmentRecord[] {
  const all = ctx.store.groupBy('enrollments', 'classId').get(classId) ?? [];
  return all.filter((e) => e.status === 'active' && (role === undefined || e.role === role));
}

function usersOfClass(ctx: RouteContext, classId: string, role: 'student' | 'teacher', schoolId?: string): RouteResult {
  const cls = ctx.store.get('classes', classId);
  if (schoolId !== undefined && cls?.schoolId !== schoolId) return idsList(ctx, 'users', 'users', []);
  return idsList(ctx, 'users', 'users', classEnrollments(ctx, classId, role).map((e) => e.userId));
}

function classesOfUser(ctx: RouteContext, userId: string, role?: string): RouteResult {
  const all = ctx.store.groupBy('enrollments', 'userId').get(userId) ?? [];
  const live = all.filter((e) => e.status === 'active' && (role === undefined || e.role === role));
  return idsList(ctx, 'classes', 'classes', live.map((e) => e.classId));
}

const isStudent: Pred<'users'> = (u) => u.role === 'student';
const isTeacher: Pred<'users'> = (u) => u.role === 'teacher';
const isSchool: Pred<'orgs'> = (o) => o.type === 'school';
const isTerm: Pred<'academicSessions'> = (s) => s.type === 'term';
const isGradingPeriod: Pred<'academicSessions'> = (s) => s.type === 'gradingPeriod';

const r = (pattern: string, handle: (ctx: RouteContext) => RouteResult): Route => route('GET', 'rostering', pattern, handle);

export const rosteringRoutes: readonly Route[] = [
  r('/academicSessions', (c) => listOf(c, 'academicSessions', 'academicSessions')),
  r('/academicSessions/:id', (c) => oneOf(c, 'academicSessions', 'academicSession')),
  r('/classes', (c) => listOf(c, 'classes', 'classes')),
  r('/classes/:id', (c) => oneOf(c, 'classes', 'class')),
  r('/classes/:classId/students', (c) => usersOfClass(c, param(c, 'classId'), 'student')),
  r('/classes/:classId/teachers', (c) => usersOfClass(c, param(c, 'classId'), 'teacher')),
  r('/courses', (c) => listOf(c, 'courses', 'courses')),
  r('/courses/:id', (c) => oneOf(c, 'courses', 'course')),
  r('/courses/:courseId/classes', (c) => listOf(c, 'classes', 'classes', (k) => k.courseId === param(c, 'courseId'))),
  r('/demographics', (c) => listOf(c, 'demographics', 'demographics')),
  // The single-object wrapper is `demographics` too (1.2 OpenAPI SingleDemographicsDType).
  r('/demographics/:id', (c) => oneOf(c, 'demographics', 'demographics')),
  r('/enrollments', (c) => listOf(c, 'enrollments', 'enrollments')),
  r('/enrollments/:id', (c) => oneOf(c, 'enrollments', 'enrollment')),
  r('/gradingPeriods', (c) => listOf(c, 'academicSessions', 'academicSessions', isGradingPeriod)),
  r('/gradingPeriods/:id', (c) => oneOf(c, 'academicSessions', 'academicSession', isGradingPeriod)),
  r('/orgs', (c) => listOf(c, 'orgs', 'orgs')),
  r('/orgs/:id', (c) => oneOf(c, 'orgs', 'org')),
  r('/schools', (c) => listOf(c, 'orgs', 'orgs', isSchool)),
  r('/schools/:id', (c) => oneOf(c, 'orgs', 'org', isSchool)),
  r('/schools/:schoolId/classes', (c) => listOf(c, 'classes', 'classes', (k) => k.schoolId === param(c, 'schoolId'))),
  r('/schools/:schoolId/classes/:classId/enrollments', (c) =>
    listOf(c, 'enrollments', 'enrollments', (e) => e.classId === param(c, 'classId') && e.schoolId === param(c, 'schoolId'))),
  r('/schools/:schoolId/classes/:classId/students', (c) => usersOfClass(c, param(c, 'classId'), 'student', param(c, 'schoolId'))),
  r('/schools/:schoolId/classes/:classId/teachers', (c) => usersOfClass(c, param(c, 'classId'), 'teacher', param(c, 'schoolId'))),
  r('/schools/:schoolId/courses', (c) => listOf(c, 'courses', 'courses', (k) => k.orgId === param(c, 'schoolId'))),
  r('/schools/:schoolId/enrollments', (c) => listOf(c, 'enrollments', 'enrollments', (e) => e.schoolId === param(c, 'schoolId'))),
  r('/schools/:schoolId/students', (c) => listOf(c, 'users', 'users', (u) => isStudent(u) && u.orgIds.includes(param(c, 'schoolId')))),
  r('/schools/:schoolId/teachers', (c) => listOf(c, 'users', 'users', (u) => isTeacher(u) && u.orgIds.includes(param(c, 'schoolId')))),
  // Terms are district-wide here, so every school shares them; an unknown school has none.
  r('/schools/:schoolId/terms', (c) =>
    listOf(c, 'academicSessions', 'academicSessions', (s) => isTerm(s) && c.store.get('orgs', param(c, 'schoolId'))?.type === 'school')),
  r('/students', (c) => listOf(c, 'users', 'users', isStudent)),
  r('/students/:id', (c) => oneOf(c, 'users', 'user', isStudent)),
  r('/students/:userId/classes', (c) => classesOfUser(c, param(c, 'userId'), 'student')),
  r('/teachers', (c) => listOf(c, 'users', 'users', isTeacher)),
  r('/teachers/:id', (c) => oneOf(c, 'users', 'user', isTeacher)),
  r('/teachers/:userId/classes', (c) => classesOfUser(c, param(c, 'userId'), 'teacher')),
  r('/terms', (c) => listOf(c, 'academicSessions', 'academicSessions', isTerm)),
  r('/terms/:id', (c) => oneOf(c, 'academicSessions', 'academicSession', isTerm)),
  r('/terms/:termId/classes', (c) => listOf(c, 'classes', 'classes', (k) => k.termIds.includes(param(c, 'termId')))),
  r('/terms/:termId/gradingPeriods', (c) =>
    listOf(c, 'academicSessions', 'academicSessions', (s) => isGradingPeriod(s) && s.parentId === param(c, 'termId'))),
  r('/users', (c) => listOf(c, 'users', 'users')),
  r('/users/:id', (c) => oneOf(c, 'users', 'user')),
  r('/users/:userId/classes', (c) => classesOfUser(c, param(c, 'userId'))),
];

